package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/myappctl/myappctl/assets"
	"github.com/myappctl/myappctl/backend/internal/carousel"
)

// carouselList answers [{"url": ...}], with path-only URLs (the bundled list's
// /images/...) made absolute for this backend, so the page can load them.
func (s *server) carouselList(w http.ResponseWriter, r *http.Request) {
	images, origin := s.carousel.Get(r.Context())
	w.Header().Set("X-Carousel-Source", string(origin))
	writeJSON(w, http.StatusOK, carousel.Resolve(images, baseURL(r)))
}

// baseURL is how the client reached us: scheme (X-Forwarded-Proto from a load
// balancer wins) and Host.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ","); proto != "" {
		switch p := strings.ToLower(strings.TrimSpace(proto)); p {
		case "http", "https":
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// image is a bundled carousel image with its precomputed ETag.
type image struct {
	assets.Image
	etag string
}

func loadImages() (map[string]image, error) {
	list, err := assets.CarouselImages()
	if err != nil {
		return nil, err
	}
	images := make(map[string]image, len(list))
	for _, img := range list {
		sum := sha256.Sum256(img.Data)
		images[img.Name] = image{Image: img, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return images, nil
}

// image serves a bundled sample image, with ETag and Range support.
func (s *server) image(w http.ResponseWriter, r *http.Request) {
	img, ok := s.images[r.PathValue("name")]
	if !ok {
		writeError(w, http.StatusNotFound, "no image %q", r.PathValue("name"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", img.ContentType)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", img.etag)
	http.ServeContent(w, r, img.Name, time.Time{}, bytes.NewReader(img.Data))
}
