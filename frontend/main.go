// Command frontend serves the todo page on PORT (default 80) and tells it, at
// run time, the API base URL from APIURL (default http://localhost:8080).
package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/myappctl/myappctl/frontend/internal/server"
	"github.com/myappctl/myappctl/internal/httpserve"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger); err != nil {
		logger.Error("frontend stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger) error {
	port, err := server.ParsePort(os.Getenv("PORT"))
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{APIURL: os.Getenv("APIURL"), Logger: logger})
	if err != nil {
		return err
	}
	if os.Getenv("APIURL") == "" {
		logger.Warn("APIURL is not set; the page will call the default API", "apiUrl", srv.APIURL())
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	logger.Info("frontend listening", "addr", ln.Addr().String(), "apiUrl", srv.APIURL())
	return httpserve.Serve(ctx, ln, srv, logger, server.ShutdownTimeout)
}
