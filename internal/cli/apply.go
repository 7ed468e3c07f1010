package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newApplyCmd(io IO) *cobra.Command {
	var (
		in                 planInputs
		yes, force, native bool
		status, abandon    bool
		journalFile        string
		output             string
		batch              int
		maxAge             string
	)
	cmd := &cobra.Command{
		Use: `apply (--policy FILE REPOSITORY | PLANFILE [REPOSITORY]) (--yes | --native)
  shipshape apply (--status | --abandon) REPOSITORY`,
		Short: "Delete what the plan expires, safely; or set the policy on ECR",
		Long:  help("apply"),
		Example: `  shipshape apply --policy policy.json localhost:5000/team/app --yes
  shipshape plan --policy policy.json localhost:5000/team/app --out plan.json
  shipshape apply plan.json --yes
  shipshape apply --status localhost:5000/team/app
  shipshape apply --policy policy.json ghcr.io/acme/app --protect-digests pins.txt --grace 48h --yes`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usageError("apply needs --policy FILE REPOSITORY, or a PLANFILE")
			case len(args) > 2 || (len(args) == 2 && (in.policyFile != "" || status || abandon)):
				return usageError("apply takes one REPOSITORY, or a PLANFILE and optionally the REPOSITORY it must be for; got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			if status || abandon {
				if status && abandon {
					return usageError("give --status or --abandon, not both")
				}
				return journalCommand(io, args[0], journalFile, abandon, output)
			}
			a := &applyRun{io: io, in: &in, yes: yes, force: force, output: output, journal: journalFile}
			saved, err := lifecycle.ReadSavedPlan(args[0], in.policyFile != "")
			if err != nil {
				return usage(err)
			}
			if saved != nil {
				if native {
					return usageError("--native sets a policy; it cannot apply a saved plan")
				}
				age, err := config.ParseDuration(maxAge)
				if err != nil || age <= 0 {
					return usageError("--max-plan-age %q is not a positive duration such as 24h or 7d", maxAge)
				}
				if len(args) == 2 {
					host, repo, err := registry.ParseReference(args[1])
					if err != nil {
						return usageError("%v", err)
					}
					if host != saved.Host || repo != saved.Repository {
						return fmt.Errorf("%s is a plan for %s, not %s; plan %s again", args[0], saved.Ref(), host+"/"+repo, host+"/"+repo)
					}
				}
				return a.run(cmd, "", saved, age, batch)
			}
			if len(args) == 2 {
				return usageError("%s is not a saved plan; apply takes one REPOSITORY with --policy", args[0])
			}
			if native {
				return a.native(cmd, args[0])
			}
			return a.run(cmd, args[0], nil, 0, batch)
		},
	}
	in.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&force, "force", false, "apply a plan even when it removes more than --max-delete-percent")
	cmd.Flags().BoolVar(&native, "native", false, "Amazon ECR: set the policy as the repository's lifecycle policy instead of deleting (skipped when unchanged)")
	cmd.Flags().IntVar(&batch, "batch-size", 0, "deletions between two re-checks of the tags (default 50; 100 on ECR, one BatchDeleteImage call); a re-check costs one tag list and, on an OCI registry, one HEAD per tag")
	cmd.Flags().StringVar(&journalFile, "journal", "", "journal `FILE` (default: $XDG_STATE_HOME/shipshape/journal/HOST/REPOSITORY.jsonl)")
	cmd.Flags().StringVar(&maxAge, "max-plan-age", "24h", "refuse a saved plan made longer than `DURATION` ago")
	cmd.Flags().BoolVar(&status, "status", false, "show the repository's pending apply journal: its plan, what is done and what remains")
	cmd.Flags().BoolVar(&abandon, "abandon", false, "discard the repository's pending apply journal (nothing is deleted)")
	addOutputFlag(cmd, &output, formatTable, formatJSON)
	return cmd
}

// applyRun is one apply: the flags.
type applyRun struct {
	io      IO
	in      *planInputs
	yes     bool
	force   bool
	output  string
	journal string
}

// native sets the policy on ECR instead of deleting.
func (a *applyRun) native(cmd *cobra.Command, ref string) error {
	pol, _, cfg, err := a.in.load(cmd, a.io)
	if err != nil {
		return err
	}
	o, err := a.in.registry.open(cmd.Context(), a.io, cfg, ref)
	if err != nil {
		return err
	}
	defer a.in.registry.report(a.io, o)
	return applyNative(cmd.Context(), a.io, o, a.in.policyFile, a.in.policyText, pol, a.yes)
}

// run applies a plan made now from --policy (saved nil) on ref, or the saved plan.
func (a *applyRun) run(cmd *cobra.Command, ref string, saved *plan.Saved, maxAge time.Duration, batch int) error {
	io := a.io
	if batch < 0 {
		return usageError("--batch-size must be positive, got %d", batch)
	}
	req := lifecycle.ApplyRequest{Saved: saved, MaxPlanAge: maxAge, Journal: a.journal, Force: a.force, BatchSize: batch,
		Concurrency: a.in.registry.concurrency, AWS: a.in.registry.account(), Log: io.Err}
	var cfg *config.Config
	var err error
	if saved == nil {
		if req.Policy, _, cfg, err = a.in.load(cmd, io); err != nil {
			return err
		}
	} else {
		if a.in.policyFile != "" {
			return usageError("a saved plan carries its own decisions; apply it without --policy")
		}
		if _, cfg, err = a.in.safety.resolve(cmd, io); err != nil {
			return err
		}
		ref = saved.Ref()
	}
	if req.Inputs, err = a.in.inputs(); err != nil {
		return err
	}
	o, err := a.in.registry.open(cmd.Context(), io, cfg, ref)
	if err != nil {
		return err
	}
	defer a.in.registry.report(io, o)
	req.Target = o
	if req.Journal == "" {
		if req.Journal, err = lifecycle.JournalPath(io.Getenv, o.Host, o.Repo); err != nil {
			return err
		}
	}
	req.Confirm = func(p *lifecycle.Proposal) bool {
		plan.WriteTargets(io.Err, p.Ref, p.Plan, p.Inventory)
		question := fmt.Sprintf("Delete %d manifests from %s, reclaiming %s", p.Plan.Summary.Expire, p.Ref, report.Bytes(p.Plan.Summary.ReclaimedBytes))
		return a.yes || confirm(io, question)
	}
	if io.ErrTTY {
		req.Progress = progress(io, "deleting")
	}
	out, err := lifecycle.Apply(cmd.Context(), req)
	var refused *lifecycle.RefusedError
	switch {
	case errors.As(err, &refused):
		if out != nil {
			for _, u := range out.Plan.Unreadable {
				fmt.Fprintf(io.Err, "unreadable: %s%s: %s\n", u.Digest, report.TagList(u.Tags), u.Reason)
			}
		}
		if inActions(io) {
			annotate(io.Err, "error", "", 0, 0, refused.Error())
		}
		return err
	case out == nil:
		return err
	case out.Result == nil && err == nil:
		fmt.Fprintf(io.Err, "%s: nothing to delete (%d images kept)\n", o.Ref, out.Plan.Summary.Keep)
		if a.output == formatJSON {
			return writeApplyResult(io, &apply.Result{Repository: out.Inventory.Repository, Records: []apply.Record{}}, out.Inventory, out.Plan.Summary.PricePerGBMonth, a.output)
		}
		return nil
	case out.Result == nil:
		return err
	}
	res := out.Result
	if werr := writeApplyResult(io, res, out.Inventory, out.Plan.Summary.PricePerGBMonth, a.output); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		if len(res.Records) < res.Total {
			fmt.Fprintf(io.Err, "the apply on %s is incomplete: %d of %d done. Run the same command again to finish it (what remains is re-checked first), or discard it with: shipshape apply --abandon %s\n",
				o.Ref, len(res.Records), res.Total, o.Ref)
		}
		return err
	}
	if res.Failed > 0 || len(res.Problems) > 0 {
		return silentExit(ExitError)
	}
	return nil
}

// journalCommand carries out apply --status and --abandon.
func journalCommand(io IO, ref, path string, abandon bool, output string) error {
	if abandon {
		msg, err := lifecycle.AbandonJournal(io.Getenv, ref, path)
		if err != nil {
			return usage(err)
		}
		fmt.Fprintln(io.Out, msg)
		return nil
	}
	st, err := lifecycle.JournalStatus(io.Getenv, ref, path)
	if err != nil {
		return usage(err)
	}
	if output == formatJSON {
		return writeJSON(io, st)
	}
	apply.WriteStatus(io.Out, st)
	return nil
}

// applyNative sets the policy on an ECR repository unless ECR already has its equivalent.
func applyNative(ctx context.Context, io IO, o *opened, file string, text []byte, want *policy.Policy, yes bool) error {
	wrote, err := lifecycle.SetPolicy(ctx, o, text, want, func(replace bool) bool {
		what := map[bool]string{false: "Set", true: "Replace"}[replace]
		return yes || confirm(io, fmt.Sprintf("%s the lifecycle policy of %s with %s (ECR then expires images by it within 24 hours)", what, o.Ref, file))
	})
	switch {
	case errors.Is(err, lifecycle.ErrNoNativePolicies):
		return usageError("--native needs an Amazon ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/NAME); %s has no native lifecycle policies", o.Host)
	case errors.Is(err, lifecycle.ErrNotConfirmed):
		return errors.New("lifecycle policy not changed: --native writes only with --yes, or when confirmed on a terminal")
	case err != nil:
		return err
	case wrote:
		fmt.Fprintf(io.Out, "%s: lifecycle policy updated\n", o.Ref)
	default:
		fmt.Fprintf(io.Out, "%s: lifecycle policy unchanged\n", o.Ref)
	}
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

func writeApplyResult(io IO, res *apply.Result, inv *inventory.Inventory, price float64, output string) error {
	s := apply.Summarize(res, inv, price)
	if output == formatJSON {
		return writeJSON(io, s)
	}
	apply.WriteSummary(io.Out, s)
	return nil
}
