package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newApplyCmd(io IO) *cobra.Command {
	var (
		in                 inputFlags
		yes, force, native bool
		status, abandon    bool
		journal, output    string
		quarantineDest     string
		quarantineBlobs    bool
		batch              int
		maxAge, recheck    string
	)
	cmd := describe(&cobra.Command{
		Use: `apply (--policy FILE REPOSITORY | PLANFILE [REPOSITORY]) (--yes | --native)
  shipshape apply (--status | --abandon) REPOSITORY`,
		Short: "Delete what the plan expires, safely; or set the policy on ECR",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usageError("apply needs --policy FILE REPOSITORY, or a PLANFILE")
			case len(args) > 2 || (len(args) == 2 && (in.policyFile != "" || status || abandon)):
				return usageError("apply takes one REPOSITORY, or a PLANFILE and optionally the REPOSITORY it must be for; got %d arguments", len(args))
			case status && abandon:
				return usageError("give --status or --abandon, not both")
			case batch < 0:
				return usageError("--batch-size must be positive, got %d", batch)
			}
			return checkFormat(output, report.Table, report.JSON)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case abandon:
				msg, err := lifecycle.AbandonJournal(io.Getenv, args[0], journal)
				if err == nil {
					fmt.Fprintln(io.Out, msg)
				}
				return usage(err)
			case status:
				st, err := lifecycle.JournalStatus(io.Getenv, args[0], journal)
				if err != nil {
					return usage(err)
				}
				return render(io, "the status", func(w writer) error { return apply.WriteStatusAs(w, st, output) })
			}
			interval, err := config.ParseDuration(recheck)
			if err != nil || interval < 0 {
				return usageError("--recheck-interval %q is not a duration such as 10m or 1h (0: every re-check resolves every tag)", recheck)
			}
			if interval == 0 {
				interval = -1 // every re-check is a full one
			}
			saved, err := lifecycle.ReadSavedPlan(args[0], in.policyFile != "")
			if err != nil {
				return usage(err)
			}
			req := lifecycle.ApplyRequest{Saved: saved, Journal: journal, Force: force, BatchSize: batch, RecheckInterval: interval,
				Concurrency: in.opts.Concurrency, AWS: in.account(), Log: io.Err}
			ref := args[len(args)-1]
			switch {
			case saved == nil:
				if req.Inputs, req.Policy, err = in.load(cmd, io, false); err != nil {
					return err
				}
			case native:
				return usageError("--native sets a policy; it cannot apply a saved plan")
			default:
				if req.MaxPlanAge, err = config.ParseDuration(maxAge); err != nil || req.MaxPlanAge <= 0 {
					return usageError("--max-plan-age %q is not a positive duration such as 24h or 7d", maxAge)
				}
				if len(args) == 1 {
					ref = saved.Ref()
				}
				if req.Inputs, err = in.resolve(cmd, io); err != nil {
					return err
				}
			}
			if req.Target, err = in.open(cmd.Context(), io, req.Inputs.Config, ref); err != nil {
				return err
			}
			defer in.report(io, req.Target)
			if native {
				if quarantineDest != "" {
					return usageError("--quarantine keeps copies of what apply deletes; with --native, ECR deletes by itself and nothing can be copied first")
				}
				return setNative(cmd, io, req.Target, &in, req.Policy, yes)
			}
			req.Quarantine, req.QuarantineBlobs = lifecycle.QuarantineDest(quarantineDest, quarantineBlobs, cmd.Flags().Changed("quarantine-blobs"), req.Inputs.Config)
			return runApply(cmd, io, req, yes, output)
		},
	}, "apply")
	in.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&force, "force", false, "apply a plan even when it removes more than --max-delete-percent")
	cmd.Flags().BoolVar(&native, "native", false, "Amazon ECR: set the policy as the repository's lifecycle policy instead of deleting (skipped when unchanged)")
	cmd.Flags().IntVar(&batch, "batch-size", 0, "deletions between two re-checks of the tags (default 50; 100 on ECR, one BatchDeleteImage call); a re-check costs one tag list and, on an OCI registry, a HEAD for each new tag and each tag of the batch's images")
	cmd.Flags().StringVar(&recheck, "recheck-interval", "10m", "resolve every tag again (one HEAD each on an OCI registry) when the last full check is older than `DURATION`; 0 does it before every batch")
	cmd.Flags().StringVar(&journal, "journal", "", "journal `FILE` (default: $XDG_STATE_HOME/shipshape/journal/HOST/REPOSITORY.jsonl)")
	cmd.Flags().StringVar(&quarantineDest, "quarantine", "", "copy every manifest to `DEST` before deleting it, for shipshape restore: a directory (an OCI image layout) or a repository HOST/REPO (default: shipshape.yaml's safety.quarantine)")
	cmd.Flags().BoolVar(&quarantineBlobs, "quarantine-blobs", false, "copy layers into the quarantine too, so that a restore works after the registry's garbage collection (costs the images' full size in the quarantine)")
	cmd.Flags().StringVar(&maxAge, "max-plan-age", "24h", "refuse a saved plan made longer than `DURATION` ago")
	cmd.Flags().BoolVar(&status, "status", false, "show the repository's pending apply journal: its plan, what is done and what remains")
	cmd.Flags().BoolVar(&abandon, "abandon", false, "discard the repository's pending apply journal (nothing is deleted)")
	addOutputFlag(cmd, &output, report.Table, report.JSON)
	return cmd
}

// runApply carries out an apply and reports what it did.
func runApply(cmd *cobra.Command, io IO, req lifecycle.ApplyRequest, yes bool, output string) error {
	t := req.Target
	req.Getenv = io.Getenv
	req.Confirm = func(p *lifecycle.Proposal) bool {
		plan.WriteTargets(io.Err, p.Ref, p.Plan, p.Inventory)
		return yes || confirm(io, fmt.Sprintf("Delete %d manifests from %s, reclaiming %s", p.Plan.Summary.Expire, p.Ref, report.Bytes(p.Plan.Summary.ReclaimedBytes)))
	}
	out, err := lifecycle.Apply(cmd.Context(), req)
	if refused, ok := errors.AsType[*lifecycle.RefusedError](err); ok {
		if out != nil {
			plan.WriteUnreadable(io.Err, out.Plan.Unreadable)
		}
		if inActions(io) {
			report.Annotate(io.Err, "error", "", 0, 0, refused.Error())
		}
		return err
	}
	if out == nil || (out.Result == nil && err != nil) {
		return err
	}
	res := out.Result
	if res == nil {
		fmt.Fprintf(io.Err, "%s: nothing to delete (%d images kept)\n", t.Ref, out.Plan.Summary.Keep)
		if output != report.JSON {
			return nil
		}
		res = &apply.Result{Repository: out.Inventory.Repository, Records: []apply.Record{}}
	}
	s := apply.Summarize(res, out.Inventory, out.Plan.Summary.PricePerGBMonth)
	if werr := render(io, "the summary", func(w writer) error { return apply.WriteSummaryAs(w, s, output) }); werr != nil && err == nil {
		err = werr
	}
	switch {
	case err != nil && len(res.Records) < res.Total:
		fmt.Fprintf(io.Err, "the apply on %s is incomplete: %d of %d done. Run the same command again to finish it (what remains is re-checked first), or discard it with: shipshape apply --abandon %s\n",
			t.Ref, len(res.Records), res.Total, t.Ref)
		return err
	case err != nil:
		return err
	case res.Failed > 0 || len(res.Problems) > 0:
		return silentExit(ExitError)
	}
	return nil
}

// setNative sets the policy on an ECR repository unless ECR already has its equivalent.
func setNative(cmd *cobra.Command, io IO, t *lifecycle.Target, in *inputFlags, pol *policy.Policy, yes bool) error {
	wrote, err := lifecycle.SetPolicy(cmd.Context(), t, in.policyText, pol, func(replace bool) bool {
		what := map[bool]string{false: "Set", true: "Replace"}[replace]
		return yes || confirm(io, fmt.Sprintf("%s the lifecycle policy of %s with %s (ECR then expires images by it within 24 hours)", what, t.Ref, in.policyFile))
	})
	switch {
	case errors.Is(err, lifecycle.ErrNoNativePolicies):
		return usageError("--native needs an Amazon ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/NAME); %s has no native lifecycle policies", t.Host)
	case errors.Is(err, lifecycle.ErrNotConfirmed):
		return errors.New("lifecycle policy not changed: --native writes only with --yes, or when confirmed on a terminal")
	case err != nil:
		return err
	}
	fmt.Fprintf(io.Out, "%s: lifecycle policy %s\n", t.Ref, map[bool]string{false: "unchanged", true: "updated"}[wrote])
	return nil
}

// confirm asks on a terminal; without one the answer is no.
func confirm(io IO, question string) bool {
	if !io.InTTY {
		return false
	}
	fmt.Fprintf(io.Err, "%s? Type yes to continue: ", question)
	line, _ := bufio.NewReader(io.In).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}
