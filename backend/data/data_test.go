package data_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/myappctl/myappctl/assets"
	"github.com/myappctl/myappctl/backend/data"
	"github.com/myappctl/myappctl/backend/internal/carousel"
)

// Every entry of the bundled list must name a bundled image, so the page never shows a broken picture.
func TestBundledListPointsAtBundledImages(t *testing.T) {
	images, err := carousel.Parse(data.CarrouselJSON())
	if err != nil {
		t.Fatal(err)
	}
	if len(images) == 0 {
		t.Fatal("the bundled carousel list is empty")
	}
	for _, img := range images {
		name, ok := strings.CutPrefix(img.URL, "/images/")
		if !ok {
			t.Errorf("%q does not point under /images/", img.URL)
			continue
		}
		if _, err := assets.CarouselImage(name); errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%q names no bundled image", img.URL)
		}
	}
}
