package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
)

func newInventoryCmd(io IO) *cobra.Command {
	var (
		rf                     registryFlags
		outputFile, configFile string
	)
	cmd := describe(&cobra.Command{
		Use:   "inventory REPOSITORY",
		Short: "Write a snapshot of a repository: every image, its graph and its sizes",
		Args:  argCount(1, 1, "needs one REPOSITORY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg *config.Config
			if configFile != "" {
				var err error
				if cfg, err = config.Load(configFile); err != nil {
					return err
				}
			}
			t, err := rf.open(cmd.Context(), io, cfg, args[0])
			if err != nil {
				return err
			}
			data, err := lifecycle.Snapshot(cmd.Context(), t)
			rf.report(io, t)
			if ue, ok := errors.AsType[*lifecycle.UnreadableError](err); ok {
				plan.WriteUnreadable(io.Err, ue.Unreadable)
			}
			if err != nil {
				return err
			}
			if outputFile != "" && outputFile != "-" {
				return lifecycle.WriteFile(outputFile, data)
			}
			return render(io, "the snapshot", func(w writer) error { _, err := w.Write(data); return err })
		},
	}, "inventory")
	rf.register(cmd)
	cmd.Flags().StringVarP(&outputFile, "output", "o", "", "write the snapshot to `FILE` instead of standard output")
	cmd.Flags().StringVar(&configFile, "config", "", "shipshape configuration `FILE` (for cacheDir)")
	return cmd
}
