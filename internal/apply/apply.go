// Package apply carries out a plan on a registry: it deletes exactly what the plan expires,
// in a safe order, re-checking each batch just before deleting it, journalled so that an
// interrupted run resumes, and checks afterwards that every kept index its deletions could
// have touched is whole.
package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/registry"
)

// Registry is what apply needs of a backend: a subset of registry.Registry.
type Registry interface {
	Tags(ctx context.Context, repo string) (map[string]string, error)
	Manifest(ctx context.Context, repo, digest string) (inventory.Image, error)
	Delete(ctx context.Context, repo, digest string) error
}

var _ Registry = registry.Registry(nil)

// Defaults for Options.
const (
	// DefaultConcurrency deletes a few manifests at once: registries serialise much of a
	// delete, and the per-host rate limit is the real bound.
	DefaultConcurrency = 4
	// DefaultBatchSize is how many deletions go between two re-checks of the tags: small
	// enough that a tag pushed meanwhile is seen before its image goes, large enough that
	// the re-check (one tag list, and a HEAD for each tag whose answer can change a
	// decision about the batch) is a small share of the work.
	DefaultBatchSize = 50
	// DefaultRecheckInterval is how old the last resolution of every tag may be before a
	// re-check resolves them all again; between full checks a re-check resolves only the
	// tags that can change a decision about the batch (see docs/commands.md, apply). A
	// full check of 2,000 tags at the default 50 requests a second takes 40 s: every 10
	// minutes it costs at most a fifteenth of a run's time, while a tag moved onto a target
	// goes unseen for at most 10 minutes, where ECR's own lifecycle acts up to 24 hours
	// after it evaluates.
	DefaultRecheckInterval = 10 * time.Minute
	// DefaultAttempts per deletion; transport-level retries come on top of these.
	DefaultAttempts = 3
	// DefaultBackoff before the second attempt; it doubles after each failure.
	DefaultBackoff = 500 * time.Millisecond
	// maxFreshManifests bounds how many manifests a re-check reads to learn what newly
	// pushed or moved tags reference.
	maxFreshManifests = 1000
)

// Options tune a run. The zero value uses the defaults and keeps no journal.
type Options struct {
	Concurrency int
	BatchSize   int
	Attempts    int
	Backoff     time.Duration
	// RecheckInterval bounds how long ago every tag may have been resolved when a batch is
	// deleted: a re-check resolves them all once the last full check (the inventory, to
	// begin with) is older. 0 means DefaultRecheckInterval; a negative value resolves every
	// tag at every re-check.
	RecheckInterval time.Duration
	// JournalPath is where the run is recorded so that an interrupted run can resume; ""
	// keeps no journal.
	JournalPath string
	// Host and PlanDigest bind the journal: the registry host the repository is on, and
	// the plan the run carries out.
	Host       string
	PlanDigest string
	Logger     *slog.Logger
	// Progress, when set, is told how far the run has come, in these phases:
	//
	//	re-check  before each batch, while the tags are read again; a backend that reports
	//	          to the same Reporter (oci.Options.Progress) counts the tags it checks
	//	delete    targets done (deleted, archived, gone, skipped or failed) of the run's
	//	check     after the last batch, children of kept indexes that a deletion could have
	//	          touched, checked (no phase when there are none)
	//
	// The delete phase resumes, after each re-check, where it stood. Run ends its last
	// phase before it returns.
	Progress progress.Reporter
	// Now stamps journal entries; nil means time.Now.
	Now func() time.Time
	// Run names the run in the journal, the deletion log and the quarantine; "" means a
	// new ID (NewRunID). A resumed run keeps the ID it started with.
	Run string
	// RunsDir, when set, is where the run is logged for the deletion log, as RUN.jsonl:
	// the same lines as the journal, kept after the journal is replaced.
	RunsDir string
	// Quarantine, when set, keeps a copy of every manifest before it is deleted; a
	// manifest it cannot keep is not deleted.
	Quarantine Quarantine
}

// Quarantine keeps copies of manifests before apply deletes them (an adapter around
// internal/quarantine, which copies whole graphs).
type Quarantine interface {
	// Keep copies the manifest k describes, with what restoring it needs, and returns
	// where the copy is. Only after Keep returns nil is the manifest deleted.
	Keep(ctx context.Context, k Keep) (where string, err error)
	// Sync makes what Keep recorded durable and visible; apply calls it before each
	// batch's deletions.
	Sync() error
}

// Keep is one manifest apply is about to delete, for Quarantine.Keep.
type Keep struct {
	Run    string
	Digest string
	Tags   []string
	Rule   int
	Reason string
	// Image is what the inventory knows of it; nil if nothing.
	Image *inventory.Image
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.RecheckInterval == 0 {
		o.RecheckInterval = DefaultRecheckInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Progress = progress.OrNop(o.Progress)
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Outcome is what happened to one target.
type Outcome string

// Outcomes.
const (
	// Deleted: shipshape deleted the manifest.
	Deleted Outcome = "deleted"
	// Archived: shipshape moved the image to archive storage.
	Archived Outcome = "archived"
	// Gone: the manifest was already gone (deleted by an earlier, interrupted run, or by
	// someone else).
	Gone Outcome = "gone"
	// Skipped: kept after all, because the re-check found the image tagged or referenced
	// since the plan (or a tag that pointed at it vanished), because something it goes with
	// stayed, or because the registry refused while an index still lists it.
	Skipped Outcome = "skipped"
	// Failed: the registry refused or kept failing.
	Failed Outcome = "failed"
)

// Record is the outcome of one target: what happened, and why the plan removes it.
type Record struct {
	Digest  string   `json:"digest"`
	Tags    []string `json:"tags"`
	Outcome Outcome  `json:"outcome,omitempty"`
	// RulePriority is the rule that removes it (0: shipshape's safety layer or the graph).
	RulePriority int `json:"rulePriority,omitempty"`
	// Reason says why the plan removes it.
	Reason string `json:"reason,omitempty"`
	// Detail says why it was skipped or failed, or that it was already gone.
	Detail string `json:"detail,omitempty"`
	// Quarantine is where a copy was kept before the deletion.
	Quarantine string `json:"quarantine,omitempty"`
}

// Result sums up a run.
type Result struct {
	// Run names the run in the deletion log (shipshape log) and the quarantine.
	Run        string   `json:"run"`
	Repository string   `json:"repository"`
	Records    []Record `json:"records"`
	Deleted    int      `json:"deleted"`
	Archived   int      `json:"archived"`
	Gone       int      `json:"gone"`
	Skipped    int      `json:"skipped"`
	Failed     int      `json:"failed"`
	// Problems lists what the check after the run found wrong: a kept index missing a child.
	Problems []string `json:"problems,omitempty"`
	// Resumed reports that the run finished an earlier, interrupted run of the same plan;
	// DoneBefore counts the targets that run had finished.
	Resumed    bool `json:"resumed,omitempty"`
	DoneBefore int  `json:"doneBefore,omitempty"`
	// Total counts the targets of this run; Total minus the records is what an interrupted
	// run left undone.
	Total int `json:"total"`
	// ref is the repository as an image reference, for the hints WriteSummary gives.
	ref string
}

// Removed returns the digests the run removed: deleted, or found already gone.
func (r *Result) Removed() map[string]bool {
	out := make(map[string]bool, r.Deleted+r.Gone)
	for _, rec := range r.Records {
		if rec.Outcome == Deleted || rec.Outcome == Gone {
			out[rec.Digest] = true
		}
	}
	return out
}

// Run deletes what p expires from repo, and archives what it transitions where the
// registry has archive storage (a registry.Transitioner; elsewhere they are skipped). inv is
// the inventory p was planned from, read just before: p must already carry the safety
// settings in force (plan.Build, or plan.Recheck for a saved plan).
//
// Order: waves, so that an index is deleted before its children and a subject before its
// referrers; within a wave, Concurrency deletions at once. Before each batch the tags are
// read again (see watch.recheck: the tag list, a HEAD for each tag whose answer can change
// a decision about the batch, and every tag once the last full check is older than
// RecheckInterval; inv.CapturedAt is the first full check): an image tagged since the
// plan, or referenced by an index or a referrer pushed since, or whose tag vanished, is
// skipped. A registry.KnownDeleter deletes with what inv says of the image, one request
// each. A manifest already gone counts as removed, so the run is safe to repeat; one the
// registry refuses to delete because an index lists it is kept. Every outcome goes to the
// journal before the next batch. Afterwards, the children of kept indexes that a deletion
// could have touched are checked.
//
// The journal at opts.JournalPath is bound to opts.Host, repo and opts.PlanDigest. A
// journal there for another repository is an error wrapping ErrOtherRepository, and nothing
// is deleted. An unfinished journal of the same plan is resumed: the run appends to it, and
// Result.Resumed says so. Any other journal (finished, or of another plan of the same
// repository, whose remaining targets p has re-planned) is replaced.
func Run(ctx context.Context, reg Registry, repo string, inv *inventory.Inventory, p *plan.Plan, opts Options) (*Result, error) {
	if p.Blocked != "" {
		return nil, fmt.Errorf("refusing to apply: %s", p.Blocked)
	}
	if p.Refusal != "" {
		return nil, fmt.Errorf("refusing to apply: %s", p.Refusal)
	}
	opts.defaults()
	h := newHeader(inv, p, opts.Now())
	h.Host, h.Repository, h.PlanDigest = opts.Host, repo, opts.PlanDigest
	res := &Result{Repository: inv.Repository, ref: repo}
	if opts.Host != "" {
		res.ref = opts.Host + "/" + repo
	}
	var j *journal
	if opts.JournalPath != "" {
		if opts.Host == "" || opts.PlanDigest == "" {
			return nil, errors.New("a journal needs the registry host and the plan digest it is bound to")
		}
		unlock, err := lock(opts.JournalPath)
		if err != nil {
			return nil, err
		}
		defer unlock()
		st, err := ReadJournal(opts.JournalPath)
		switch {
		case errors.Is(err, ErrNoJournal):
		case err != nil:
			return nil, err
		default:
			if err := st.Check(opts.Host, repo); err != nil {
				return nil, err
			}
			if !st.Done && st.PlanDigest == opts.PlanDigest {
				res.Resumed, res.DoneBefore = true, st.Finished
			}
		}
		switch {
		case res.Resumed:
			h.Run = st.Run
		case st != nil && opts.RunsDir != "":
			// The run this one replaces stays in the deletion log, even when it was
			// recorded before runs were logged.
			if err := keepLog(opts.JournalPath, filepath.Join(opts.RunsDir, st.Run+".jsonl")); err != nil {
				return nil, err
			}
		}
	}
	if h.Run == "" {
		h.Run = opts.Run
		if h.Run == "" {
			h.Run = NewRunID(opts.Now())
		}
	}
	res.Run = h.Run
	logPath := ""
	if opts.RunsDir != "" {
		logPath = filepath.Join(opts.RunsDir, h.Run+".jsonl")
	}
	if opts.JournalPath != "" || logPath != "" {
		var err error
		if res.Resumed {
			j, err = reopenJournal(opts.JournalPath, logPath)
		} else {
			j, err = createJournal(opts.JournalPath, logPath, h)
		}
		if err != nil {
			return nil, err
		}
		defer j.close()
	}
	if err := execute(ctx, newWatch(reg, repo, inv, h, opts), h, j, opts, res); err != nil {
		return res, err
	}
	return res, nil
}

func (r *Result) add(rec Record) {
	r.Records = append(r.Records, rec)
	switch rec.Outcome {
	case Deleted:
		r.Deleted++
	case Archived:
		r.Archived++
	case Gone:
		r.Gone++
	case Skipped:
		r.Skipped++
	case Failed:
		r.Failed++
	}
}

// newHeader turns a plan into the journal header: targets in waves, the tags the plan saw,
// and the kept indexes with their children. Transitions come last, in a wave of their own.
func newHeader(inv *inventory.Inventory, p *plan.Plan, now time.Time) *header {
	images := inv.Images
	g := inventory.NewGraph(images)
	expire := map[int]bool{}
	archive := map[int]bool{}
	items := map[string]plan.Item{} // the targets
	for _, it := range p.Images {
		if it.Action == policy.Expire || it.Action == policy.Transition {
			items[it.Digest] = it
		}
		i, ok := g.Index(it.Digest)
		if !ok {
			continue
		}
		switch it.Action {
		case policy.Expire:
			expire[i] = true
		case policy.Transition:
			archive[i] = true
		}
	}
	h := &header{Kind: journalKind, Version: journalVersion, Repository: inv.Repository, Started: now.UTC(),
		KnownTags: map[string]string{}, KeptIndexes: map[string][]string{}}
	waves := map[int]int{}
	var wave func(i int, depth int) int
	wave = func(i int, depth int) int {
		if w, ok := waves[i]; ok {
			return w
		}
		w := 0
		if depth < 64 { // graphs are shallow; the bound only guards against cycles
			for _, parent := range g.Parents(i) {
				if expire[parent] {
					w = max(w, wave(parent, depth+1)+1)
				}
			}
			if s, ok := g.Index(images[i].Subject); ok && expire[s] && s != i {
				w = max(w, wave(s, depth+1)+1)
			}
		}
		waves[i] = w
		return w
	}
	for i := range images {
		img := &images[i]
		for _, t := range img.Tags {
			h.KnownTags[t] = img.Digest
		}
		switch {
		case expire[i]:
			t := target{Digest: img.Digest, Wave: wave(i, 0), Tags: img.Tags, Rule: items[img.Digest].RulePriority, Reason: items[img.Digest].Reason,
				Bytes: items[img.Digest].SizeBytes}
			for _, parent := range g.Parents(i) {
				if expire[parent] {
					t.After = append(t.After, images[parent].Digest)
				}
			}
			if s, ok := g.Index(img.Subject); ok && expire[s] && s != i {
				t.After = append(t.After, img.Subject)
			}
			h.Targets = append(h.Targets, t)
		case archive[i]:
			h.Targets = append(h.Targets, target{Digest: img.Digest, Tags: img.Tags, Archive: true, Wave: archiveWave,
				Rule: items[img.Digest].RulePriority, Reason: items[img.Digest].Reason, Bytes: items[img.Digest].SizeBytes})
		case img.IsIndex() && len(img.Children) > 0:
			children := make([]string, len(img.Children))
			for n, c := range img.Children {
				children[n] = c.Digest
			}
			h.KeptIndexes[img.Digest] = children
		}
	}
	slices.SortFunc(h.Targets, func(a, b target) int {
		if c := cmp.Compare(a.Wave, b.Wave); c != 0 {
			return c
		}
		return strings.Compare(a.Digest, b.Digest)
	})
	return h
}

// archiveWave puts transitions after every deletion: deletion waves are bounded by the depth
// of the image graph, far below this.
const archiveWave = 1 << 20

// execute works through the header's targets, re-checking the tags through w before each
// batch.
func execute(ctx context.Context, w *watch, h *header, j *journal, opts Options, res *Result) error {
	reg, repo := w.reg, w.repo
	todo := h.Targets
	total, done := len(todo), 0
	res.Total = total
	defer opts.Progress.End()
	removed := map[string]bool{}
	attempted := map[string]bool{} // deletions sent to the registry, whatever came of them
	kept := map[string]string{}    // digest → where the quarantine keeps its copy
	var mu sync.Mutex
	record := func(rec Record) error {
		t := w.targets[rec.Digest]
		rec.Tags, rec.RulePriority, rec.Reason = t.Tags, t.Rule, t.Reason
		mu.Lock()
		if rec.Outcome == Deleted || rec.Outcome == Gone {
			rec.Quarantine = kept[rec.Digest]
		}
		mu.Unlock()
		if rec.Tags == nil {
			rec.Tags = []string{}
		}
		mu.Lock()
		res.add(rec)
		if rec.Outcome == Deleted || rec.Outcome == Gone {
			removed[rec.Digest] = true
		}
		done++
		mu.Unlock()
		opts.Progress.Add(1)
		return j.write(entry{Digest: rec.Digest, Outcome: rec.Outcome, Reason: rec.Detail, Quarantine: rec.Quarantine, At: opts.Now().UTC()})
	}

	for start := 0; start < len(todo); {
		// A batch never spans two waves: the next wave waits for the whole of this one.
		end := start
		for end < len(todo) && end-start < opts.BatchSize && todo[end].Wave == todo[start].Wave {
			end++
		}
		batch := todo[start:end]
		start = end

		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		opts.Progress.Phase("re-check", 0, 0)
		skip, err := w.recheck(ctx, batch, removed)
		if err != nil {
			return fmt.Errorf("re-checking tags before deleting: %w", err)
		}
		mu.Lock()
		opts.Progress.Phase("delete", done, total)
		mu.Unlock()
		// Earlier waves are complete: what they removed is settled before this batch starts.
		for _, t := range batch {
			for _, first := range t.After {
				if !removed[first] {
					skip[t.Digest] = fmt.Sprintf("kept with %s, which was not removed", inventory.ShortDigest(first))
					break
				}
			}
		}
		var work []target
		for _, t := range batch {
			why, ok := skip[t.Digest]
			if !ok && t.Archive {
				if _, can := reg.(registry.Transitioner); !can {
					why, ok = "the plan archives it, and this registry has no archive storage (only Amazon ECR has)", true
				}
			}
			if ok {
				if err := record(Record{Digest: t.Digest, Outcome: Skipped, Detail: why}); err != nil {
					return err
				}
				continue
			}
			work = append(work, t)
			if !t.Archive {
				attempted[t.Digest] = true
			}
		}
		if opts.Quarantine != nil {
			var failed []Record
			if work, failed, err = quarantine(ctx, opts, h.Run, work, w.images, kept, &mu); err != nil {
				return err
			}
			for _, rec := range failed {
				if err := record(rec); err != nil {
					return err
				}
			}
		}
		var fatal error
		if bd, ok := reg.(registry.BatchDeleter); ok && len(work) > 0 && !work[0].Archive {
			recs, stop := deleteBatch(ctx, bd, repo, work, opts)
			for _, rec := range recs {
				if err := record(rec); err != nil {
					return err
				}
			}
			fatal = stop
		} else {
			eg, ectx := errgroup.WithContext(ctx)
			eg.SetLimit(opts.Concurrency)
			var fatalOnce sync.Once
			for _, t := range work {
				eg.Go(func() error {
					rec, stop := actOn(ectx, reg, repo, t, w.images[t.Digest], opts)
					if stop != nil {
						fatalOnce.Do(func() { fatal = stop })
					}
					if rec.Outcome == "" {
						return nil // interrupted before an outcome: left for the next run
					}
					return record(rec)
				})
			}
			if err := eg.Wait(); err != nil {
				return err
			}
		}
		if err := j.sync(); err != nil {
			return err
		}
		if fatal != nil {
			return fatal
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
	}

	res.Problems = w.validate(ctx, h, attempted, opts.Progress)
	return j.write(entry{Done: true, At: opts.Now().UTC()})
}

// quarantine has opts.Quarantine keep a copy of each deletion of work, Concurrency at a
// time, and syncs it. It returns the work that may go ahead, and a Skipped record for
// each manifest whose copy failed: when in doubt, keep. Where each copy is goes in kept.
func quarantine(ctx context.Context, opts Options, run string, work []target, images map[string]*inventory.Image,
	kept map[string]string, mu *sync.Mutex) ([]target, []Record, error) {
	failed := make([]string, len(work))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(opts.Concurrency)
	for i, t := range work {
		if t.Archive {
			continue // archiving keeps the image
		}
		eg.Go(func() error {
			where, err := opts.Quarantine.Keep(ectx, Keep{Run: run, Digest: t.Digest, Tags: t.Tags, Rule: t.Rule, Reason: t.Reason, Image: images[t.Digest]})
			if err != nil {
				failed[i] = err.Error()
				opts.Logger.Warn("kept: copying to the quarantine failed", "digest", t.Digest, "error", err)
				return nil
			}
			mu.Lock()
			kept[t.Digest] = where
			mu.Unlock()
			return nil
		})
	}
	_ = eg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("interrupted: %w", err)
	}
	if err := opts.Quarantine.Sync(); err != nil {
		return nil, nil, fmt.Errorf("quarantine: %w", err)
	}
	var ok []target
	var recs []Record
	for i, t := range work {
		if failed[i] != "" {
			recs = append(recs, Record{Digest: t.Digest, Outcome: Skipped, Detail: "kept: copying it to the quarantine failed: " + failed[i]})
			continue
		}
		ok = append(ok, t)
	}
	return ok, recs, nil
}

// actOn deletes or archives one image, retrying transient failures. img is what the
// inventory knows of it (nil if nothing): a registry.KnownDeleter deletes it with that,
// without reading it first. A non-nil second result means no further step can succeed
// (deletion unsupported, access refused).
func actOn(ctx context.Context, reg Registry, repo string, t target, img *inventory.Image, opts Options) (Record, error) {
	digest := t.Digest
	do, done := reg.Delete, Deleted
	if kd, ok := reg.(registry.KnownDeleter); ok && img != nil {
		do = func(ctx context.Context, repo, _ string) error { return kd.DeleteKnown(ctx, repo, *img) }
	}
	if t.Archive {
		do, done = reg.(registry.Transitioner).Archive, Archived
	}
	wait := opts.Backoff
	var err error
	for attempt := 1; attempt <= opts.Attempts; attempt++ {
		err = do(ctx, repo, digest)
		switch {
		case err == nil:
			opts.Logger.Info(string(done), "digest", digest)
			return Record{Digest: digest, Outcome: done}, nil
		case errors.Is(err, registry.ErrNotFound):
			return Record{Digest: digest, Outcome: Gone, Detail: "already gone"}, nil
		case errors.Is(err, registry.ErrReferenced):
			return Record{Digest: digest, Outcome: Skipped, Detail: referencedDetail(err)}, nil
		case errors.Is(err, registry.ErrUnsupported), errors.Is(err, registry.ErrUnauthorized), errors.Is(err, registry.ErrDenied):
			return Record{Digest: digest, Outcome: Failed, Detail: err.Error()}, fmt.Errorf("deleting %s: %w", digest, err)
		case ctx.Err() != nil:
			return Record{}, nil
		}
		opts.Logger.Warn("failed; retrying", "digest", digest, "attempt", attempt, "error", err)
		if attempt < opts.Attempts {
			select {
			case <-ctx.Done():
				return Record{}, nil
			case <-time.After(wait):
			}
			wait *= 2
		}
	}
	return Record{Digest: digest, Outcome: Failed, Detail: fmt.Sprintf("%d attempts: %v", opts.Attempts, err)}, nil
}

// referencedDetail says why a target the registry refused to delete was kept.
func referencedDetail(err error) string {
	return "kept: the registry refuses to delete it while an index lists it (" + err.Error() + ")"
}

// deleteBatch deletes a batch in as few calls as the backend allows. Per-item failures are
// outcomes; a whole-call failure is retried, and a non-nil second result means no further
// deletion can succeed.
func deleteBatch(ctx context.Context, bd registry.BatchDeleter, repo string, work []target, opts Options) ([]Record, error) {
	digests := make([]string, len(work))
	for i, t := range work {
		digests[i] = t.Digest
	}
	wait := opts.Backoff
	var failed map[string]error
	var err error
	for attempt := 1; attempt <= opts.Attempts; attempt++ {
		failed, err = bd.DeleteBatch(ctx, repo, digests)
		if err == nil || ctx.Err() != nil ||
			errors.Is(err, registry.ErrUnsupported) || errors.Is(err, registry.ErrUnauthorized) || errors.Is(err, registry.ErrDenied) || errors.Is(err, registry.ErrNotFound) {
			break
		}
		opts.Logger.Warn("batch delete failed; retrying", "attempt", attempt, "error", err)
		if attempt < opts.Attempts {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait *= 2
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted: %w", ctx.Err())
		}
		// The registry refused the whole call: each image in it failed.
		recs := make([]Record, len(digests))
		for i, d := range digests {
			recs[i] = Record{Digest: d, Outcome: Failed, Detail: err.Error()}
		}
		return recs, fmt.Errorf("deleting a batch of %d: %w", len(digests), err)
	}
	recs := make([]Record, len(digests))
	for i, d := range digests {
		ferr, bad := failed[d]
		switch {
		case !bad:
			recs[i] = Record{Digest: d, Outcome: Deleted}
		case errors.Is(ferr, registry.ErrNotFound):
			recs[i] = Record{Digest: d, Outcome: Gone, Detail: "already gone"}
		case errors.Is(ferr, registry.ErrReferenced):
			recs[i] = Record{Digest: d, Outcome: Skipped, Detail: referencedDetail(ferr)}
		default:
			recs[i] = Record{Digest: d, Outcome: Failed, Detail: ferr.Error()}
		}
	}
	return recs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
