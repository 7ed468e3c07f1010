package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// inUseHelp is the --in-use flag's help, shared by the commands that take it.
const inUseHelp = "keep what runs: kubernetes[:CONTEXT], ecs[:CLUSTER,…], lambda or manifests:DIR (repeatable; see shipshape inuse --help)"

func newInUseCmd(io IO) *cobra.Command {
	var (
		rf                             registryFlags
		repository, configFile, output string
	)
	cmd := describe(&cobra.Command{
		Use:   "inuse [SOURCE...] [--repository REPOSITORY]",
		Short: "List the images that run, and where: Kubernetes, ECS, Lambda, GitOps manifests",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, report.Table, report.JSON); err != nil {
				return err
			}
			list, err := lifecycle.InUse(cmd.Context(), lifecycle.InUseRequest{
				ConfigFile: configFile, Sources: args, Repository: repository, AWS: rf.account(),
				Open: func(ctx context.Context, cfg *config.Config, ref string) (*lifecycle.Target, error) {
					return rf.open(ctx, io, cfg, ref)
				},
			})
			if err != nil {
				return usage(err)
			}
			if err := render(io, "the list", func(w writer) error { return inuse.Write(w, list.Rows, list.Failures, output) }); err != nil {
				return err
			}
			for _, fl := range list.Failures {
				fmt.Fprintf(io.Err, "shipshape: in-use source %s\n", fl)
			}
			if len(list.Failures) > 0 {
				return silentExit(ExitError)
			}
			return nil
		},
	}, "inuse")
	rf.register(cmd)
	cmd.Flags().StringVar(&repository, "repository", "", "list only the images of `REPOSITORY`, with tags resolved to the digests they point at now")
	cmd.Flags().StringVar(&configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml when present)")
	addOutputFlag(cmd, &output, report.Table, report.JSON)
	return cmd
}
