package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newInventoryCmd(io IO) *cobra.Command {
	var (
		rf                          registryFlags
		outFile, configFile, output string
	)
	cmd := describe(&cobra.Command{
		Use:   "inventory REPOSITORY",
		Short: "Write a snapshot of a repository: every image, its graph and its sizes",
		Args:  argCount(1, 1, "needs one REPOSITORY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != report.JSON {
				return usageError("-o %q: -o is the output format, and a snapshot is json; to write it to a file, use --out %s", output, output)
			}
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
			if outFile != "" && outFile != "-" {
				return lifecycle.WriteFile(outFile, data)
			}
			return render(io, "the snapshot", func(w writer) error { _, err := w.Write(data); return err })
		},
	}, "inventory")
	rf.register(cmd)
	cmd.Flags().StringVar(&outFile, "out", "", "write the snapshot to `FILE` (atomically) instead of standard output")
	addOutputFlag(cmd, &output, report.JSON)
	cmd.Flags().StringVar(&configFile, "config", "", "shipshape configuration `FILE` (for cacheDir)")
	return cmd
}
