package apply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestRunsAreLogged: an interrupted run and its resumption are one run in the deletion log,
// under one ID, listing every manifest removed with its tags, rule, reason and size; a
// later run of another plan, which replaces the journal, is a second run, and the first
// stays in the log.
func TestRunsAreLogged(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.NewInProcess(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	dir := t.TempDir()
	journal, runs := filepath.Join(dir, "journal.jsonl"), filepath.Join(dir, "runs")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := withBatch(bound(w, journal, "plan-1"), 1, 2)
	opts.RunsDir = runs
	first, err := apply.Run(ctx, &interrupting{Client: c, after: 3, cancel: cancel}, w.repo, inv, p, opts)
	if !errors.Is(err, context.Canceled) || first.Run == "" {
		t.Fatalf("interrupted Run() = %v, run %q", err, first.Run)
	}
	again, err := c.Inventory(context.Background(), w.repo)
	if err != nil {
		t.Fatal(err)
	}
	rest := plan.Recheck(p, again, now, plan.Options{})
	opts.Concurrency, opts.BatchSize = 0, 0
	second, err := apply.Run(context.Background(), c, w.repo, again, rest, opts)
	if err != nil || !second.Resumed || second.Run != first.Run {
		t.Fatalf("resumed Run() = %v, resumed %v, run %q; want run %q resumed", err, second.Resumed, second.Run, first.Run)
	}

	logged, err := apply.ReadRuns(runs)
	if err != nil || len(logged) != 1 {
		t.Fatalf("ReadRuns() = %d runs, %v; want 1", len(logged), err)
	}
	r := logged[0]
	var removed []string
	var bytes int64
	for _, m := range r.Removed {
		removed = append(removed, m.Digest)
		bytes += m.Bytes
		if m.Reason == "" || m.Outcome != apply.Deleted {
			t.Errorf("logged %s: reason %q, outcome %s", m.Digest, m.Reason, m.Outcome)
		}
	}
	slices.Sort(removed)
	want := w.expired()
	slices.Sort(want)
	if r.ID != first.Run || !r.Done || r.Deleted != len(want) || !slices.Equal(removed, want) || r.Host != w.host || r.Repository != w.repo {
		t.Errorf("logged run = %s done %v, %d deleted, removed %d, %s/%s; want %s done, the %d planned deletions, %s/%s",
			r.ID, r.Done, r.Deleted, len(removed), r.Host, r.Repository, first.Run, len(want), w.host, w.repo)
	}
	if bytes == 0 || r.Bytes != bytes {
		t.Errorf("logged bytes = %d, sum of the removed = %d, want equal and not 0", r.Bytes, bytes)
	}

	// Another plan replaces the journal: a new run, and the first stays in the log.
	third, err := apply.Run(context.Background(), c, w.repo, again, rest, apply.Options{JournalPath: journal, Host: w.host, PlanDigest: "plan-2", RunsDir: runs})
	if err != nil || third.Run == first.Run || third.Resumed {
		t.Fatalf("Run() of another plan = %v, run %q (first %q), resumed %v", err, third.Run, first.Run, third.Resumed)
	}
	if logged, err := apply.ReadRuns(runs); err != nil || len(logged) != 2 || logged[0].ID != first.Run {
		t.Errorf("ReadRuns() after a second run = %d runs, %v; want 2, the first %s first", len(logged), err, first.Run)
	}
}

// TestUnreadableLogIsAnError: a run log that is not one is an error naming it, never a
// shorter log.
func TestUnreadableLogIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "h", "r", "x.jsonl")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("{\"not\": \"a journal\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.ReadRuns(dir); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("ReadRuns() = %v, want an error naming %s", err, bad)
	}
	if runs, err := apply.ReadRuns(filepath.Join(dir, "none")); err != nil || len(runs) != 0 {
		t.Errorf("ReadRuns() of no log = %d, %v; want none, no error", len(runs), err)
	}
}

// keeper is a Quarantine that keeps every manifest but one.
type keeper struct {
	mu     sync.Mutex
	refuse string
	kept   []string
	syncs  int
}

func (k *keeper) Keep(_ context.Context, c apply.Keep) (string, error) {
	if c.Digest == k.refuse {
		return "", errors.New("copy failed")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kept = append(k.kept, c.Digest)
	return "test-quarantine", nil
}

func (k *keeper) Sync() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.syncs++
	return nil
}

// TestQuarantineBeforeDelete: every deletion is kept first, and one whose copy fails is
// not deleted, nor what goes with it (an index's children wait for the index).
func TestQuarantineBeforeDelete(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.NewInProcess(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	var index string
	for _, img := range inv.Images {
		if img.IsIndex() && slices.Contains(w.expired(), img.Digest) && len(img.Children) > 0 {
			index = img.Digest
			break
		}
	}
	if index == "" {
		t.Fatal("the plan expires no index")
	}
	k := &keeper{refuse: index}
	res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{Quarantine: k})
	if err != nil {
		t.Fatal(err)
	}
	have := digests(t, w.host, w.repo)
	if !have[index] {
		t.Errorf("the index whose copy failed was deleted")
	}
	for _, rec := range res.Records {
		switch {
		case rec.Outcome == apply.Deleted && (!slices.Contains(k.kept, rec.Digest) || rec.Quarantine != "test-quarantine"):
			t.Errorf("%s deleted without a copy (quarantine %q)", rec.Digest, rec.Quarantine)
		case rec.Digest == index && (rec.Outcome != apply.Skipped || !strings.Contains(rec.Detail, "copy failed")):
			t.Errorf("the index whose copy failed: %s %q", rec.Outcome, rec.Detail)
		}
	}
	if res.Skipped < 2 || res.Deleted == 0 || k.syncs == 0 {
		t.Errorf("Run() = %d deleted, %d skipped, %d syncs; want the index and its children skipped, the rest deleted, synced", res.Deleted, res.Skipped, k.syncs)
	}
}
