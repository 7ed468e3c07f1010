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
	interrupted, stopInt := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx, stopTerm := signal.NotifyContext(interrupted, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Std())
	switch { // before stop, which cancels the contexts too
	case code == cli.ExitOK:
	case interrupted.Err() != nil:
		code = cli.ExitInterrupted
	case ctx.Err() != nil:
		code = cli.ExitTerminated
	}
	stopTerm()
	stopInt()
	os.Exit(code)
}
