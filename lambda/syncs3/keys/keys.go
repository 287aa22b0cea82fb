// Package keys holds the object-key rules the carousel index is built with:
// which keys are images, and how a key is written into a public URL. The
// syncS3Bucket Lambda uses them when it rewrites the index, and myappctl's
// s3-sync stage uses them for the initial index, so both write the same URLs.
package keys

import (
	"path"
	"strings"
)

// imageExtensions are the file types the carousel page can show.
var imageExtensions = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".svg": true,
}

// IsImage reports whether key names an image file: not a "folder" marker, and with an image extension in any
// letter case.
func IsImage(key string) bool {
	if key == "" || strings.HasSuffix(key, "/") {
		return false
	}
	return imageExtensions[strings.ToLower(path.Ext(key))]
}

// Escape percent-encodes each path segment of an object key for use in a URL: every byte outside the RFC 3986
// unreserved set (A-Z a-z 0-9 - . _ ~) becomes %XX, so spaces, '+', '%' and UTF-8 survive the trip to S3 intact,
// while the slashes between segments are kept. (url.PathEscape leaves '+' alone, which S3 may read as a space.)
func Escape(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '/' || isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0F])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
