package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newApplyCmd(io IO) *cobra.Command {
	var (
		in                 planInputs
		yes, force, native bool
		journalFile        string
		output             string
		batch              int
	)
	cmd := &cobra.Command{
		Use:   "apply --policy FILE REPOSITORY (--yes | --native)",
		Short: "Delete what the plan expires, safely; or set the policy on ECR",
		Long: `Plan as "shipshape plan" does, then delete exactly what the plan expires from the repository.

With --native (Amazon ECR only), nothing is deleted by shipshape: the policy is set as the
repository's lifecycle policy, and ECR enforces it. The write is skipped when the policy ECR
has is already the same once normalised (rule order, tag-list order, default storage class),
so running it after every push is cheap and idempotent. The file is sent as it is.

Safety:
  - Nothing is deleted without --yes, or a typed confirmation on a terminal.
  - Pinned digests, protected tags and the grace period (shipshape.yaml, --protect-digests,
    --protect-tag, --grace) keep images, with their children and referrers; a plan over
    --max-delete-percent is refused unless --force is given.
  - Order: an index before its children, a subject before its referrers, so that no index
    ever lists a deleted manifest.
  - Before each batch the tags are read again: an image tagged since the plan, or newly
    referenced by an index or referrer, is skipped and reported.
  - Deletions are journalled. A run that is interrupted (killed, network down) is finished
    by the next apply on the same repository before anything else, without deleting
    anything outside the original plan; a manifest already gone counts as done.
  - Afterwards every kept index is checked to still have all its children.
  - Deleting a manifest deletes the tags on it: shipshape never deletes a manifest that
    carries a tag the plan keeps, and never removes a tag on its own.

Images the plan moves to archive are skipped: archive storage exists only on Amazon ECR.
Registries reclaim the space of deleted blobs by garbage collection (for CNCF distribution:
"registry garbage-collect").

Exit status: 0 when every planned deletion was done or found done, 1 when any failed, the
plan was refused, or the check afterwards found a problem; 2 on a usage error.`,
		Example: `  shipshape apply --policy policy.json localhost:5000/team/app --yes
  shipshape apply --policy policy.json ghcr.io/acme/app --protect-digests pins.txt --grace 48h --yes`,
		Args: exactArgs(1, "one REPOSITORY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			now, err := in.now()
			if err != nil {
				return err
			}
			pol, opts, cfg, err := in.load(cmd, io)
			if err != nil {
				return err
			}
			o, err := in.registry.open(cmd.Context(), io, cfg, args[0])
			if err != nil {
				return err
			}
			defer in.registry.report(io, o)
			if native {
				return applyNative(cmd.Context(), io, o, in.policyFile, in.policyText, pol, yes)
			}
			if journalFile == "" {
				if journalFile, err = defaultJournal(o.host, o.repo); err != nil {
					return err
				}
			}
			if batch < 0 {
				return usageError("--batch-size must be positive, got %d", batch)
			}
			if batch == 0 {
				batch = o.batch
			}
			aopts := apply.Options{JournalPath: journalFile, Concurrency: min(in.registry.concurrency, apply.DefaultConcurrency), BatchSize: batch}
			if io.ErrTTY {
				aopts.Progress = progress(io, "deleting")
			}
			ctx := cmd.Context()

			// An interrupted run is finished first, before anything new is planned.
			if st, err := apply.ReadJournal(journalFile); err == nil && !st.Done {
				if !yes && !confirm(io, fmt.Sprintf("An apply on %s started %s was interrupted with %d of %d deletions done. Finish it",
					st.Repository, st.Started.Format("2006-01-02 15:04"), st.Finished, st.Targets)) {
					return errors.New("an interrupted apply is pending; run again with --yes to finish it")
				}
				fmt.Fprintf(io.Err, "finishing the interrupted apply of %s (%d of %d done)\n", st.Repository, st.Finished, st.Targets)
				res, err := apply.Resume(ctx, o.reg, o.repo, aopts)
				if res != nil {
					writeApplyResult(io, res, nil, 0, output)
				}
				if err != nil {
					return err
				}
			} else if err != nil && !errors.Is(err, apply.ErrNoJournal) {
				return err
			}

			inv, err := o.reg.Inventory(ctx, o.repo)
			if err != nil {
				return fmt.Errorf("reading %s: %w", o.ref, err)
			}
			pl := plan.Build(pol, inv, now, opts)
			if pl.Refusal != "" {
				if !force {
					return fmt.Errorf("refusing to apply: %s", pl.Refusal)
				}
				fmt.Fprintf(io.Err, "warning: applying despite the limit (--force): %s\n", pl.Refusal)
				pl.Refusal = ""
			}
			if pl.Summary.Expire == 0 {
				fmt.Fprintf(io.Err, "%s: nothing to delete (%d images kept)\n", o.ref, pl.Summary.Keep)
				if output == formatJSON {
					return writeApplyResult(io, &apply.Result{Repository: inv.Repository, Records: []apply.Record{}}, inv, opts.PricePerGBMonth, output)
				}
				return nil
			}
			question := fmt.Sprintf("Delete %d manifests from %s, reclaiming %s", pl.Summary.Expire, o.ref, report.Bytes(pl.Summary.ReclaimedBytes))
			if !yes && !confirm(io, question) {
				return errors.New("nothing deleted: apply deletes only with --yes, or when confirmed on a terminal")
			}
			res, err := apply.Run(ctx, o.reg, o.repo, inv, pl, aopts)
			if res != nil {
				if werr := writeApplyResult(io, res, inv, opts.PricePerGBMonth, output); werr != nil && err == nil {
					err = werr
				}
			}
			if err != nil {
				return err
			}
			if res.Failed > 0 || len(res.Problems) > 0 {
				return silentExit(ExitError)
			}
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&force, "force", false, "apply a plan even when it removes more than --max-delete-percent")
	cmd.Flags().BoolVar(&native, "native", false, "Amazon ECR: set the policy as the repository's lifecycle policy instead of deleting (skipped when unchanged)")
	cmd.Flags().IntVar(&batch, "batch-size", 0, "deletions between two re-checks of the tags (default 50; 100 on ECR, one BatchDeleteImage call); a re-check costs one tag list and, on an OCI registry, one HEAD per tag")
	cmd.Flags().StringVar(&journalFile, "journal", "", "journal `FILE` (default: $XDG_STATE_HOME/shipshape/journal/HOST/REPOSITORY.jsonl)")
	addOutputFlag(cmd, &output, formatTable, formatJSON)
	return cmd
}

// applyNative sets the policy on an ECR repository unless ECR already has its equivalent.
func applyNative(ctx context.Context, io IO, o *opened, file string, text []byte, want *policy.Policy, yes bool) error {
	lp, ok := o.reg.(registry.LifecyclePolicies)
	if !ok {
		return usageError("--native needs an Amazon ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/NAME); %s has no native lifecycle policies", o.host)
	}
	current, err := lp.LifecyclePolicy(ctx, o.repo)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		current = ""
	case err != nil:
		return fmt.Errorf("reading the lifecycle policy of %s: %w", o.ref, err)
	}
	if current != "" {
		if have, perr := policy.Parse([]byte(current)); perr == nil && policy.Equal(have, want) {
			fmt.Fprintf(io.Out, "%s: lifecycle policy unchanged\n", o.ref)
			return nil
		}
	}
	what := "Set"
	if current != "" {
		what = "Replace"
	}
	if !yes && !confirm(io, fmt.Sprintf("%s the lifecycle policy of %s with %s (ECR then expires images by it within 24 hours)", what, o.ref, file)) {
		return errors.New("lifecycle policy not changed: --native writes only with --yes, or when confirmed on a terminal")
	}
	if err := lp.PutLifecyclePolicy(ctx, o.repo, strings.TrimSpace(string(text))); err != nil {
		return fmt.Errorf("setting the lifecycle policy of %s: %w", o.ref, err)
	}
	fmt.Fprintf(io.Out, "%s: lifecycle policy updated\n", o.ref)
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

// defaultJournal is where apply records its runs on a repository.
func defaultJournal(host, repo string) (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding a place for the journal (give --journal): %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	safe := strings.NewReplacer(":", "_").Replace(host)
	return filepath.Join(base, "shipshape", "journal", safe, filepath.FromSlash(repo)+".jsonl"), nil
}

type applyJSON struct {
	*apply.Result
	ReclaimedBytes    int64   `json:"reclaimedBytes"`
	MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
}

func writeApplyResult(io IO, res *apply.Result, inv *inventory.Inventory, price float64, output string) error {
	var reclaimed int64
	if inv != nil {
		removed := res.Removed()
		reclaimed = plan.Reclaimed(inv.Images, func(d string) bool { return removed[d] })
	}
	saving := plan.MonthlyCost(reclaimed, price)
	if output == formatJSON {
		return writeJSON(io, applyJSON{res, reclaimed, saving})
	}
	w := io.Out
	for _, r := range res.Records {
		if r.Outcome == apply.Skipped || r.Outcome == apply.Failed {
			fmt.Fprintf(w, "%-8s %s  %s\n", r.Outcome, inventory.ShortDigest(r.Digest), r.Reason)
		}
	}
	what := "Applied"
	if res.Resumed {
		what = "Finished the interrupted apply"
	}
	archived := ""
	if res.Archived > 0 {
		archived = fmt.Sprintf(", %d archived", res.Archived)
	}
	fmt.Fprintf(w, "%s on %s: %d deleted%s, %d already gone, %d skipped, %d failed.\n",
		what, res.Repository, res.Deleted, archived, res.Gone, res.Skipped, res.Failed)
	if inv != nil && res.Deleted+res.Gone > 0 {
		fmt.Fprintf(w, "Freed %s of blobs no remaining image references, saving $%.2f a month (the registry reclaims the space when it garbage-collects).\n",
			report.Bytes(reclaimed), saving)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	return nil
}
