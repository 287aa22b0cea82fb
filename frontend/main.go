// Command frontend serves the todo page on PORT (default 80) and tells it, at
// run time, the API base URL from APIURL (default http://localhost:8080) or,
// on an instance, from Parameter Store (SETTINGS_PATH), followed live.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/myappctl/myappctl/frontend/internal/server"
	"github.com/myappctl/myappctl/internal/httpserve"
	"github.com/myappctl/myappctl/internal/settings"
)

// Exit codes.
const (
	exitFailed      = 1
	exitBadSettings = 2
)

// settingsTier is the frontend's tier in Parameter Store paths and reports.
const settingsTier = "frontend"

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, logger)
	stop()
	var bad badSettings
	switch {
	case errors.As(err, &bad):
		logger.Error("frontend cannot start", "err", err)
		os.Exit(exitBadSettings)
	case err != nil:
		logger.Error("frontend stopped", "err", err)
		os.Exit(exitFailed)
	}
}

// badSettings is an error in the environment: the frontend does not start.
type badSettings struct{ error }

func run(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	port, portErr := server.ParsePort(getenv("PORT"))
	_, apiErr := server.ParseAPIURL(getenv("APIURL"))
	live, liveErr := settings.FromEnv(ctx, getenv, settingsTier)
	if err := errors.Join(portErr, apiErr, liveErr); err != nil {
		return badSettings{err}
	}
	srv, err := server.New(server.Config{APIURL: getenv("APIURL"), Logger: logger})
	if err != nil {
		return err
	}
	if getenv("APIURL") == "" && live.Source == nil {
		logger.Warn("APIURL is not set; the page will call the default API", "apiUrl", srv.APIURL())
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	return serve(ctx, ln, srv, live, getenv, logger)
}

// serve follows the settings (when live has a Source) and serves srv on ln
// until ctx ends.
func serve(ctx context.Context, ln net.Listener, srv *server.Server, live settings.Runtime, getenv func(string) string, logger *slog.Logger) error {
	stop := live.Start(ctx, settings.StartOptions{Apply: srv.ApplySettings(getenv), Known: server.LiveNames, Logger: logger})
	defer stop()
	logger.Info("frontend listening", "addr", ln.Addr().String(), "apiUrl", srv.APIURL())
	return httpserve.Serve(ctx, ln, srv, logger, server.ShutdownTimeout)
}
