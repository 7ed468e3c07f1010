package cli

import (
	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/report"
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
	cmd := describe(&cobra.Command{
		Use:   "check IMAGE[@DIGEST|:TAG] [--revision SHA]",
		Short: "Check that an image carries the OCI labels of its build",
		Args:  argCount(1, 1, "needs one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, report.Table, report.JSON); err != nil {
				return err
			}
			repo, tag, dgst, rev, err := verify.ParseCheck(args[0], revision)
			if err != nil {
				return usageError("%v", err)
			}
			rep, err := verify.NewOCI(oci.Options{Insecure: insecure}).Report(cmd.Context(), repo, tag, dgst, rev)
			if err != nil {
				return err
			}
			if err := render(io, "the report", func(w writer) error { return verify.Write(w, rep, output) }); err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return silentExit(ExitError)
			}
			return nil
		},
	}, "labels")
	fs := cmd.Flags()
	fs.StringVar(&revision, "revision", "", "the commit `SHA` the image must have been built from")
	fs.BoolVar(&insecure, "insecure", false, "use plain HTTP (localhost and 127.0.0.1 always do)")
	addOutputFlag(cmd, &output, report.Table, report.JSON)
	return cmd
}
