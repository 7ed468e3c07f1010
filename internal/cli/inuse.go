package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
)

// inUseHelp is the --in-use flag's help, shared by the commands that take it.
const inUseHelp = "keep what runs: kubernetes[:CONTEXT], ecs[:CLUSTER,…], lambda or manifests:DIR (repeatable; see shipshape inuse --help)"

func newInUseCmd(io IO) *cobra.Command {
	var (
		rf         registryFlags
		repository string
		configFile string
		output     string
	)
	cmd := &cobra.Command{
		Use:   "inuse [SOURCE...] [--repository REPOSITORY]",
		Short: "List the images that run, and where: Kubernetes, ECS, Lambda, GitOps manifests",
		Long:  help("inuse"),
		Example: `  shipshape inuse kubernetes:prod-eu ecs lambda
  shipshape inuse manifests:deploy --repository ghcr.io/acme/api
  shipshape plan --policy policy.json ghcr.io/acme/api --in-use kubernetes --in-use manifests:deploy`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			list, err := lifecycle.InUse(cmd.Context(), lifecycle.InUseRequest{
				ConfigFile: configFile, Sources: args, Repository: repository, AWS: rf.account(),
				Open: func(ctx context.Context, cfg *config.Config, ref string) (*opened, error) {
					return rf.open(ctx, io, cfg, ref)
				},
			})
			if err != nil {
				return usage(err)
			}
			if output == formatJSON {
				err = inuse.WriteJSON(io.Out, list.Rows, list.Failures)
			} else {
				err = inuse.WriteTable(io.Out, list.Rows)
			}
			if err != nil {
				return err
			}
			if len(list.Failures) > 0 {
				for _, fl := range list.Failures {
					fmt.Fprintf(io.Err, "shipshape: in-use source %s\n", fl)
				}
				return silentExit(ExitError)
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&repository, "repository", "", "list only the images of `REPOSITORY`, with tags resolved to the digests they point at now")
	cmd.Flags().StringVar(&configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml when present)")
	addOutputFlag(cmd, &output, formatTable, formatJSON)
	return cmd
}
