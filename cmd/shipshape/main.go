// Command shipshape keeps container registries lean, cheap and safe.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shipshape-dev/shipshape/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Std())
	stop()
	os.Exit(code)
}
