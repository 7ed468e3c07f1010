package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

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

// labelsReport is the JSON output of labels check.
type labelsReport struct {
	Image    string            `json:"image"`
	Digest   string            `json:"digest"`
	Checked  string            `json:"checkedDigest"`
	Labels   map[string]string `json:"labels"`
	Problems []verify.Problem  `json:"problems"`
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
			ctx := cmd.Context()
			v := verify.NewOCI(oci.Options{Insecure: insecure})
			if dgst == "" {
				d, err := v.Resolve(ctx, repo, tag)
				if err != nil {
					return err
				}
				dgst = d
			}
			labels, checked, err := v.Labels(ctx, repo, dgst)
			if err != nil {
				return fmt.Errorf("reading labels of %s@%s: %w", repo, dgst, err)
			}
			problems := verify.Check(labels, revision)
			if output == formatJSON {
				if problems == nil {
					problems = []verify.Problem{}
				}
				if err := writeJSON(io, labelsReport{Image: repo, Digest: dgst, Checked: checked, Labels: labels, Problems: problems}); err != nil {
					return err
				}
			} else if err := printLabels(io, repo, dgst, checked, labels, problems); err != nil {
				return err
			}
			if len(problems) > 0 {
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

func printLabels(io IO, repo, dgst, checked string, labels map[string]string, problems []verify.Problem) error {
	fmt.Fprintf(io.Out, "%s@%s\n", repo, dgst)
	if checked != dgst {
		fmt.Fprintf(io.Out, "checked image %s of the index\n", checked)
	}
	bad := make(map[string]verify.Problem, len(problems))
	for _, p := range problems {
		bad[p.Label] = p
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	for _, l := range []string{verify.LabelRevision, verify.LabelSource, verify.LabelCreated} {
		status, value := "ok", labels[l]
		if p, ok := bad[l]; ok {
			status, value = "FAIL", p.Message
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", status, l, value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(problems) == 0 {
		_, err := fmt.Fprintln(io.Out, "labels ok")
		return err
	}
	_, err := fmt.Fprintf(io.Out, "%d label problem(s)\n", len(problems))
	return err
}
