package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// ApplyRequest is one apply: of a plan made now from Policy, or of Saved, a plan saved
// earlier, re-checked against the repository. Every path goes through the safety settings
// of Inputs as they are now: there is no way around them.
type ApplyRequest struct {
	Target *Target
	Inputs *Inputs
	// Policy or Saved: exactly one.
	Policy *policy.Policy
	Saved  *plan.Saved
	// MaxPlanAge refuses a saved plan made longer ago; 0 means no limit.
	MaxPlanAge time.Duration
	// Journal is the journal's path; "" means JournalPath's default under Getenv (nil:
	// the process's environment).
	Journal string
	Getenv  func(string) string
	// Force applies a plan over the blast-radius limit (never one that is blocked).
	Force bool
	// BatchSize and Concurrency tune the run; 0 means the target's and apply's defaults.
	BatchSize, Concurrency int
	// RecheckInterval bounds how long ago every tag may have been resolved when a batch is
	// deleted (apply.Options.RecheckInterval): 0 means apply's default, a negative value
	// resolves every tag before every batch.
	RecheckInterval time.Duration
	// AWS is the account the ecs and lambda in-use sources use.
	AWS ecr.Account
	// Quarantine is where a copy of every manifest goes before it is deleted: a directory
	// (an OCI image layout) or a repository HOST/REPO; "" keeps none (see QuarantineDest).
	// QuarantineBlobs copies layers too.
	Quarantine      string
	QuarantineBlobs bool
	// Log receives what people should know on the way: a resumed or replaced journal,
	// targets kept since a saved plan was made, a forced limit.
	Log io.Writer
	// Confirm is asked once the plan is known and has something to remove; false stops
	// the apply before anything is deleted (ErrNotConfirmed).
	Confirm func(*Proposal) bool
	// Progress is told how far the apply has come (see apply.Options.Progress); nil means
	// the Target's (RegistryOptions.Progress), so that the backend's counts of the tags it
	// re-checks show in apply's re-check phase. Both nil report nothing.
	Progress progress.Reporter
}

// Proposal is what an apply is about to do, for Confirm.
type Proposal struct {
	Ref       string
	Plan      *plan.Plan
	Inventory *inventory.Inventory
}

// ApplyOutcome is what an apply did. Result is nil when nothing ran (nothing to remove).
type ApplyOutcome struct {
	Result    *apply.Result
	Plan      *plan.Plan
	Inventory *inventory.Inventory
}

// ErrNotConfirmed is returned when Confirm said no.
var ErrNotConfirmed = errors.New("nothing deleted: apply deletes only with --yes, or when confirmed on a terminal")

// RefusedError says why an apply deleted nothing: the plan is blocked (unreadable
// manifests), over the limit, or what runs is not completely known.
type RefusedError struct {
	Ref, Reason string
}

func (e *RefusedError) Error() string { return "refusing to apply to " + e.Ref + ": " + e.Reason }

// Apply plans (or re-checks) and carries out one apply.
func Apply(ctx context.Context, req ApplyRequest) (*ApplyOutcome, error) {
	t, in, log := req.Target, req.Inputs, req.Log
	if log == nil {
		log = io.Discard
	}
	opts := in.Options
	if s := req.Saved; s != nil {
		if age := in.Now.Sub(s.CreatedAt); req.MaxPlanAge > 0 && age > req.MaxPlanAge {
			return nil, fmt.Errorf("the plan was made %s ago (%s), longer ago than --max-plan-age %s; plan again, or raise --max-plan-age",
				age.Round(time.Minute), s.CreatedAt.Format(time.RFC3339), req.MaxPlanAge)
		}
		if t.Host != s.Host || t.Repo != s.Repository {
			return nil, fmt.Errorf("the saved plan is for %s, not %s; plan %s again", s.Ref(), t.Ref, t.Ref)
		}
	}
	getenv := req.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	journal := req.Journal
	if journal == "" {
		var err error
		if journal, err = JournalPath(getenv, t.Host, t.Repo); err != nil {
			return nil, err
		}
	}
	runs, err := RunsDir(getenv, t.Host, t.Repo)
	if err != nil {
		return nil, err
	}
	var keep apply.Quarantine
	if req.Quarantine != "" {
		src, err := sourceOf(t)
		if err != nil {
			return nil, err
		}
		q, err := openQuarantine(ctx, getenv, req.Quarantine, req.QuarantineBlobs, true, t.opts, t.cfg)
		if err != nil {
			return nil, err
		}
		defer q.Close()
		keep = &quarantineSink{q: q, src: src, host: t.Host, repo: t.Repo}
	}
	pending, err := pendingJournal(journal, t)
	if err != nil {
		return nil, err
	}
	var running Running
	if len(in.InUse) > 0 {
		running = ListInUse(ctx, in.InUse, accountFor(req.AWS, t.Host))
	}
	inv, err := t.Reg.Inventory(ctx, t.Repo)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", t.Ref, err)
	}
	if len(in.InUse) > 0 {
		if problems := running.Protect(t.Host, t.Repo, inv, &opts.Safety); len(problems) > 0 {
			return nil, &RefusedError{Ref: t.Ref, Reason: inUseRefusal(problems)}
		}
	}
	var pl *plan.Plan
	var digest string
	if s := req.Saved; s != nil {
		fmt.Fprintf(log, "applying the plan made %s ago for %s (policy %s), re-checked against the repository now\n",
			in.Now.Sub(s.CreatedAt).Round(time.Second), s.Ref(), inventory.ShortDigest(s.PolicyDigest))
		pl, digest = plan.Recheck(s.Plan, inv, in.Now, opts), s.Digest()
		plan.WriteRecheckChanges(log, s, pl)
	} else {
		pl = plan.Build(req.Policy, inv, in.Now, opts)
		digest = plan.Save(pl, t.Host, t.Repo, req.Policy, inv, opts, in.Now).Digest()
	}
	out := &ApplyOutcome{Plan: pl, Inventory: inv}
	if pending != nil {
		what := "is replaced: this plan is made from the repository as it is now, under today's safety settings"
		if pending.PlanDigest == digest {
			what = "is resumed; what remains is re-checked first"
		}
		fmt.Fprintf(log, "the interrupted apply of %s started %s (%d of %d done) %s\n",
			pending.Ref(), pending.Started.Local().Format("2006-01-02 15:04"), pending.Finished, pending.Targets, what)
	}
	switch {
	case pl.Blocked != "":
		return out, &RefusedError{Ref: t.Ref, Reason: pl.Blocked}
	case pl.Refusal != "" && !req.Force:
		return out, &RefusedError{Ref: t.Ref, Reason: pl.Refusal}
	case pl.Refusal != "":
		fmt.Fprintf(log, "warning: applying despite the limit (--force): %s\n", pl.Refusal)
		pl.Refusal = ""
	}
	if pl.Summary.Expire+pl.Summary.Transition == 0 {
		return out, nil
	}
	if req.Confirm != nil && !req.Confirm(&Proposal{Ref: t.Ref, Plan: pl, Inventory: inv}) {
		return out, ErrNotConfirmed
	}
	batch := req.BatchSize
	if batch == 0 {
		batch = t.Batch
	}
	concurrency := req.Concurrency
	if concurrency == 0 {
		concurrency = apply.DefaultConcurrency
	}
	report := req.Progress
	if report == nil {
		report = t.progress
	}
	out.Result, err = apply.Run(ctx, t.Reg, t.Repo, inv, pl, apply.Options{
		JournalPath: journal, Host: t.Host, PlanDigest: digest,
		Concurrency: min(concurrency, apply.DefaultConcurrency), BatchSize: batch, Progress: report,
		RecheckInterval: req.RecheckInterval, RunsDir: runs, Quarantine: keep,
	})
	return out, err
}

// inUseRefusal says why an apply refuses when what runs is not completely known.
func inUseRefusal(problems []string) string {
	what := "1 in-use source or reference"
	if len(problems) > 1 {
		what = fmt.Sprintf("%d in-use sources or references", len(problems))
	}
	return fmt.Sprintf("what runs there is not completely known (%s could not be read or resolved: %s), so an image that runs could be deleted",
		what, strings.Join(problems, "; "))
}

// pendingJournal returns the unfinished journal at path, if any. A journal of another
// repository is an error: it never acts there.
func pendingJournal(path string, t *Target) (*apply.State, error) {
	st, err := apply.ReadJournal(path)
	switch {
	case errors.Is(err, apply.ErrNoJournal):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if err := st.Check(t.Host, t.Repo); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if st.Done {
		return nil, nil
	}
	return st, nil
}

// JournalPath is where apply records its runs on host/repo by default:
// $XDG_STATE_HOME/shipshape/journal/HOST/REPO.jsonl (~/.local/state without the variable).
func JournalPath(getenv func(string) string, host, repo string) (string, error) {
	base, err := StateDir(getenv)
	if err != nil {
		return "", fmt.Errorf("finding a place for the journal (give --journal): %w", err)
	}
	return filepath.Join(base, "journal", safeHost(host), filepath.FromSlash(repo)+".jsonl"), nil
}

// StateDir is where shipshape keeps what it records between runs: $XDG_STATE_HOME/shipshape
// (~/.local/state/shipshape without the variable).
func StateDir(getenv func(string) string) (string, error) {
	base := getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "shipshape"), nil
}

// safeHost writes a registry host as a directory name ("localhost_5000").
func safeHost(host string) string { return strings.NewReplacer(":", "_").Replace(host) }

// PendingWarning says, for plan, that an interrupted apply on the repository is pending; ""
// when none is.
func PendingWarning(getenv func(string) string, t *Target) string {
	path, err := JournalPath(getenv, t.Host, t.Repo)
	if err != nil {
		return ""
	}
	st, err := apply.ReadJournal(path)
	switch {
	case errors.Is(err, apply.ErrNoJournal):
		return ""
	case err != nil:
		return err.Error()
	case !st.Done:
		return fmt.Sprintf("an interrupted apply on %s is pending (%d of %d done); see shipshape apply --status %s", st.Ref(), st.Finished, st.Targets, t.Ref)
	}
	return ""
}

// JournalStatus describes the journal of the repository ref: at path, or at JournalPath's
// default when path is "". A journal of another repository is an error.
func JournalStatus(getenv func(string) string, ref, path string) (apply.Status, error) {
	host, repo, path, err := journalOf(getenv, ref, path)
	if err != nil {
		return apply.Status{}, err
	}
	st, err := apply.ReadJournal(path)
	switch {
	case errors.Is(err, apply.ErrNoJournal):
		return apply.NewStatus(host, repo, path, nil), nil
	case err != nil:
		return apply.Status{}, err
	}
	if err := st.Check(host, repo); err != nil {
		return apply.Status{}, fmt.Errorf("journal %s: %w", path, err)
	}
	return apply.NewStatus(host, repo, path, st), nil
}

// AbandonJournal discards the journal of the repository ref (at path, or the default), and
// says what it discarded. Nothing is deleted from the registry. A journal of another
// repository, or a file that is not a journal, is left alone with an error.
func AbandonJournal(getenv func(string) string, ref, path string) (string, error) {
	host, repo, path, err := journalOf(getenv, ref, path)
	if err != nil {
		return "", err
	}
	st, err := apply.ReadJournal(path)
	switch {
	case errors.Is(err, apply.ErrNoJournal):
		return fmt.Sprintf("%s: no apply journal (%s)", host+"/"+repo, path), nil
	case err == nil:
		if err := st.Check(host, repo); err != nil {
			return "", fmt.Errorf("journal %s: %w", path, err)
		}
	}
	if err := apply.Abandon(path); err != nil {
		return "", err
	}
	switch {
	case st == nil:
		return fmt.Sprintf("%s: discarded the unreadable journal %s", host+"/"+repo, path), nil
	case st.Done:
		return fmt.Sprintf("%s: discarded the journal of a finished apply", st.Ref()), nil
	}
	return fmt.Sprintf("%s: discarded the interrupted apply (%d of %d done); the %d remaining targets stay in the registry",
		st.Ref(), st.Finished, st.Targets, st.Targets-st.Finished), nil
}

func journalOf(getenv func(string) string, ref, path string) (host, repo, file string, err error) {
	if host, repo, err = registry.ParseReference(ref); err != nil {
		return "", "", "", &FlagError{Err: err}
	}
	if path == "" {
		path, err = JournalPath(getenv, host, repo)
	}
	return host, repo, path, err
}

// ReadSavedPlan returns the saved plan arg names, or nil when arg is a repository: when a
// policy is given, or when no file of that name exists. A file that is not a saved plan is
// an error.
func ReadSavedPlan(arg string, policyGiven bool) (*plan.Saved, error) {
	if policyGiven {
		if _, err := os.Stat(arg); err == nil && strings.HasSuffix(arg, ".json") {
			return nil, &FlagError{Err: fmt.Errorf("%s is a file: apply a saved plan without --policy (shipshape apply %s), or name a REPOSITORY", arg, arg)}
		}
		return nil, nil
	}
	data, err := os.ReadFile(arg)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &FlagError{Err: fmt.Errorf("apply needs --policy FILE REPOSITORY, or a PLANFILE written by \"shipshape plan --out\" (%s is no file)", arg)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", arg, err)
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
