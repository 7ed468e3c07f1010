package cli

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
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
		Long: `Read everything a registry shows about a repository and write it as a shipshape snapshot
(JSON, documented in docs/snapshot.md): every tag, every manifest and index, index children
(platform images, attestation manifests), referrers (through the referrers API, or the
sha256-<digest> tag schema where the registry lacks it), labels and creation times from the
image configs, and layer digests and sizes.

A generic registry records no push time: shipshape uses the org.opencontainers.image.created
annotation or label, then the config's created time; reproducible-build epochs (1970, 1980)
count as unknown, and the evaluator never ages out an image whose time is unknown.

The OCI Distribution API cannot list untagged manifests. shipshape finds them as index
children and referrers, and remembers the digests it saw under tags (tag history, in the
cache), so that a superseded image is found once its tag moves. The snapshot's notes say
what could not be seen. A manifest the registry lists but will not serve (HEAD answers 200,
GET 404; a body that does not parse) is an error: no snapshot is written.

Manifests and configs are cached on disk by digest (content-addressed, never stale), so a
repeat run costs one tag list and one HEAD per tag.`,
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
					fmt.Fprintf(io.Err, "unreadable: %s%s: %s\n", u.Digest, tagList(u.Tags), u.Reason)
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
