// Command myapp-backend is the todo API that the EC2 backend instances run:
// /health, /todo CRUD and the carousel list, on MySQL (DBURL set) or an
// embedded SQLite file. Settings come from the environment and, on an
// instance, from Parameter Store (SETTINGS_PATH), followed live; see README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/myappctl/myappctl/backend/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := app.Main(ctx, os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}
