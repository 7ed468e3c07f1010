package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/verify"
)

func newLabelsCmd(io IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "labels",
		Short: "Check the OCI labels of images",
	}
	cmd.AddCommand(newLabelsCheckCmd(io))
	return cmd
}

func newLabelsCheckCmd(io IO) *cobra.Command {
	var (
		revision, output string
		insecure         bool
	)
	cmd := &cobra.Command{
		Use:   "check IMAGE[@DIGEST|:TAG] [--revision SHA]",
		Short: "Check that an image carries the OCI labels of its build",
		Long:  help("labels"),
		Args:  exactArgs(1, "an IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			revision = strings.ToLower(revision)
			if revision != "" && !pins.ValidSourceSHA(revision) {
				return usageError("--revision %q: want a full commit SHA, 40 hex digits", revision)
			}
			repo, tag, dgst := verify.SplitImage(args[0])
			if _, _, err := registry.ParseReference(repo); err != nil {
				return usageError("%v", err)
			}
			if dgst != "" && !pins.ValidDigest(dgst) {
				return usageError("image digest %q: want sha256: and 64 lowercase hex digits", dgst)
			}
			rep, err := verify.NewOCI(oci.Options{Insecure: insecure}).Report(cmd.Context(), repo, tag, dgst, revision)
			if err != nil {
				return err
			}
			if output == formatJSON {
				err = verify.WriteJSON(io.Out, rep)
			} else {
				err = verify.WriteTable(io.Out, rep)
			}
			if err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return silentExit(ExitError)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&revision, "revision", "", "the commit `SHA` the image must have been built from")
	fs.BoolVar(&insecure, "insecure", false, "use plain HTTP (localhost and 127.0.0.1 always do)")
	addOutputFlag(cmd, &output, formatTable, formatJSON)
	return cmd
}
