// Package app wires the backend together: settings, database, carousel and
// HTTP server, and runs it until its context ends (SIGTERM/SIGINT in main).
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/myappctl/myappctl/backend/data"
	"github.com/myappctl/myappctl/backend/internal/api"
	"github.com/myappctl/myappctl/backend/internal/carousel"
	"github.com/myappctl/myappctl/backend/internal/config"
	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/internal/httpserve"
	"github.com/myappctl/myappctl/internal/settings"
)

// settingsTier is the backend's tier in Parameter Store paths and reports.
const settingsTier = "backend"

// Exit codes of Main.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitBadSettings = 2
)

// Main reads the settings through getenv, logs to stderr and serves until ctx
// ends. It returns the process exit code.
func Main(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, cfgErr := config.FromEnv(getenv)
	live, liveErr := settings.FromEnv(ctx, getenv, settingsTier)
	if err := errors.Join(cfgErr, liveErr); err != nil {
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
	if err := Run(ctx, Options{Config: cfg, Settings: live, Getenv: getenv, Listener: ln, Logger: log}); err != nil {
		log.Error("backend stopped", "err", err)
		return ExitFailed
	}
	return ExitOK
}

// Options for Run. Zero Retry and ShutdownTimeout get the defaults.
type Options struct {
	Config config.Config
	// Settings, with a Source, makes the database and carousel settings
	// follow Parameter Store (config.LiveNames over Getenv); with a Reporter,
	// the instance reports what it runs.
	Settings        settings.Runtime
	Getenv          func(string) string // the environment the parameters override; nil: none
	Listener        net.Listener
	Logger          *slog.Logger
	Retry           store.Retry   // MySQL connect schedule; default store.DefaultRetry
	ShutdownTimeout time.Duration // for in-flight requests; default 15s
}

// Run serves the API on opts.Listener until ctx ends, then shuts down
// gracefully. With MySQL it listens at once and connects in the background, so
// /health answers 503 with the reason until the database is reachable. With a
// settings Source it answers 503 until it has read the settings once.
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
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	live := &liveSettings{getenv: opts.Getenv, retry: opts.Retry, log: opts.Logger}
	initial, err := live.initialStore(ctx, opts.Config, opts.Settings)
	if err != nil {
		opts.Listener.Close()
		return err
	}
	live.db = store.NewSwitch(initial)
	defer live.db.Close()
	if live.carousel, err = newCarousel(opts.Config, opts.Logger); err != nil {
		opts.Listener.Close()
		return err
	}
	stop := opts.Settings.Start(ctx, settings.StartOptions{Apply: live.apply, Known: config.LiveNames,
		Secrets: []string{"DBPASSWORD"}, Logger: opts.Logger})
	defer stop() // before the database closes: no apply after that
	return serve(ctx, opts, live.db, live.carousel)
}

// serve runs the HTTP server on db until ctx ends, then shuts it down,
// letting in-flight requests finish within opts.ShutdownTimeout.
func serve(ctx context.Context, opts Options, db store.Store, src *carousel.Source) error {
	handler, err := api.New(api.Options{Store: db, Carousel: src, CORSOrigin: opts.Config.CORSOrigin, Logger: opts.Logger})
	if err != nil {
		opts.Listener.Close()
		return err
	}
	return httpserve.Serve(ctx, opts.Listener, handler, opts.Logger, opts.ShutdownTimeout)
}

func newCarousel(cfg config.Config, log *slog.Logger) (*carousel.Source, error) {
	fallback, err := carousel.Parse(data.CarrouselJSON())
	if err != nil {
		return nil, fmt.Errorf("bundled carrousel.json: %w", err)
	}
	if cfg.CarouselURL != "" {
		log.Info("carousel: reading the list from CAROUSEL_URL", "url", cfg.CarouselURL, "ttl", cfg.CarouselTTL)
	}
	return carousel.New(carousel.Options{URL: cfg.CarouselURL, TTL: cfg.CarouselTTL, Fallback: fallback, Logger: log}), nil
}
