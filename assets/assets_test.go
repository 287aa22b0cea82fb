package assets

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"image/png"
	"io/fs"
	"testing"
)

func TestCarouselImages(t *testing.T) {
	images, err := CarouselImages()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sample-1.png", "sample-2.png", "sample-3.png", "sample-4.png"}
	if len(images) != len(want) {
		t.Fatalf("got %d images, want %d", len(images), len(want))
	}
	seen := map[[32]byte]string{}
	for i, img := range images {
		if img.Name != want[i] {
			t.Errorf("image %d is %q, want %q", i, img.Name, want[i])
		}
		if img.ContentType != "image/png" {
			t.Errorf("%s: content type %q", img.Name, img.ContentType)
		}
		if n := len(img.Data); n == 0 || n >= 30*1024 {
			t.Errorf("%s: %d bytes, want 1..30 KiB", img.Name, n)
		}
		if _, err := png.Decode(bytes.NewReader(img.Data)); err != nil {
			t.Errorf("%s: not a PNG: %v", img.Name, err)
		}
		sum := sha256.Sum256(img.Data)
		if other, dup := seen[sum]; dup {
			t.Errorf("%s has the same bytes as %s", img.Name, other)
		}
		seen[sum] = img.Name
	}
}

func TestCarouselImageRejectsPaths(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../assets.go", "carousel/sample-1.png", "missing.png"} {
		if _, err := CarouselImage(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("CarouselImage(%q) error = %v, want fs.ErrNotExist", name, err)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := map[string]string{
		"a.png": "image/png", "b.JPG": "image/jpeg", "c.svg": "image/svg+xml", "d.txt": "application/octet-stream",
	}
	for name, want := range tests {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}
