package cli

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newInventoryCmd(io IO) *cobra.Command {
	var (
		rf         registryFlags
		outputFile string
		configFile string
	)
	cmd := &cobra.Command{
		Use:   "inventory REPOSITORY",
		Short: "Write a snapshot of a repository: every image, its graph and its sizes",
		Long:  help("inventory"),
		Example: `  shipshape inventory localhost:5000/team/app > app.json
  shipshape inventory ghcr.io/acme/app -o app.json --stats
  shipshape plan --policy policy.json --images app.json`,
		Args: exactArgs(1, "one REPOSITORY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg *config.Config
			if configFile != "" {
				var err error
				if cfg, err = config.Load(configFile); err != nil {
					return err
				}
			}
			inv, err := rf.inventory(cmd.Context(), io, cfg, args[0])
			if err != nil {
				return err
			}
			if len(inv.Unreadable) > 0 {
				// A snapshot without these would plan deletions that may break them.
				for _, u := range inv.Unreadable {
					fmt.Fprintf(io.Err, "unreadable: %s%s: %s\n", u.Digest, report.TagList(u.Tags), u.Reason)
				}
				return fmt.Errorf("%s: %d manifests could not be read; no snapshot is written, since a plan made from it could delete what they reference", args[0], len(inv.Unreadable))
			}
			var buf bytes.Buffer
			if err := inventory.WriteSnapshot(&buf, inv); err != nil {
				return err
			}
			if outputFile != "" && outputFile != "-" {
				return writeFileAtomic(outputFile, buf.Bytes())
			}
			w := bufio.NewWriter(io.Out)
			if _, err := w.Write(buf.Bytes()); err != nil {
				return fmt.Errorf("writing the snapshot: %w", err)
			}
			return w.Flush()
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVarP(&outputFile, "output", "o", "", "write the snapshot to `FILE` instead of standard output")
	cmd.Flags().StringVar(&configFile, "config", "", "shipshape configuration `FILE` (for cacheDir)")
	return cmd
}
