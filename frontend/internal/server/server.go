// Package server is the frontend's HTTP server: it serves the embedded page and
// tells it, through /config.json, which API to call, so that relinking the
// frontend to another backend needs neither a rebuild nor a restart.
package server

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/myappctl/myappctl/frontend/web"
	"github.com/myappctl/myappctl/internal/httpserve"
)

// Cache policies. The page itself is revalidated on every load so a new deploy
// shows at once; its CSS/JS/images may be reused for a few minutes and are
// then revalidated cheaply through their content-hash ETag.
const (
	cacheIndex  = "no-cache"
	cacheAsset  = "public, max-age=300"
	cacheNever  = "no-store"
	indexPath   = "/index.html"
	contentJSON = "application/json"
)

// Config is what New needs. Only APIURL comes from the operator.
type Config struct {
	// APIURL is the backend base URL the page calls; empty means DefaultAPIURL.
	APIURL string
	// Files is the page; nil means the embedded one (web.Static).
	Files fs.FS
	// Logger receives one line per request; nil discards them.
	Logger *slog.Logger
}

// Server serves the page. It is an http.Handler.
type Server struct {
	api     atomic.Pointer[apiConfig]
	assets  map[string]asset
	handler http.Handler
	logger  *slog.Logger
}

// apiConfig is what follows from the API URL; it is replaced as a whole.
type apiConfig struct {
	url        string
	configJSON []byte
	csp        string
}

// New validates cfg and builds the server.
func New(cfg Config) (*Server, error) {
	apiURL, err := ParseAPIURL(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	files := cfg.Files
	if files == nil {
		files = web.Static()
	}
	assets, err := loadAssets(files)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{assets: assets, logger: logger}
	s.api.Store(newAPIConfig(apiURL))
	s.handler = httpserve.LogRequests(logger, "/healthz", s.securityHeaders(s.routes()))
	return s, nil
}

func newAPIConfig(apiURL string) *apiConfig {
	configJSON, _ := json.Marshal(struct { // a struct of one string always marshals
		APIURL string `json:"apiUrl"`
	}{apiURL})
	return &apiConfig{url: apiURL, configJSON: configJSON, csp: contentSecurityPolicy(apiURL)}
}

// APIURL is the validated API base URL the page is told about.
func (s *Server) APIURL() string { return s.api.Load().url }

// SetAPIURL makes the next /config.json (and the security policy) name a new
// API URL. An invalid one is refused, naming APIURL but not quoting it, and
// the current one stays.
func (s *Server) SetAPIURL(raw string) error {
	apiURL, err := checkAPIURL(raw)
	if err != nil {
		return fmt.Errorf("APIURL %w", err)
	}
	if old := s.api.Swap(newAPIConfig(apiURL)); old.url != apiURL {
		s.logger.Info("API URL changed", "apiUrl", apiURL)
	}
	return nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.json", s.serveConfig)
	mux.HandleFunc("GET /healthz", serveHealth)
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /", s.serveAsset)
	return mux
}

func (s *Server) serveConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set("Cache-Control", cacheNever)
	_, _ = w.Write(s.api.Load().configJSON)
}

func serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", cacheNever)
	_, _ = io.WriteString(w, "ok\n")
}

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	s.assets[indexPath].serve(w, r, cacheIndex)
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.URL.Path]
	if !ok {
		w.Header().Set("Cache-Control", cacheNever)
		http.NotFound(w, r)
		return
	}
	cache := cacheAsset
	if r.URL.Path == indexPath {
		cache = cacheIndex
	}
	a.serve(w, r, cache)
}

// contentSecurityPolicy lets the page run only its own code and talk only to
// itself and the API; carousel images may come from any web origin (the bucket).
func contentSecurityPolicy(apiURL string) string {
	connect := "'self'"
	if u, err := url.Parse(apiURL); err == nil {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; " +
		"connect-src " + connect + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", s.api.Load().csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
