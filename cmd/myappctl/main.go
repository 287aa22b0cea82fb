// Command myappctl stands up, inspects and tears down the two-tier todo app
// on AWS in nine idempotent stages. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd(defaultDeps()).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "interrupted: the state file is saved; run the same command again to resume, or `myappctl destroy` to clean up")
			os.Exit(130)
		}
		os.Exit(1)
	}
}
