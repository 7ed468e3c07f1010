package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newAuditCmd(io IO) *cobra.Command {
	var (
		// in are the flags plan and apply take: audit resolves them as they do, so that the
		// same inputs give the same figures.
		in     inputFlags
		images []string
		output string
		ff     fleetFlags
	)
	cmd := describe(&cobra.Command{
		Use:   "audit (REPOSITORY... | --images FILE... | --all [REGISTRY...])",
		Short: "Count what a repository holds and costs, and diagnose what makes it grow",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case ff.all && len(images) > 0:
				return usageError("give --all or --images files, not both")
			case ff.all:
			case len(args) > 0 && len(images) > 0:
				return usageError("give REPOSITORY arguments or --images files, not both")
			case len(args) == 0 && len(images) == 0:
				return usageError("audit needs a REPOSITORY or --images FILE")
			case stdinUses(append(slices.Clone(images), in.policyFile)...) > 1:
				return usageError("only one of --images and --policy can read standard input")
			}
			if err := ff.check(cmd); err != nil {
				return err
			}
			return checkFormat(output, report.Table, report.JSON, report.Markdown, formatHTML)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if ff.all {
				return runFleet(cmd, io, &in, &ff, args, output)
			}
			inputs, pol, err := in.load(cmd, io, true)
			if err != nil {
				return err
			}
			req := lifecycle.AuditRequest{Inputs: inputs, Policy: pol, AWS: in.account(), Warn: func(msg string) { warn(io, msg) },
				Refs: args, Files: images, Stdin: io.In, Opened: func(t *lifecycle.Target) { in.report(io, t) },
				Open: func(ctx context.Context, ref string) (*lifecycle.Target, error) {
					return in.open(ctx, io, inputs.Config, ref)
				}}
			if output == formatHTML {
				audited, err := lifecycle.ReadAudited(cmd.Context(), req)
				if err != nil {
					return err
				}
				return writeFleet(cmd, io, &in, inputs, pol, lifecycle.FleetRepos(audited), output)
			}
			reports, err := lifecycle.Audit(cmd.Context(), req)
			if err != nil {
				return err
			}
			if err := render(io, "the audit", func(w writer) error { return audit.Write(w, reports, output, color(io)) }); err != nil {
				return err
			}
			for _, r := range reports {
				for _, d := range r.Diagnoses {
					if d.Severity == audit.Warning {
						warnActions(io, fmt.Sprintf("%s: %s. Fix: %s.", r.Repository, d.Message, d.Fix))
					}
				}
			}
			return nil
		},
	}, "audit")
	in.register(cmd)
	cmd.Flags().StringArrayVar(&images, "images", nil, "images `FILE`: describe-images JSON or a shipshape snapshot (\"-\" for standard input); repeat for several repositories")
	ff.register(cmd)
	addOutputFlag(cmd, &output, report.Table, report.JSON, report.Markdown, formatHTML)
	return cmd
}
