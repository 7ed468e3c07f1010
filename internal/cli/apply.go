package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
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
			saved, err := readSavedPlan(args[0], in.policyFile)
			if err != nil {
				return err
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
					host, repo, err := oci.ParseReference(args[1])
					if err != nil {
						return usageError("%v", err)
					}
					if host != saved.Host || repo != saved.Repository {
						return fmt.Errorf("%s is a plan for %s, not %s; plan %s again", args[0], saved.Ref(), host+"/"+repo, host+"/"+repo)
					}
				}
				return a.runSaved(cmd, saved, age, batch)
			}
			if len(args) == 2 {
				return usageError("%s is not a saved plan; apply takes one REPOSITORY with --policy", args[0])
			}
			if native {
				return a.native(cmd, args[0])
			}
			return a.runPolicy(cmd, args[0], batch)
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

// readSavedPlan returns the saved plan arg names, or nil when arg is a repository: with
// --policy, or when no file of that name exists.
func readSavedPlan(arg, policyFile string) (*plan.Saved, error) {
	if policyFile != "" {
		if _, err := os.Stat(arg); err == nil && strings.HasSuffix(arg, ".json") {
			return nil, usageError("%s is a file: apply a saved plan without --policy (shipshape apply %s), or name a REPOSITORY", arg, arg)
		}
		return nil, nil
	}
	data, err := os.ReadFile(arg)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageError("apply needs --policy FILE REPOSITORY, or a PLANFILE written by \"shipshape plan --out\" (%s is no file)", arg)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", arg, pathCause(err))
	}
	s, err := plan.ReadSaved(data)
	if errors.Is(err, plan.ErrNotSaved) {
		return nil, fmt.Errorf("%s is not a saved plan; write one with \"shipshape plan --policy FILE REPOSITORY --out %s\"", arg, arg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return s, nil
}

// applyRun is one apply: the flags, and what the steps learn on the way.
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

// runPolicy plans the repository now with --policy and carries the plan out.
func (a *applyRun) runPolicy(cmd *cobra.Command, ref string, batch int) error {
	now, err := a.in.now()
	if err != nil {
		return err
	}
	pol, opts, cfg, err := a.in.load(cmd, a.io)
	if err != nil {
		return err
	}
	o, err := a.in.registry.open(cmd.Context(), a.io, cfg, ref)
	if err != nil {
		return err
	}
	defer a.in.registry.report(a.io, o)
	pending, err := a.pendingJournal(o)
	if err != nil {
		return err
	}
	inv, err := o.Reg.Inventory(cmd.Context(), o.Repo)
	if err != nil {
		return fmt.Errorf("reading %s: %w", o.Ref, err)
	}
	if err := a.in.keepInUse(cmd.Context(), a.io, o.Host, o.Repo, inv, &opts, true); err != nil {
		return err
	}
	pl := plan.Build(pol, inv, now, opts)
	digest := plan.Save(pl, o.Host, o.Repo, pol, inv, opts, now).Digest()
	return a.carryOut(cmd.Context(), o, inv, pl, nil, digest, pending, opts.PricePerGBMonth, batch)
}

// runSaved re-checks a saved plan against the repository now and carries it out.
func (a *applyRun) runSaved(cmd *cobra.Command, saved *plan.Saved, maxAge time.Duration, batch int) error {
	if a.in.policyFile != "" {
		return usageError("a saved plan carries its own decisions; apply it without --policy")
	}
	now, err := a.in.now()
	if err != nil {
		return err
	}
	if age := now.Sub(saved.CreatedAt); age > maxAge {
		return fmt.Errorf("the plan was made %s ago (%s), longer ago than --max-plan-age %s; plan again, or raise --max-plan-age",
			age.Round(time.Minute), saved.CreatedAt.Format(time.RFC3339), maxAge)
	}
	opts, cfg, err := a.in.safety.resolve(cmd, a.io)
	if err != nil {
		return err
	}
	o, err := a.in.registry.open(cmd.Context(), a.io, cfg, saved.Ref())
	if err != nil {
		return err
	}
	defer a.in.registry.report(a.io, o)
	if o.Host != saved.Host || o.Repo != saved.Repository {
		return fmt.Errorf("the saved plan is for %s, which names the repository %s", saved.Ref(), o.Ref)
	}
	pending, err := a.pendingJournal(o)
	if err != nil {
		return err
	}
	inv, err := o.Reg.Inventory(cmd.Context(), o.Repo)
	if err != nil {
		return fmt.Errorf("reading %s: %w", o.Ref, err)
	}
	if err := a.in.keepInUse(cmd.Context(), a.io, o.Host, o.Repo, inv, &opts, true); err != nil {
		return err
	}
	fmt.Fprintf(a.io.Err, "applying the plan made %s ago for %s (policy %s), re-checked against the repository now\n",
		now.Sub(saved.CreatedAt).Round(time.Second), saved.Ref(), inventory.ShortDigest(saved.PolicyDigest))
	pl := plan.Recheck(saved.Plan, inv, now, opts)
	return a.carryOut(cmd.Context(), o, inv, pl, saved, saved.Digest(), pending, opts.PricePerGBMonth, batch)
}

// pendingJournal returns the unfinished journal of the repository's apply, if any. A
// journal of another repository is an error: it never acts there.
func (a *applyRun) pendingJournal(o *opened) (*apply.State, error) {
	if a.journal == "" {
		var err error
		if a.journal, err = defaultJournal(a.io, o.Host, o.Repo); err != nil {
			return nil, err
		}
	}
	st, err := apply.ReadJournal(a.journal)
	switch {
	case errors.Is(err, apply.ErrNoJournal):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if err := st.Check(o.Host, o.Repo); err != nil {
		return nil, fmt.Errorf("journal %s: %w", a.journal, err)
	}
	if st.Done {
		return nil, nil
	}
	return st, nil
}

// carryOut shows what the plan removes, asks, and runs it. saved is the saved plan pl was
// re-checked from, or nil.
func (a *applyRun) carryOut(ctx context.Context, o *opened, inv *inventory.Inventory, pl *plan.Plan, saved *plan.Saved, digest string, pending *apply.State, price float64, batch int) error {
	io := a.io
	if pending != nil {
		if pending.PlanDigest == digest {
			fmt.Fprintf(io.Err, "resuming the interrupted apply of %s started %s (%d of %d done); what remains is re-checked first\n",
				pending.Ref(), pending.Started.Local().Format("2006-01-02 15:04"), pending.Finished, pending.Targets)
		} else {
			fmt.Fprintf(io.Err, "an interrupted apply of %s started %s (%d of %d done) is replaced: this plan is made from the repository as it is now, under today's safety settings\n",
				pending.Ref(), pending.Started.Local().Format("2006-01-02 15:04"), pending.Finished, pending.Targets)
		}
	}
	if saved != nil {
		writeRecheckChanges(io.Err, saved, pl)
	}
	if pl.Blocked != "" {
		for _, u := range pl.Unreadable {
			fmt.Fprintf(io.Err, "unreadable: %s%s: %s\n", u.Digest, tagList(u.Tags), u.Reason)
		}
		if inActions(io) {
			annotate(io.Err, "error", "", 0, 0, o.Ref+": "+pl.Blocked)
		}
		return fmt.Errorf("refusing to apply to %s: %s", o.Ref, pl.Blocked)
	}
	if pl.Refusal != "" {
		if !a.force {
			if inActions(io) {
				annotate(io.Err, "error", "", 0, 0, o.Ref+": refusing to apply: "+pl.Refusal)
			}
			return fmt.Errorf("refusing to apply to %s: %s", o.Ref, pl.Refusal)
		}
		fmt.Fprintf(io.Err, "warning: applying despite the limit (--force): %s\n", pl.Refusal)
		pl.Refusal = ""
	}
	if pl.Summary.Expire+pl.Summary.Transition == 0 {
		fmt.Fprintf(io.Err, "%s: nothing to delete (%d images kept)\n", o.Ref, pl.Summary.Keep)
		if a.output == formatJSON {
			return writeApplyResult(io, &apply.Result{Repository: inv.Repository, Records: []apply.Record{}}, inv, price, a.output)
		}
		return nil
	}
	writeTargets(io.Err, o.Ref, pl, inv)
	question := fmt.Sprintf("Delete %d manifests from %s, reclaiming %s", pl.Summary.Expire, o.Ref, report.Bytes(pl.Summary.ReclaimedBytes))
	if !a.yes && !confirm(io, question) {
		return errors.New("nothing deleted: apply deletes only with --yes, or when confirmed on a terminal")
	}
	if batch < 0 {
		return usageError("--batch-size must be positive, got %d", batch)
	}
	if batch == 0 {
		batch = o.Batch
	}
	aopts := apply.Options{
		JournalPath: a.journal, Host: o.Host, PlanDigest: digest,
		Concurrency: min(a.in.registry.concurrency, apply.DefaultConcurrency), BatchSize: batch,
	}
	if io.ErrTTY {
		aopts.Progress = progress(io, "deleting")
	}
	res, err := apply.Run(ctx, o.Reg, o.Repo, inv, pl, aopts)
	if res != nil {
		if werr := writeApplyResult(io, res, inv, price, a.output); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		if res != nil && len(res.Records) < res.Total {
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

// maxListed bounds the images listed before an apply: enough to recognise the plan.
const maxListed = 10

// writeTargets shows what a plan removes: per rule, counts and bytes; then the first
// images, with their tags.
func writeTargets(w io.Writer, ref string, pl *plan.Plan, inv *inventory.Inventory) {
	fmt.Fprintf(w, "Plan for %s: delete %d of %d manifests, reclaiming %s", ref, pl.Summary.Expire, pl.Summary.Images, report.Bytes(pl.Summary.ReclaimedBytes))
	if pl.Summary.Transition > 0 {
		fmt.Fprintf(w, "; archive %d", pl.Summary.Transition)
	}
	fmt.Fprintln(w)
	for _, t := range plan.Totals(pl, inv) {
		what := "rule " + strconv.Itoa(t.RulePriority)
		if t.RulePriority == 0 {
			what = "safety layer"
		}
		if t.Description != "" {
			what += " (" + t.Description + ")"
		}
		fmt.Fprintf(w, "  %-40s %s %d, %s\n", what, verbOf(t.Action), t.Images, report.Bytes(t.Bytes))
	}
	listed := 0
	for _, it := range pl.Images {
		if it.Action != policy.Expire && it.Action != policy.Transition {
			continue
		}
		if listed == maxListed {
			fmt.Fprintf(w, "  … and %d more (shipshape plan lists them all)\n", pl.Summary.Expire+pl.Summary.Transition-maxListed)
			break
		}
		fmt.Fprintf(w, "  %-8s %s%s\n", verbOf(it.Action), inventory.ShortDigest(it.Digest), tagList(it.Tags))
		listed++
	}
}

// writeRecheckChanges lists the targets of a saved plan that the re-check keeps, and
// those already gone.
func writeRecheckChanges(w io.Writer, saved *plan.Saved, pl *plan.Plan) {
	now := make(map[string]*plan.Item, len(pl.Images))
	for i := range pl.Images {
		now[pl.Images[i].Digest] = &pl.Images[i]
	}
	gone, kept := 0, 0
	for _, it := range saved.Plan.Images {
		if it.Action != policy.Expire && it.Action != policy.Transition {
			continue
		}
		cur, ok := now[it.Digest]
		switch {
		case !ok:
			gone++
		case cur.Action == policy.Keep:
			kept++
			fmt.Fprintf(w, "kept now  %s%s: %s\n", inventory.ShortDigest(it.Digest), tagList(it.Tags), cur.Reason)
		}
	}
	if gone+kept > 0 {
		fmt.Fprintf(w, "re-check: %d of the plan's targets are kept now, %d are already gone\n", kept, gone)
	}
}

func verbOf(v policy.Verdict) string {
	if v == policy.Transition {
		return "archive"
	}
	return "delete"
}

func tagList(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	return " (" + strings.Join(tags, ", ") + ")"
}

// journalCommand carries out apply --status and --abandon.
func journalCommand(io IO, ref, path string, abandon bool, output string) error {
	host, repo, err := oci.ParseReference(ref)
	if err != nil {
		return usageError("%v", err)
	}
	if path == "" {
		if path, err = defaultJournal(io, host, repo); err != nil {
			return err
		}
	}
	st, err := apply.ReadJournal(path)
	if errors.Is(err, apply.ErrNoJournal) {
		if output == formatJSON {
			return writeJSON(io, journalJSON{Host: host, Repository: repo, Journal: path, Remaining: []apply.Record{}})
		}
		fmt.Fprintf(io.Out, "%s: no apply journal (%s)\n", host+"/"+repo, path)
		return nil
	}
	if err != nil && !abandon {
		return err
	}
	if err == nil {
		if cerr := st.Check(host, repo); cerr != nil {
			return fmt.Errorf("journal %s: %w", path, cerr)
		}
	}
	if abandon {
		if err := apply.Abandon(path); err != nil {
			return err
		}
		switch {
		case st == nil:
			fmt.Fprintf(io.Out, "%s: discarded the unreadable journal %s\n", host+"/"+repo, path)
		case st.Done:
			fmt.Fprintf(io.Out, "%s: discarded the journal of a finished apply\n", st.Ref())
		default:
			fmt.Fprintf(io.Out, "%s: discarded the interrupted apply (%d of %d done); the %d remaining targets stay in the registry\n",
				st.Ref(), st.Finished, st.Targets, st.Targets-st.Finished)
		}
		return nil
	}
	remaining := st.Remaining()
	if output == formatJSON {
		if remaining == nil {
			remaining = []apply.Record{}
		}
		return writeJSON(io, journalJSON{Host: st.Host, Repository: st.Repository, Journal: path, PlanDigest: st.PlanDigest,
			Started: &st.Started, Targets: st.Targets, Finished: st.Finished, Done: st.Done, Pending: !st.Done, Remaining: remaining})
	}
	w := io.Out
	if st.Done {
		fmt.Fprintf(w, "%s: the last apply (started %s) finished; nothing is pending\n", st.Ref(), st.Started.Local().Format("2006-01-02 15:04"))
		return nil
	}
	fmt.Fprintf(w, "%s: an interrupted apply is pending\n", st.Ref())
	fmt.Fprintf(w, "  journal    %s\n  plan       %s\n  started    %s\n  done       %d of %d\n  remaining  %d\n",
		path, st.PlanDigest, st.Started.Local().Format("2006-01-02 15:04:05"), st.Finished, st.Targets, len(remaining))
	for i, r := range remaining {
		if i == maxListed {
			fmt.Fprintf(w, "    … and %d more\n", len(remaining)-maxListed)
			break
		}
		fmt.Fprintf(w, "    %s%s\n", inventory.ShortDigest(r.Digest), tagList(r.Tags))
	}
	fmt.Fprintf(w, "Finish it by running the apply again (what remains is re-checked first), or discard it: shipshape apply --abandon %s\n", st.Ref())
	return nil
}

// journalJSON is apply --status -o json.
type journalJSON struct {
	Host       string         `json:"host"`
	Repository string         `json:"repository"`
	Journal    string         `json:"journal"`
	PlanDigest string         `json:"planDigest,omitempty"`
	Started    *time.Time     `json:"started,omitempty"`
	Targets    int            `json:"targets"`
	Finished   int            `json:"finished"`
	Done       bool           `json:"done"`
	Pending    bool           `json:"pending"`
	Remaining  []apply.Record `json:"remaining"`
}

// applyNative sets the policy on an ECR repository unless ECR already has its equivalent.
func applyNative(ctx context.Context, io IO, o *opened, file string, text []byte, want *policy.Policy, yes bool) error {
	lp, ok := o.Reg.(registry.LifecyclePolicies)
	if !ok {
		return usageError("--native needs an Amazon ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/NAME); %s has no native lifecycle policies", o.Host)
	}
	current, err := lp.LifecyclePolicy(ctx, o.Repo)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		current = ""
	case err != nil:
		return fmt.Errorf("reading the lifecycle policy of %s: %w", o.Ref, err)
	}
	if current != "" {
		if have, perr := policy.Parse([]byte(current)); perr == nil && policy.Equal(have, want) {
			fmt.Fprintf(io.Out, "%s: lifecycle policy unchanged\n", o.Ref)
			return nil
		}
	}
	what := "Set"
	if current != "" {
		what = "Replace"
	}
	if !yes && !confirm(io, fmt.Sprintf("%s the lifecycle policy of %s with %s (ECR then expires images by it within 24 hours)", what, o.Ref, file)) {
		return errors.New("lifecycle policy not changed: --native writes only with --yes, or when confirmed on a terminal")
	}
	if err := lp.PutLifecyclePolicy(ctx, o.Repo, strings.TrimSpace(string(text))); err != nil {
		return fmt.Errorf("setting the lifecycle policy of %s: %w", o.Ref, err)
	}
	fmt.Fprintf(io.Out, "%s: lifecycle policy updated\n", o.Ref)
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
func defaultJournal(io IO, host, repo string) (string, error) {
	base := io.Getenv("XDG_STATE_HOME")
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
			fmt.Fprintf(w, "%-8s %s%s  %s\n", r.Outcome, inventory.ShortDigest(r.Digest), tagList(r.Tags), r.Detail)
		}
	}
	what := "Applied"
	if res.Resumed {
		what = fmt.Sprintf("Resumed the interrupted apply (%d done before)", res.DoneBefore)
	}
	archived := ""
	if res.Archived > 0 {
		archived = fmt.Sprintf(", %d archived", res.Archived)
	}
	notDone := ""
	if n := res.Total - len(res.Records); n > 0 {
		notDone = fmt.Sprintf(", %d not attempted", n)
	}
	fmt.Fprintf(w, "%s on %s: %d deleted%s, %d already gone, %d skipped, %d failed%s.\n",
		what, res.Repository, res.Deleted, archived, res.Gone, res.Skipped, res.Failed, notDone)
	if inv != nil && res.Deleted+res.Gone > 0 {
		fmt.Fprintf(w, "Freed %s of blobs no remaining image references, saving $%.2f a month (the registry reclaims the space when it garbage-collects).\n",
			report.Bytes(reclaimed), saving)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	return nil
}
