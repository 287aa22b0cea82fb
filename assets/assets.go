// Package assets holds files the project ships inside its binaries: the sample
// carousel images that the backend serves at /images/{name} when no bucket is
// configured, and that the s3-sync stage uploads to the bucket's images/ prefix.
package assets

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:generate go run gen.go

// Carousel holds the sample images under "carousel/", e.g. "carousel/sample-1.png".
//
//go:embed carousel/*.png
var Carousel embed.FS

// carouselDir is the directory inside Carousel that holds the images.
const carouselDir = "carousel"

// Image is one bundled image file.
type Image struct {
	Name        string // base name, e.g. "sample-1.png"
	ContentType string // e.g. "image/png"
	Data        []byte
}

// contentTypes maps the extensions we bundle to their media type; a fixed table
// rather than mime.TypeByExtension, whose answer depends on the host's mime files.
var contentTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".svg":  "image/svg+xml",
	".webp": "image/webp",
}

// CarouselImages returns every bundled carousel image, sorted by name.
func CarouselImages() ([]Image, error) {
	entries, err := fs.ReadDir(Carousel, carouselDir)
	if err != nil {
		return nil, fmt.Errorf("list bundled carousel images: %w", err)
	}
	images := make([]Image, 0, len(entries))
	for _, e := range entries {
		img, err := CarouselImage(e.Name())
		if err != nil {
			return nil, err
		}
		images = append(images, img)
	}
	sort.Slice(images, func(i, j int) bool { return images[i].Name < images[j].Name })
	return images, nil
}

// CarouselImage returns the bundled image with the given base name; the error
// wraps fs.ErrNotExist when there is none.
func CarouselImage(name string) (Image, error) {
	if name == "" || path.Base(name) != name || name == "." || name == ".." {
		return Image{}, fmt.Errorf("bundled image %q: %w", name, fs.ErrNotExist)
	}
	data, err := fs.ReadFile(Carousel, path.Join(carouselDir, name))
	if err != nil {
		return Image{}, fmt.Errorf("bundled image %q: %w", name, err)
	}
	return Image{Name: name, ContentType: ContentType(name), Data: data}, nil
}

// ContentType returns the media type for an image file name, or
// "application/octet-stream" for an extension it does not know.
func ContentType(name string) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return ct
	}
	return "application/octet-stream"
}
