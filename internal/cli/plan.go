package cli

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newPlanCmd(io IO) *cobra.Command {
	var (
		in                   inputFlags
		imagesFile, outFile  string
		output               string
		detailed, ecrPreview bool
		view                 plan.View
		ff                   fleetFlags
	)
	cmd := describe(&cobra.Command{
		Use:   "plan --policy FILE (REPOSITORY | --images FILE) | plan --all [REGISTRY...] [--policy FILE]",
		Short: "Show what a lifecycle policy would do to a repository, and what it reclaims",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case ff.all && (imagesFile != "" || outFile != "" || ecrPreview):
				return usageError("--all plans every repository of the registries: it takes no --images, --out or --ecr-preview")
			case ff.all:
				return cmp.Or(ff.check(cmd), checkFormat(output, report.Table, report.JSON, report.Markdown))
			case output == "ut" && !cmd.Flags().Changed("out"):
				return usageError("-out is read as -o ut (the output format); to save the plan, use --out FILE")
			case len(args) > 1:
				return usageError("plan takes one REPOSITORY, got %d", len(args))
			case len(args) == 1 && imagesFile != "":
				return usageError("give either a REPOSITORY or --images FILE, not both")
			case len(args) == 0 && imagesFile == "":
				return usageError("plan needs a REPOSITORY or --images FILE")
			case outFile != "" && imagesFile != "":
				return usageError("--out needs a REPOSITORY: a saved plan is bound to the registry and repository it was made against, and apply re-checks it there")
			case stdinUses(in.policyFile, imagesFile) > 1:
				return usageError("--policy and --images cannot both read standard input")
			case ecrPreview && imagesFile != "":
				return usageError("--ecr-preview needs an Amazon ECR REPOSITORY, not --images")
			}
			return cmp.Or(ff.check(cmd), checkFormat(output, report.Table, report.JSON, report.Markdown))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if ff.all {
				return runFleet(cmd, io, &in, &ff, args, output)
			}
			inputs, pol, err := in.load(cmd, io, false)
			if err != nil {
				return err
			}
			req := lifecycle.PlanRequest{Inputs: inputs, Policy: pol, PolicyText: in.policyText, ECRPreview: ecrPreview,
				AWS: in.account(), Warn: func(msg string) { warn(io, msg) }}
			if imagesFile != "" {
				if req.Inventory, err = lifecycle.ReadInventory(io.In, imagesFile); err != nil {
					return err
				}
			} else {
				if req.Target, err = in.open(cmd.Context(), io, inputs.Config, args[0]); err != nil {
					return err
				}
				defer in.report(io, req.Target)
				if w := lifecycle.PendingWarning(io.Getenv, req.Target); w != "" {
					warn(io, w)
				}
			}
			out, err := lifecycle.Plan(cmd.Context(), req)
			if errors.Is(err, lifecycle.ErrNoPreview) {
				return usageError("--ecr-preview needs an Amazon ECR repository; %s is not one", req.Target.Host)
			} else if err != nil {
				return err
			}
			pl := out.Plan
			if err := render(io, "the plan", func(w writer) error { return plan.Write(w, pl, output, color(io), view) }); err != nil {
				return err
			}
			if outFile != "" {
				if err := lifecycle.SavePlan(outFile, out.Saved); err != nil {
					return err
				}
				fmt.Fprintf(io.Err, "saved the plan for %s to %s; apply it with: shipshape apply %s\n", req.Target.Ref, outFile, outFile)
			}
			if pl.Blocked != "" {
				return fmt.Errorf("%s: %s", pl.Repository, pl.Blocked)
			}
			for _, warn := range pl.Warnings {
				warnActions(io, warn)
			}
			if detailed && pl.Summary.Expire+pl.Summary.Transition > 0 {
				return silentExit(ExitChanges)
			}
			return nil
		},
	}, "plan")
	in.register(cmd)
	cmd.Flags().StringVar(&imagesFile, "images", "", "read the images from `FILE`: describe-images JSON or a shipshape snapshot (\"-\" for standard input)")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 3 when the plan expires or transitions any image")
	cmd.Flags().StringVar(&outFile, "out", "", "also save the plan to `FILE`, for \"shipshape apply FILE\" (needs a REPOSITORY)")
	cmd.Flags().BoolVarP(&view.ShowKept, "show-kept", "v", false, "also list the images the plan keeps, with why (table and markdown)")
	cmd.Flags().BoolVar(&view.SummaryOnly, "summary-only", false, "print only the figures (JSON: without the images)")
	cmd.Flags().BoolVar(&ecrPreview, "ecr-preview", false, "Amazon ECR: also run ECR's own lifecycle policy preview and show where it differs from shipshape's evaluation")
	ff.register(cmd)
	addOutputFlag(cmd, &output, report.Table, report.JSON, report.Markdown)
	return cmd
}

// stdinUses counts the names that read standard input ("-").
func stdinUses(names ...string) int {
	n := 0
	for _, name := range names {
		if name == "-" {
			n++
		}
	}
	return n
}
