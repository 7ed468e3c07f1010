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
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/server"
)

// envServer names the pin server pin commands use when --server is not given.
const envServer = "SHIPSHAPE_SERVER"

// clientTimeout bounds one request of a pin command to a server: a write may wait for
// label verification.
const clientTimeout = server.VerifyTimeout + 30*time.Second

// pinFlags are the flags every pin command shares.
type pinFlags struct {
	io                    IO
	server, store, output string
}

// command is a pin subcommand taking nargs arguments that runs do on the store of the
// flags: the server at --server (or $SHIPSHAPE_SERVER) or the store of --store.
func (f *pinFlags) command(use, short string, nargs int, do func(ctx context.Context, s pins.Store, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short,
		Args: argCount(nargs, nargs, map[int]string{0: "takes no arguments", 1: "needs a pin NAME"}[nargs]),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(f.output, report.Table, report.JSON); err != nil {
				return err
			}
			url := f.server
			if url == "" && f.store == "" {
				url = f.io.Getenv(envServer)
			}
			var store pins.Store
			var err error
			switch {
			case url == "" && f.store == "":
				return usageError("no pin server: give --server URL or set $%s; or --store DSN to use a pin store directly (e.g. --store sqlite://pins.db)", envServer)
			case url != "" && f.store != "":
				return usageError("give --server or --store, not both")
			case url != "":
				if store, err = server.NewClient(url, f.io.Getenv(envAPIToken), &http.Client{Timeout: clientTimeout}); err != nil {
					return usageError("--server: %v", err)
				}
			default:
				if store, err = pinstore.Open(cmd.Context(), f.store); err != nil {
					return err
				}
			}
			defer store.Close()
			return do(cmd.Context(), store, args)
		},
	}
}

func newPinCmd(io IO) *cobra.Command {
	f := &pinFlags{io: io}
	cmd := describe(&cobra.Command{Use: "pin", Short: "Set, read and list image pins"}, "pin")
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", "", "`URL` of a shipshape server (default $"+envServer+")")
	pf.StringVar(&f.store, "store", "", "pin store `DSN` to use directly instead of a server: sqlite://PATH (created when missing) or postgres://…")
	pf.StringVarP(&f.output, "output", "o", report.Table, "output format: table, json")
	cmd.AddCommand(newPinSetCmd(f),
		f.command("get NAME", "Print a pin", 1, func(ctx context.Context, s pins.Store, args []string) error {
			p, err := s.Get(ctx, args[0])
			if err != nil {
				return fmt.Errorf("pin %s: %w", args[0], notFound(err))
			}
			return f.printPin(p)
		}),
		f.command("list", "List every pin", 0, func(ctx context.Context, s pins.Store, _ []string) error {
			ps, err := s.List(ctx)
			if err != nil {
				return fmt.Errorf("listing pins: %w", err)
			}
			if f.output == report.JSON {
				return report.WriteJSON(io.Out, server.ListResponse{Pins: append([]pins.Pin{}, ps...)})
			}
			return pins.WriteTable(io.Out, ps)
		}),
		f.command("history NAME", "Print every change of a pin, oldest first", 1, func(ctx context.Context, s pins.Store, args []string) error {
			changes, err := s.History(ctx, args[0])
			if err != nil {
				return fmt.Errorf("history of pin %s: %w", args[0], notFound(err))
			}
			if f.output == report.JSON {
				return report.WriteJSON(io.Out, server.HistoryResponse{Name: args[0], Changes: changes})
			}
			return pins.WriteHistory(io.Out, changes)
		}),
		f.command("delete NAME", "Delete a pin (its history stays)", 1, func(ctx context.Context, s pins.Store, args []string) error {
			if err := s.Delete(ctx, args[0], localUser(io)); err != nil {
				return fmt.Errorf("deleting pin %s: %w", args[0], notFound(err))
			}
			_, err := fmt.Fprintf(io.Err, "deleted pin %s\n", args[0])
			return err
		}))
	return cmd
}

func newPinSetCmd(f *pinFlags) *cobra.Command {
	var p pins.Pin
	var expected string
	cmd := describe(f.command("set NAME --digest DIGEST --source-sha SHA [--repository REPOSITORY] [--expect DIGEST]", "Pin NAME to an image digest", 1,
		func(ctx context.Context, s pins.Store, args []string) error {
			p.UpdatedBy = localUser(f.io)
			stored, err := s.Set(ctx, p, expected)
			if errors.Is(err, pins.ErrConflict) {
				return fmt.Errorf("compare-and-swap conflict, nothing changed: pin %s does not hold %s", p.Name, expected)
			} else if err != nil {
				return fmt.Errorf("setting pin %s: %w", p.Name, err)
			}
			return f.printPin(stored)
		}), "pin-set")
	// The request is checked before a store is opened, as the server checks it.
	cmd.PreRunE = func(_ *cobra.Command, args []string) error {
		p.Name = args[0]
		if field, problem := pins.CheckWrite(p, expected); field != "" {
			return usageError("%s: %s", map[string]string{pins.FieldName: "pin name", pins.FieldDigest: "--digest",
				pins.FieldSourceSHA: "--source-sha", pins.FieldExpected: "--expect"}[field], problem)
		}
		return nil
	}
	fs := cmd.Flags()
	fs.StringVar(&p.Digest, "digest", "", "image `DIGEST` (sha256:…)")
	fs.StringVar(&p.SourceSHA, "source-sha", "", "full `SHA` of the commit the image was built from")
	fs.StringVar(&p.Repository, "repository", "", "`REPOSITORY` the image lives in, e.g. ghcr.io/org/app")
	fs.StringVar(&expected, "expect", "", "change the pin only while it holds this `DIGEST`")
	return cmd
}

// printPin writes p as -o asks: JSON, or a "field: value" line per field.
func (f *pinFlags) printPin(p pins.Pin) error {
	if f.output == report.JSON {
		return report.WriteJSON(f.io.Out, p)
	}
	return pins.WriteDetail(f.io.Out, p)
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
