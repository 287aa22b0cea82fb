// Package api is the backend's HTTP interface: the todo CRUD routes, /health,
// the carousel list and the bundled images, with CORS and request logging.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/myappctl/myappctl/backend/internal/carousel"
	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/internal/httpserve"
)

// Limits on what clients may send.
const (
	MaxTitleLen  = 200      // characters
	MaxLabelLen  = 50       // characters
	MaxBodyBytes = 16 << 10 // larger request bodies get 413
)

// Options are what the API needs. Store and Carousel are required.
type Options struct {
	Store    store.Store
	Carousel *carousel.Source
	// CORSOrigin is "*" (the default) or a comma-separated list of allowed origins.
	CORSOrigin string
	Logger     *slog.Logger
	// HealthTimeout bounds the database ping of /health; default 2s.
	HealthTimeout time.Duration
}

type server struct {
	store         store.Store
	carousel      *carousel.Source
	images        map[string]image
	log           *slog.Logger
	healthTimeout time.Duration
}

// New returns the API's handler.
func New(opts Options) (http.Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = 2 * time.Second
	}
	images, err := loadImages()
	if err != nil {
		return nil, err
	}
	s := &server{store: opts.Store, carousel: opts.Carousel, images: images,
		log: opts.Logger, healthTimeout: opts.HealthTimeout}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /todo", s.listTodos)
	mux.HandleFunc("GET /todo/{$}", s.listTodos)
	mux.HandleFunc("POST /todo", s.createTodo)
	mux.HandleFunc("POST /todo/{$}", s.createTodo)
	mux.HandleFunc("PUT /todo/{id}", s.updateTodo)
	mux.HandleFunc("DELETE /todo/{id}", s.deleteTodo)
	mux.HandleFunc("GET /carrousel", s.carouselList)
	mux.HandleFunc("GET /carrousel.json", s.carouselList)
	mux.HandleFunc("GET /images/{name}", s.image)

	var h http.Handler = mux
	h = recoverPanics(h, opts.Logger)
	h = cors(h, opts.CORSOrigin)
	h = httpserve.LogRequests(opts.Logger, "/health", h)
	return h, nil
}
