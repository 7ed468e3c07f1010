package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/server"
	"github.com/shipshape-dev/shipshape/internal/verify"
)

// envAPIToken holds the API token: the write token of serve, the client token of pin.
const envAPIToken = "SHIPSHAPE_API_TOKEN"

// Timeouts of the HTTP server. WriteTimeout leaves room for label verification, which
// server.VerifyTimeout bounds.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = server.VerifyTimeout + 30*time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout bounds how long serve waits for requests in flight when stopped.
	shutdownTimeout = 15 * time.Second
)

func newServeCmd(io IO) *cobra.Command {
	var (
		listen, dsn, tokenFile, mode string
		insecure                     bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the pin API over HTTP",
		Long:  help("serve"),
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode, err := server.ParseMode(mode)
			if err != nil {
				return usageError("--verify: %v", err)
			}
			tokens, err := server.LoadTokens(io.Getenv(envAPIToken), tokenFile)
			if err != nil {
				return err
			}
			if tokens.Len() == 0 {
				return fmt.Errorf("no API token configured: set %s or give --token-file", envAPIToken)
			}
			ctx := cmd.Context()
			store, err := openPinStore(ctx, dsn)
			if err != nil {
				return err
			}
			defer store.Close()

			logger := slog.New(slog.NewTextHandler(io.Err, nil))
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			cfg := server.Config{Store: store, Tokens: tokens, Mode: mode, Logger: logger, Registerer: reg}
			if mode != server.ModeOff {
				cfg.Verifier = verify.NewOCI(oci.Options{Insecure: insecure, Logger: logger})
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening: %w", err)
			}
			srv := &http.Server{
				Handler:           server.New(cfg),
				ReadHeaderTimeout: readHeaderTimeout,
				ReadTimeout:       readTimeout,
				WriteTimeout:      writeTimeout,
				IdleTimeout:       idleTimeout,
				MaxHeaderBytes:    maxHeaderBytes,
				ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			}
			fmt.Fprintf(io.Err, "shipshape: serving pins on http://%s (verification %s)\n", ln.Addr(), mode)
			return serve(ctx, srv, ln, logger)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "`ADDRESS` to listen on; port 0 picks a free one")
	fs.StringVar(&dsn, "store", "", "pin store `DSN`: sqlite://PATH or postgres://USER@HOST/DB (default sqlite:// in $XDG_DATA_HOME/shipshape/pins.db)")
	fs.StringVar(&tokenFile, "token-file", "", "`FILE` of API tokens, one \"NAME read|write TOKEN\" a line")
	fs.StringVar(&mode, "verify", server.ModeOff, "label verification of every write: off, log or enforce")
	fs.BoolVar(&insecure, "insecure", false, "verification: use plain HTTP to registries (localhost and 127.0.0.1 always do)")
	return cmd
}

// serve runs srv on ln until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
