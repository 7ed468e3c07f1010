package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/server"
	"github.com/shipshape-dev/shipshape/internal/verify"
)

// ServeRequest is one run of the pin API (shipshape serve).
type ServeRequest struct {
	// Listen is the address to listen on; port 0 picks a free one.
	Listen string
	// Mode is the label verification of every write: off (""), log or enforce.
	Mode string
	// Insecure makes verification use plain HTTP to registries.
	Insecure bool
	// EnvToken is the value of $SHIPSHAPE_API_TOKEN, a write token ("" for none), and
	// TokenFile a file of tokens ("" for none); together they must give at least one.
	EnvToken, TokenFile string
	// OpenStore opens the pin store, once the tokens are known; Serve closes it.
	OpenStore func(ctx context.Context) (pins.Store, error)
	// Log receives the address once listening, then the server's log (access log, errors,
	// shutdown) as text; nil discards them.
	Log io.Writer
}

// ErrNoToken is returned when neither EnvToken nor TokenFile gives a token: an API that
// no one could write to is a mistake.
var ErrNoToken = errors.New("no API token configured: set SHIPSHAPE_API_TOKEN or give --token-file")

// Serve serves the pin API until ctx ends, then shuts down gracefully (server.Serve): with
// Go and process metrics on /metrics, and with a label verifier over the OCI Distribution
// API unless Mode is off. A bad Mode is a FlagError of --verify.
func Serve(ctx context.Context, req ServeRequest) error {
	mode, err := server.ParseMode(req.Mode)
	if err != nil {
		return flagError("verify", "%v", err)
	}
	tokens, err := server.LoadTokens(req.EnvToken, req.TokenFile)
	if err != nil {
		return err
	}
	if tokens.Len() == 0 {
		return ErrNoToken
	}
	store, err := req.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()

	log := req.Log
	if log == nil {
		log = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(log, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := server.Config{Store: store, Tokens: tokens, Mode: mode, Logger: logger, Registerer: reg}
	if mode != server.ModeOff {
		cfg.Verifier = verify.NewOCI(oci.Options{Insecure: req.Insecure, Logger: logger})
	}
	ln, err := net.Listen("tcp", req.Listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	fmt.Fprintf(log, "shipshape: serving pins on http://%s (verification %s)\n", ln.Addr(), mode)
	return server.Serve(ctx, ln, server.New(cfg), logger)
}
