package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/myappctl/myappctl/assets"
)

func TestCORS(t *testing.T) {
	tests := []struct {
		name, configured, origin, wantAllow string
	}{
		{"default is open", "", "http://lb.example", "*"},
		{"star", "*", "http://lb.example", "*"},
		{"listed origin", "http://a.example, http://lb.example", "http://lb.example", "http://lb.example"},
		{"other origin", "http://a.example", "http://evil.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, backends[0].open(t), serverOptions{corsOrigin: tt.configured})
			pre := srv.do(t, "OPTIONS", "/todo/1", "", "Origin", tt.origin,
				"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type")
			mustStatus(t, pre, http.StatusNoContent)
			if got := pre.header.Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("preflight Allow-Origin = %q, want %q", got, tt.wantAllow)
			}
			if got := pre.header.Get("Access-Control-Allow-Methods"); got != "GET, POST, PUT, DELETE, OPTIONS" {
				t.Errorf("Allow-Methods = %q", got)
			}
			if got := pre.header.Get("Access-Control-Allow-Headers"); got != "Content-Type" {
				t.Errorf("Allow-Headers = %q", got)
			}
			get := srv.do(t, "GET", "/todo", "", "Origin", tt.origin)
			if got := get.header.Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("GET Allow-Origin = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestCarouselFallbackURLsPointAtThisBackend(t *testing.T) {
	srv := newServer(t, backends[0].open(t), serverOptions{})
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		path, proto, wantPrefix string
	}{
		{"/carrousel", "", "http://" + host + "/images/"},
		{"/carrousel.json", "", "http://" + host + "/images/"},
		{"/carrousel", "https", "https://" + host + "/images/"},
		{"/carrousel", "HTTPS, http", "https://" + host + "/images/"},
		{"/carrousel", "gopher", "http://" + host + "/images/"},
	}
	for _, tt := range tests {
		var hdr []string
		if tt.proto != "" {
			hdr = []string{"X-Forwarded-Proto", tt.proto}
		}
		r := srv.do(t, "GET", tt.path, "", hdr...)
		mustStatus(t, r, http.StatusOK)
		images := decode[[]struct {
			URL string `json:"url"`
		}](t, r)
		if len(images) != 4 {
			t.Fatalf("%s: %d images, want the 4 bundled ones", tt.path, len(images))
		}
		for _, img := range images {
			if !strings.HasPrefix(img.URL, tt.wantPrefix) {
				t.Errorf("%s (proto %q): url %q, want prefix %q", tt.path, tt.proto, img.URL, tt.wantPrefix)
			}
			// And the URL really serves the picture.
			resp, err := http.Get(strings.Replace(img.URL, "https://", "http://", 1))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
				t.Errorf("GET %s: %s %s", img.URL, resp.Status, resp.Header.Get("Content-Type"))
			}
		}
		if got := r.header.Get("X-Carousel-Source"); got != "fallback" {
			t.Errorf("X-Carousel-Source = %q, want fallback", got)
		}
	}
}

func TestCarouselFromUpstream(t *testing.T) {
	const list = `[{"url":"https://carrousel-myapp.s3.amazonaws.com/images/a.png"}]`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(list))
	}))
	t.Cleanup(up.Close)
	srv := newServer(t, backends[0].open(t), serverOptions{carouselURL: up.URL + "/carrousel/carrousel.json"})
	r := srv.do(t, "GET", "/carrousel", "")
	mustStatus(t, r, http.StatusOK)
	if got := strings.TrimSpace(string(r.body)); got != list {
		t.Errorf("body %s, want %s", got, list)
	}
}

func TestImages(t *testing.T) {
	srv := newServer(t, backends[0].open(t), serverOptions{})
	want, err := assets.CarouselImage("sample-2.png")
	if err != nil {
		t.Fatal(err)
	}
	r := srv.do(t, "GET", "/images/sample-2.png", "")
	mustStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, want.Data) || r.header.Get("Content-Type") != "image/png" {
		t.Errorf("got %d bytes of %s, want the bundled image", len(r.body), r.header.Get("Content-Type"))
	}
	etag := r.header.Get("ETag")
	mustStatus(t, srv.do(t, "GET", "/images/sample-2.png", "", "If-None-Match", etag), http.StatusNotModified)
	for _, name := range []string{"nope.png", "..%2Fassets.go", "%2E%2E"} {
		if r := srv.do(t, "GET", "/images/"+name, ""); r.status != http.StatusNotFound {
			t.Errorf("GET /images/%s: %d, want 404", name, r.status)
		}
	}
}

func TestRequestLog(t *testing.T) {
	srv := newServer(t, backends[0].open(t), serverOptions{})
	srv.do(t, "POST", "/todo", `{"title":"logged"}`)
	srv.do(t, "GET", "/health", "")
	logs := srv.logs.String()
	for _, want := range []string{"level=INFO msg=request method=POST path=/todo status=201 bytes=", "level=DEBUG msg=request method=GET path=/health status=200"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestUnknownMethodIsNotAServerError(t *testing.T) {
	srv := newServer(t, backends[0].open(t), serverOptions{})
	if r := srv.do(t, "PATCH", "/todo/1", `{}`); r.status != http.StatusMethodNotAllowed {
		t.Errorf("PATCH: %d, want 405", r.status)
	}
}
