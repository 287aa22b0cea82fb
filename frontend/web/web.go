// Package web holds the page that the frontend server serves: plain HTML, CSS
// and JavaScript with no build step, embedded into the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Static returns the page's files, rooted so that "index.html" is at the top.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		// fs.Sub only fails on an invalid path, and "static" is a constant.
		panic(err)
	}
	return sub
}
