package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/pins"
	pinstore "github.com/shipshape-dev/shipshape/internal/pins/store"
	"github.com/shipshape-dev/shipshape/internal/server"
)

// envAPIToken holds the API token: the write token of serve, the client token of pin.
const envAPIToken = "SHIPSHAPE_API_TOKEN"

func newServeCmd(io IO) *cobra.Command {
	var (
		listen, dsn, tokenFile, mode string
		insecure                     bool
	)
	cmd := describe(&cobra.Command{
		Use:   "serve",
		Short: "Serve the pin API over HTTP",
		Args:  argCount(0, 0, "takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usage(lifecycle.Serve(cmd.Context(), lifecycle.ServeRequest{
				Listen: listen, Mode: mode, Insecure: insecure,
				EnvToken: io.Getenv(envAPIToken), TokenFile: tokenFile,
				OpenStore: func(ctx context.Context) (pins.Store, error) { return pinstore.Open(ctx, dsn) },
				Log:       io.Err,
			}))
		},
	}, "serve")
	fs := cmd.Flags()
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "`ADDRESS` to listen on; port 0 picks a free one")
	fs.StringVar(&dsn, "store", "", "pin store `DSN`: sqlite://PATH or postgres://USER@HOST/DB (default sqlite:// in $XDG_DATA_HOME/shipshape/pins.db)")
	fs.StringVar(&tokenFile, "token-file", "", "`FILE` of API tokens, one \"NAME read|write TOKEN\" a line")
	fs.StringVar(&mode, "verify", server.ModeOff, "label verification of every write: off, log or enforce")
	fs.BoolVar(&insecure, "insecure", false, "verification: use plain HTTP to registries (localhost and 127.0.0.1 always do)")
	return cmd
}
