package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/myappctl/myappctl/backend/data"
	"github.com/myappctl/myappctl/backend/internal/api"
	"github.com/myappctl/myappctl/backend/internal/carousel"
	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/backend/internal/testdb"
)

// backend is one way of getting a fresh store; every contract test runs on each.
type backend struct {
	name string
	open func(testing.TB) *store.SQL
}

var backends = []backend{
	{"sqlite", func(tb testing.TB) *store.SQL { return testdb.SQLite(tb) }},
	{"mysql", func(tb testing.TB) *store.SQL { return testdb.MySQL(tb) }},
}

// forEachBackend runs f once per store implementation.
func forEachBackend(t *testing.T, f func(t *testing.T, open func(testing.TB) *store.SQL)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.open) })
	}
}

// apiServer is the API on a real HTTP server, with its log captured.
type apiServer struct {
	*httptest.Server
	logs *syncBuffer
}

type serverOptions struct {
	carouselURL string
	corsOrigin  string
	discardLogs bool // format log lines as in production but drop them (benchmarks)
}

func newServer(tb testing.TB, s store.Store, opts serverOptions) *apiServer {
	tb.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.discardLogs {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	fallback, err := carousel.Parse(data.CarrouselJSON())
	if err != nil {
		tb.Fatal(err)
	}
	h, err := api.New(api.Options{
		Store:         s,
		Carousel:      carousel.New(carousel.Options{URL: opts.carouselURL, Fallback: fallback, Logger: log, Timeout: time.Second}),
		CORSOrigin:    opts.corsOrigin,
		Logger:        log,
		HealthTimeout: time.Second,
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &apiServer{Server: srv, logs: logs}
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *apiServer) do(t testing.TB, method, path, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// todo mirrors the wire format; decoding with unknown fields disallowed checks it has no extras.
type todo struct {
	ID        string `json:"_id"`
	Title     string `json:"title"`
	Label     string `json:"label"`
	Completed bool   `json:"completed"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("response %d %q is not the expected JSON: %v", r.status, r.body, err)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return v
}

func mustStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
}

func (s *apiServer) create(t testing.TB, body string) todo {
	t.Helper()
	r := s.do(t, "POST", "/todo", body)
	mustStatus(t, r, http.StatusCreated)
	return decode[todo](t, r)
}

func (s *apiServer) list(t testing.TB) []todo {
	t.Helper()
	r := s.do(t, "GET", "/todo", "")
	mustStatus(t, r, http.StatusOK)
	return decode[[]todo](t, r)
}

func parseTime(t testing.TB, field, v string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatalf("%s %q is not RFC 3339: %v", field, v, err)
	}
	return ts
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
