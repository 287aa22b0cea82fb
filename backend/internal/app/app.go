// Package app wires the backend together: settings, database, carousel and
// HTTP server, and runs it until its context ends (SIGTERM/SIGINT in main).
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/myappctl/myappctl/backend/data"
	"github.com/myappctl/myappctl/backend/internal/api"
	"github.com/myappctl/myappctl/backend/internal/carousel"
	"github.com/myappctl/myappctl/backend/internal/config"
	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/internal/httpserve"
)

// Exit codes of Main.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitBadSettings = 2
)

// Main reads the settings through getenv, logs to stderr and serves until ctx
// ends. It returns the process exit code.
func Main(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "myapp-backend: %v\n", err)
		return ExitBadSettings
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		log.Error("cannot listen", "port", cfg.Port, "err", err)
		return ExitFailed
	}
	if err := Run(ctx, Options{Config: cfg, Listener: ln, Logger: log}); err != nil {
		log.Error("backend stopped", "err", err)
		return ExitFailed
	}
	return ExitOK
}

// Options for Run. Zero Retry and ShutdownTimeout get the defaults.
type Options struct {
	Config          config.Config
	Listener        net.Listener
	Logger          *slog.Logger
	Retry           store.Retry   // MySQL connect schedule; default store.DefaultRetry
	ShutdownTimeout time.Duration // for in-flight requests; default 15s
}

// Run serves the API on opts.Listener until ctx ends, then shuts down
// gracefully. With MySQL it listens at once and connects in the background, so
// /health answers 503 with the reason until the database is reachable.
func Run(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Retry == (store.Retry{}) {
		opts.Retry = store.DefaultRetry
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	db, err := openStore(ctx, opts.Config, opts.Retry, opts.Logger)
	if err != nil {
		opts.Listener.Close()
		return err
	}
	defer db.Close()
	return serve(ctx, opts, db)
}

// serve runs the HTTP server on db until ctx ends, then shuts it down,
// letting in-flight requests finish within opts.ShutdownTimeout.
func serve(ctx context.Context, opts Options, db store.Store) error {
	log := opts.Logger
	handler, err := newHandler(opts.Config, db, log)
	if err != nil {
		opts.Listener.Close()
		return err
	}
	return httpserve.Serve(ctx, opts.Listener, handler, log, opts.ShutdownTimeout)
}

// storeCloser is a Store the app closes on shutdown.
type storeCloser interface {
	store.Store
	Close() error
}

func openStore(ctx context.Context, cfg config.Config, retry store.Retry, log *slog.Logger) (storeCloser, error) {
	if cfg.MySQL == nil {
		s, err := store.OpenSQLite(ctx, cfg.SQLitePath)
		if err != nil {
			return nil, err
		}
		log.Info("database: SQLite (DBURL is not set)", "path", cfg.SQLitePath)
		return s, nil
	}
	mysqlCfg := *cfg.MySQL
	log.Info("database: MySQL, connecting in the background", "db", mysqlCfg)
	open := func(ctx context.Context) (*store.SQL, error) { return store.OpenMySQL(ctx, mysqlCfg) }
	return store.ConnectInBackground(ctx, open, retry, log), nil
}

func newHandler(cfg config.Config, db store.Store, log *slog.Logger) (http.Handler, error) {
	fallback, err := carousel.Parse(data.CarrouselJSON())
	if err != nil {
		return nil, fmt.Errorf("bundled carrousel.json: %w", err)
	}
	if cfg.CarouselURL != "" {
		log.Info("carousel: reading the list from CAROUSEL_URL", "url", cfg.CarouselURL, "ttl", cfg.CarouselTTL)
	}
	src := carousel.New(carousel.Options{URL: cfg.CarouselURL, TTL: cfg.CarouselTTL, Fallback: fallback, Logger: log})
	return api.New(api.Options{Store: db, Carousel: src, CORSOrigin: cfg.CORSOrigin, Logger: log})
}
