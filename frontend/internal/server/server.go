// Package server is the frontend's HTTP server: it serves the embedded page and
// tells it, through /config.json, which API to call, so that relinking the
// frontend to another backend needs a restart, not a rebuild.
package server

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"

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
	apiURL     string
	configJSON []byte
	assets     map[string]asset
	handler    http.Handler
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
	configJSON, err := json.Marshal(struct {
		APIURL string `json:"apiUrl"`
	}{apiURL})
	if err != nil {
		return nil, fmt.Errorf("encoding /config.json: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{apiURL: apiURL, configJSON: configJSON, assets: assets}
	s.handler = httpserve.LogRequests(logger, "/healthz", securityHeaders(contentSecurityPolicy(apiURL), s.routes()))
	return s, nil
}

// APIURL is the validated API base URL the page is told about.
func (s *Server) APIURL() string { return s.apiURL }

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
	_, _ = w.Write(s.configJSON)
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

func securityHeaders(csp string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
