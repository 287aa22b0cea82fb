package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func newTestServer(t *testing.T, apiURL string) *Server {
	t.Helper()
	s, err := New(Config{APIURL: apiURL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfigJSON(t *testing.T) {
	s := newTestServer(t, "http://backend-lb.example.com:8090/")
	res := get(t, s, "/config.json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	var cfg map[string]string
	if err := json.NewDecoder(res.Body).Decode(&cfg); err != nil {
		t.Fatalf("decoding config.json: %v", err)
	}
	if len(cfg) != 1 || cfg["apiUrl"] != "http://backend-lb.example.com:8090" {
		t.Errorf("config.json = %v, want only apiUrl without the trailing slash", cfg)
	}
	wantHeaders(t, res, map[string]string{
		"Content-Type":           "application/json",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	})
}

func TestConfigJSONDefaultsAPIURL(t *testing.T) {
	s := newTestServer(t, "")
	if got := body(t, get(t, s, "/config.json")); got != `{"apiUrl":"http://localhost:8080"}` {
		t.Errorf("config.json = %s", got)
	}
}

func TestIndexServed(t *testing.T) {
	s := newTestServer(t, "http://localhost:8080")
	for _, path := range []string{"/", "/index.html"} {
		res := get(t, s, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, res.StatusCode)
		}
		wantHeaders(t, res, map[string]string{
			"Content-Type":           "text/html; charset=utf-8",
			"Cache-Control":          "no-cache",
			"X-Content-Type-Options": "nosniff",
		})
		b := body(t, res)
		for _, want := range []string{`<html lang="en">`, `src="app.js"`, `href="style.css"`, `id="todo-list"`, `id="carousel"`} {
			if !strings.Contains(b, want) {
				t.Errorf("GET %s: page lacks %s", path, want)
			}
		}
		if strings.Contains(b, "http://localhost:8080") {
			t.Errorf("GET %s: the API URL is baked into the page; it must come from config.json", path)
		}
	}
}

func TestAssetsHaveTypesAndCaching(t *testing.T) {
	s := newTestServer(t, "http://localhost:8080")
	types := map[string]string{
		"/app.js":      "text/javascript; charset=utf-8",
		"/api.js":      "text/javascript; charset=utf-8",
		"/todos.js":    "text/javascript; charset=utf-8",
		"/carousel.js": "text/javascript; charset=utf-8",
		"/style.css":   "text/css; charset=utf-8",
		"/favicon.svg": "image/svg+xml",
	}
	for path, ct := range types {
		res := get(t, s, path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", path, res.StatusCode)
			continue
		}
		wantHeaders(t, res, map[string]string{
			"Content-Type":           ct,
			"Cache-Control":          "public, max-age=300",
			"X-Content-Type-Options": "nosniff",
		})
		etag := res.Header.Get("ETag")
		if len(etag) < 10 || !strings.HasPrefix(etag, `"`) {
			t.Errorf("GET %s: ETag %q, want a quoted content hash", path, etag)
		}
		again := get(t, s, path, "If-None-Match", etag)
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: status %d, want 304", path, again.StatusCode)
		}
	}
}

func TestETagFollowsContent(t *testing.T) {
	etagOf := func(content string) string {
		s, err := New(Config{Files: fstest.MapFS{
			"index.html": {Data: []byte("<!doctype html>")},
			"app.js":     {Data: []byte(content)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return get(t, s, "/app.js").Header.Get("ETag")
	}
	if a, b := etagOf("one"), etagOf("two"); a == b {
		t.Errorf("different content, same ETag %s", a)
	}
	if a, b := etagOf("same"), etagOf("same"); a != b {
		t.Errorf("same content, ETags %s and %s", a, b)
	}
}

func TestNotFound(t *testing.T) {
	s := newTestServer(t, "http://localhost:8080")
	for _, path := range []string{"/nope", "/todo", "/static/app.js", "/app.js/", "/.git/config", "/index.htm"} {
		res := get(t, s, path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
			continue
		}
		wantHeaders(t, res, map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := newTestServer(t, "http://localhost:8080")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/config.json", strings.NewReader("{}")))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /config.json: status %d, want 405", rec.Code)
	}
}

func TestHeadIndex(t *testing.T) {
	s := newTestServer(t, "http://localhost:8080")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD /: status %d, %d body bytes", rec.Code, rec.Body.Len())
	}
}

func TestHealthz(t *testing.T) {
	s := newTestServer(t, "http://localhost:8080")
	res := get(t, s, "/healthz")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := body(t, res); strings.TrimSpace(got) != "ok" {
		t.Errorf("body %q, want ok", got)
	}
	wantHeaders(t, res, map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
}

func TestSecurityPolicyAllowsOnlyTheAPI(t *testing.T) {
	s := newTestServer(t, "https://api.example.com:8443/base")
	csp := get(t, s, "/").Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self' https://api.example.com:8443;", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
}

func TestBadAPIURLRejected(t *testing.T) {
	for _, raw := range []string{"localhost:8080", "ftp://x", "http://", "not a url"} {
		if _, err := New(Config{APIURL: raw}); err == nil {
			t.Errorf("New with APIURL %q succeeded, want an error", raw)
		} else if !strings.Contains(err.Error(), "APIURL") {
			t.Errorf("New with APIURL %q: error %q does not name APIURL", raw, err)
		}
	}
}

func TestMissingIndexRejected(t *testing.T) {
	_, err := New(Config{Files: fstest.MapFS{"app.js": {Data: []byte("")}}})
	if err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("New without index.html: %v", err)
	}
}

func TestRequestsAreLogged(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := New(Config{APIURL: "http://localhost:8080", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	get(t, s, "/nope")
	get(t, s, "/healthz")
	out := buf.String()
	if !strings.Contains(out, "path=/nope") || !strings.Contains(out, "status=404") {
		t.Errorf("log %q lacks the 404 request", out)
	}
	if strings.Contains(out, "/healthz") {
		t.Errorf("health checks are logged at info level: %q", out)
	}
}

func wantHeaders(t *testing.T, res *http.Response, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", res.Request.Method, res.Request.URL.Path, k, got, v)
		}
	}
}

func TestSetAPIURLServedAtOnce(t *testing.T) {
	s := newTestServer(t, "http://old-lb.example.com:8090")
	if err := s.SetAPIURL("https://new-lb.example.com:8443/"); err != nil {
		t.Fatal(err)
	}
	res := get(t, s, "/config.json")
	if got := body(t, res); got != `{"apiUrl":"https://new-lb.example.com:8443"}` {
		t.Errorf("config.json = %s", got)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://new-lb.example.com:8443;") {
		t.Errorf("the security policy does not follow: %s", csp)
	}

	err := s.SetAPIURL("ftp://secret-host-3301")
	if err == nil || !strings.HasPrefix(err.Error(), "APIURL must start with http://") || strings.Contains(err.Error(), "3301") {
		t.Errorf("SetAPIURL(bad) = %v: want APIURL named, the value not quoted", err)
	}
	if got := body(t, get(t, s, "/config.json")); got != `{"apiUrl":"https://new-lb.example.com:8443"}` || s.APIURL() != "https://new-lb.example.com:8443" {
		t.Errorf("after a bad URL config.json = %s, want the last good one", got)
	}
}

func TestApplySettingsPrefersTheParameter(t *testing.T) {
	s := newTestServer(t, "")
	apply := s.ApplySettings(func(k string) string { return map[string]string{"APIURL": "http://from-env:8080"}[k] })
	for _, c := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"APIURL": "http://from-param:8090"}, "http://from-param:8090"},
		{map[string]string{}, "http://from-env:8080"}, // the parameter deleted: the environment again
	} {
		if err := apply(t.Context(), c.params); err != nil || s.APIURL() != c.want {
			t.Errorf("apply(%v): APIURL %s, %v; want %s", c.params, s.APIURL(), err, c.want)
		}
	}
}
