package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/pins"
	pinstore "github.com/shipshape-dev/shipshape/internal/pins/store"
	"github.com/shipshape-dev/shipshape/internal/server"
)

// envServer names the pin server pin commands use when --server is not given.
const envServer = "SHIPSHAPE_SERVER"

// clientTimeout bounds one request of a pin command to a server: a write may wait for
// label verification.
const clientTimeout = server.VerifyTimeout + 30*time.Second

// openPinStore opens the pin store of dsn; "" means the default store.
func openPinStore(ctx context.Context, dsn string) (pins.Store, error) {
	if dsn == "" {
		d, err := pinstore.DefaultDSN()
		if err != nil {
			return nil, err
		}
		dsn = d
	}
	return pinstore.Open(ctx, dsn)
}

// pinFlags are the flags every pin command shares.
type pinFlags struct {
	server, store, output string
}

// open returns the server at --server (or $SHIPSHAPE_SERVER) as a store, or the store of
// --store.
func (f *pinFlags) open(ctx context.Context, io IO) (pins.Store, error) {
	if err := checkFormat(f.output, formatTable, formatJSON); err != nil {
		return nil, err
	}
	url := f.server
	if url == "" && f.store == "" {
		url = io.Getenv(envServer)
	}
	if url != "" && f.store != "" {
		return nil, usageError("give --server or --store, not both")
	}
	if url != "" {
		c, err := server.NewClient(url, io.Getenv(envAPIToken), &http.Client{Timeout: clientTimeout})
		if err != nil {
			return nil, usageError("--server: %v", err)
		}
		return c, nil
	}
	return openPinStore(ctx, f.store)
}

func newPinCmd(io IO) *cobra.Command {
	f := &pinFlags{}
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Set, read and list image pins",
		Long: `pin manages the pins that name the digest a runtime or service runs, with the source
commit it was built from. Pins protect their images from cleanup.

The commands talk to a shipshape server with --server URL (or $SHIPSHAPE_SERVER),
authenticating with $SHIPSHAPE_API_TOKEN, or open a pin store directly with --store DSN.

Exit codes: 0 success, 1 error (a pin not found, a compare-and-swap conflict, an image the
server refuses), 2 usage error.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", "", "`URL` of a shipshape server (default $"+envServer+")")
	pf.StringVar(&f.store, "store", "", "pin store `DSN` to use directly instead of a server: sqlite://PATH or postgres://…")
	pf.StringVarP(&f.output, "output", "o", formatTable, "output format: table, json")
	cmd.AddCommand(newPinSetCmd(io, f), newPinGetCmd(io, f), newPinListCmd(io, f), newPinHistoryCmd(io, f), newPinDeleteCmd(io, f))
	return cmd
}

func newPinSetCmd(io IO, f *pinFlags) *cobra.Command {
	var p pins.Pin
	var expected string
	cmd := &cobra.Command{
		Use:   "set NAME --digest DIGEST --source-sha SHA [--repository REPOSITORY] [--expect DIGEST]",
		Short: "Pin NAME to an image digest",
		Long: `set pins NAME to --digest, built from --source-sha. With --expect, the change happens only
while the pin still holds that digest (compare-and-swap); otherwise set exits 1 and
changes nothing.`,
		Args: exactArgs(1, "a pin NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p.Name = args[0]
			switch {
			case !pins.ValidName(p.Name):
				return usageError("pin name %q: want 1 to 128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit", p.Name)
			case !pins.ValidDigest(p.Digest):
				return usageError("--digest %q: want sha256: and 64 lowercase hex digits", p.Digest)
			case !pins.ValidSourceSHA(p.SourceSHA):
				return usageError("--source-sha %q: want a full commit SHA, 40 lowercase hex digits", p.SourceSHA)
			case expected != "" && !pins.ValidDigest(expected):
				return usageError("--expect %q: want sha256: and 64 lowercase hex digits", expected)
			}
			store, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer store.Close()
			p.UpdatedBy = localUser(io)
			stored, err := store.Set(cmd.Context(), p, expected)
			if errors.Is(err, pins.ErrConflict) {
				var se *server.Error
				if errors.As(err, &se) {
					return fmt.Errorf("compare-and-swap conflict, nothing changed: %s", se.Message)
				}
				return fmt.Errorf("compare-and-swap conflict, nothing changed: pin %s does not hold %s", p.Name, expected)
			}
			if err != nil {
				return fmt.Errorf("setting pin %s: %w", p.Name, err)
			}
			return f.printPin(io, stored)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&p.Digest, "digest", "", "image `DIGEST` (sha256:…)")
	fs.StringVar(&p.SourceSHA, "source-sha", "", "full `SHA` of the commit the image was built from")
	fs.StringVar(&p.Repository, "repository", "", "`REPOSITORY` the image lives in, e.g. ghcr.io/org/app")
	fs.StringVar(&expected, "expect", "", "change the pin only while it holds this `DIGEST`")
	return cmd
}

func newPinGetCmd(io IO, f *pinFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Print a pin",
		Args:  exactArgs(1, "a pin NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer store.Close()
			p, err := store.Get(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("pin %s: %w", args[0], notFound(err))
			}
			return f.printPin(io, p)
		},
	}
}

func newPinListCmd(io IO, f *pinFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every pin",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer store.Close()
			ps, err := store.List(cmd.Context())
			if err != nil {
				return fmt.Errorf("listing pins: %w", err)
			}
			if ps == nil {
				ps = []pins.Pin{}
			}
			if f.output == formatJSON {
				return writeJSON(io, server.ListResponse{Pins: ps})
			}
			return pins.WriteTable(io.Out, ps)
		},
	}
}

func newPinHistoryCmd(io IO, f *pinFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "history NAME",
		Short: "Print every change of a pin, oldest first",
		Args:  exactArgs(1, "a pin NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer store.Close()
			changes, err := store.History(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("history of pin %s: %w", args[0], notFound(err))
			}
			if f.output == formatJSON {
				return writeJSON(io, server.HistoryResponse{Name: args[0], Changes: changes})
			}
			return pins.WriteHistory(io.Out, changes)
		},
	}
}

func newPinDeleteCmd(io IO, f *pinFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a pin (its history stays)",
		Args:  exactArgs(1, "a pin NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.Delete(cmd.Context(), args[0], localUser(io)); err != nil {
				return fmt.Errorf("deleting pin %s: %w", args[0], notFound(err))
			}
			_, err = fmt.Fprintf(io.Err, "deleted pin %s\n", args[0])
			return err
		},
	}
}

// printPin writes p as -o asks: JSON, or a "field: value" line per field.
func (f *pinFlags) printPin(io IO, p pins.Pin) error {
	if f.output == formatJSON {
		return writeJSON(io, p)
	}
	return pins.WriteDetail(io.Out, p)
}

// notFound leaves only the store's sentinel message of a missing pin, which the caller
// prefixes with the pin's name.
func notFound(err error) error {
	if errors.Is(err, pins.ErrNotFound) {
		return pins.ErrNotFound
	}
	return err
}

// localUser is who changes a pin straight in a store; a server records its token's name.
func localUser(io IO) string {
	if u := io.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}
