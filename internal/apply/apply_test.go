package apply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress/progresstest"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

var now = time.Now().UTC().Truncate(time.Second)

// testPolicy expires untagged images after a day, keeps releases, and keeps only the newest
// sha- build.
const testPolicy = `{"rules": [
  {"rulePriority": 1, "description": "untagged", "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}},
  {"rulePriority": 2, "description": "releases", "selection": {"tagStatus": "tagged", "tagPatternList": ["v*"], "countType": "imageCountMoreThan", "countNumber": 9999}, "action": {"type": "expire"}},
  {"rulePriority": 3, "description": "builds", "selection": {"tagStatus": "tagged", "tagPrefixList": ["sha-"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`

// world is a repository pushed for a test, with what the plan must do to it.
type world struct {
	host, repo string
	// pinned is the build a protected digest keeps.
	old, multi, pinned, fresh, release registrytest.Build
	releaseSig, cosignSig, orphanSig   string
	// referrersIndex is the multi-arch build's referrers index (the sha256-<hex> tag), on a
	// registry without the referrers API.
	referrersIndex string
}

func days(n float64) time.Time { return now.Add(-time.Duration(n * 24 * float64(time.Hour))) }

// push fills a repository with the cases the issue names: single-platform and multi-arch
// indexes with attestation children, an OCI 1.1 referrer, a cosign-style signature tag,
// and a build kept by a pinned digest.
func push(t *testing.T, host string) *world {
	t.Helper()
	w := &world{host: host, repo: registrytest.RepoName(t)}
	w.old = registrytest.PushBuild(t, host, w.repo, "sha-old", registrytest.BuildOptions{Created: days(10), Base: "debian"})
	w.multi = registrytest.PushBuild(t, host, w.repo, "sha-multi", registrytest.BuildOptions{Created: days(9), Base: "debian",
		Platforms: []string{"linux/amd64", "linux/arm64"}})
	w.pinned = registrytest.PushBuild(t, host, w.repo, "sha-pinned", registrytest.BuildOptions{Created: days(8), Base: "debian"})
	w.release = registrytest.PushBuild(t, host, w.repo, "v1.0.0", registrytest.BuildOptions{Created: days(7), Base: "debian"})
	w.fresh = registrytest.PushBuild(t, host, w.repo, "sha-fresh", registrytest.BuildOptions{Created: days(0.1), Base: "debian"})
	// The release is signed both ways; the expired multi-arch build has a referrer too.
	w.releaseSig = registrytest.PushReferrer(t, host, w.repo, w.release.Index, "application/vnd.dev.cosign.artifact.sig.v1+json")
	w.orphanSig = registrytest.PushReferrer(t, host, w.repo, w.multi.Index, "application/vnd.dev.cosign.artifact.sig.v1+json")
	w.cosignSig = registrytest.PushCosignSignature(t, host, w.repo, w.release.Index)
	return w
}

// expired is what the plan must delete: the old and multi-arch builds whole, with the
// multi-arch build's referrer and, on a registry without the referrers API, the
// sha256-<hex> index that lists that referrer.
func (w *world) expired() []string {
	var out []string
	for _, b := range []registrytest.Build{w.old, w.multi} {
		out = append(out, b.Index)
		for _, d := range b.Images {
			out = append(out, d)
		}
		for _, d := range b.Attestations {
			out = append(out, d)
		}
	}
	out = append(out, w.orphanSig)
	if w.referrersIndex != "" {
		out = append(out, w.referrersIndex)
	}
	sort.Strings(out)
	return out
}

func client(t *testing.T, host string) *oci.Client {
	t.Helper()
	c, err := oci.New(host, oci.Options{CacheDir: t.TempDir(), RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func planFor(t *testing.T, reg registry.Registry, w *world) (*inventory.Inventory, *plan.Plan) {
	t.Helper()
	pol, err := policy.Load([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := reg.Inventory(context.Background(), w.repo)
	if err != nil {
		t.Fatalf("Inventory() = %v", err)
	}
	fallback := strings.Replace(w.multi.Index, ":", "-", 1)
	for _, img := range inv.Images {
		if slices.Contains(img.Tags, fallback) {
			w.referrersIndex = img.Digest
		}
	}
	p := plan.Build(pol, inv, now, plan.Options{Safety: plan.Safety{ProtectDigests: map[string]string{w.pinned.Index: "test"}}})
	var got []string
	for _, it := range p.Images {
		if it.Action == policy.Expire {
			got = append(got, it.Digest)
		}
	}
	sort.Strings(got)
	if diff := cmp.Diff(w.expired(), got); diff != "" {
		for _, it := range p.Images {
			t.Logf("%s %v %s: %s", it.Action, it.Tags, inventory.ShortDigest(it.Digest), it.Reason)
		}
		t.Fatalf("plan expires (-want +got):\n%s", diff)
	}
	return inv, p
}

// digests lists what the registry holds now, read with a fresh client.
func digests(t *testing.T, host, repo string) map[string]bool {
	t.Helper()
	inv, err := client(t, host).Inventory(context.Background(), repo)
	if err != nil {
		t.Fatalf("Inventory() after apply = %v", err)
	}
	out := map[string]bool{}
	for _, img := range inv.Images {
		out[img.Digest] = true
	}
	return out
}

// converged checks that exactly the planned digests are gone and everything else stayed.
func converged(t *testing.T, w *world, before *inventory.Inventory, p *plan.Plan) {
	t.Helper()
	now := digests(t, w.host, w.repo)
	planned := map[string]bool{}
	for _, d := range w.expired() {
		planned[d] = true
	}
	for _, img := range before.Images {
		switch {
		case planned[img.Digest] && now[img.Digest]:
			t.Errorf("planned deletion %s %v is still there", inventory.ShortDigest(img.Digest), img.Tags)
		case !planned[img.Digest] && !now[img.Digest]:
			t.Errorf("UNPLANNED deletion: %s %v is gone", inventory.ShortDigest(img.Digest), img.Tags)
		}
	}
}

func registries(t *testing.T) map[string]func(*testing.T) string {
	return map[string]func(*testing.T) string{
		"in-process":   func(t *testing.T) string { return registrytest.NewInProcess(t) },
		"distribution": func(t *testing.T) string { return registrytest.StartDistribution(t) },
	}
}

func TestRunDeletesExactlyThePlan(t *testing.T) {
	t.Parallel()
	for name, start := range registries(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := push(t, start(t))
			c := client(t, w.host)
			inv, p := planFor(t, c, w)
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			res, err := apply.Run(context.Background(), c, w.repo, inv, p, bound(w, journal, "plan-1"))
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			if res.Deleted != len(w.expired()) || res.Failed+res.Skipped+res.Gone != 0 || len(res.Problems) > 0 {
				t.Errorf("Run() = %+v, want %d deleted and nothing else", res, len(w.expired()))
			}
			converged(t, w, inv, p)
			st, err := apply.ReadJournal(journal)
			if err != nil || !st.Done || st.Finished != len(w.expired()) {
				t.Errorf("ReadJournal() = %+v, %v; want done with %d finished", st, err, len(w.expired()))
			}
			// A second run of the same plan finds everything gone and deletes nothing.
			again, err := apply.Run(context.Background(), client(t, w.host), w.repo, inv, p, apply.Options{})
			if err != nil || again.Deleted != 0 || again.Gone != len(w.expired()) {
				t.Errorf("second Run() = %+v, %v; want all %d already gone", again, err, len(w.expired()))
			}
		})
	}
}

func TestRunSkipsWhatChangedSincePlan(t *testing.T) {
	t.Parallel()
	for name, start := range registries(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := push(t, start(t))
			c := client(t, w.host)
			inv, p := planFor(t, c, w)
			// Between plan and apply: a hotfix tag lands on the planned old build, and a new
			// index starts listing one of the planned multi-arch images.
			registrytest.Tag(t, w.host, w.repo, w.old.Index, "hotfix")
			arm := w.multi.Images["linux/arm64"]
			newIndex := registrytest.PushIndex(t, w.host, w.repo, "sha-rebuilt", arm)

			res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{BatchSize: 2})
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			skipped := map[string]string{}
			for _, r := range res.Records {
				if r.Outcome == apply.Skipped {
					skipped[r.Digest] = r.Detail
				}
			}
			if !strings.Contains(skipped[w.old.Index], `tagged "hotfix" since the plan`) {
				t.Errorf("re-tagged index: skipped for %q", skipped[w.old.Index])
			}
			for _, d := range []string{w.old.Images["linux/amd64"], w.old.Attestations["linux/amd64"]} {
				if !strings.Contains(skipped[d], "kept with "+inventory.ShortDigest(w.old.Index)) {
					t.Errorf("child %s of the re-tagged index: skipped for %q", inventory.ShortDigest(d), skipped[d])
				}
			}
			if !strings.Contains(skipped[arm], "referenced since the plan by index "+inventory.ShortDigest(newIndex)) {
				t.Errorf("newly referenced image: skipped for %q", skipped[arm])
			}
			if len(res.Problems) > 0 {
				t.Errorf("Run() problems: %v", res.Problems)
			}
			now := digests(t, w.host, w.repo)
			for _, d := range []string{w.old.Index, w.old.Images["linux/amd64"], arm, newIndex} {
				if !now[d] {
					t.Errorf("%s was deleted although it changed since the plan", inventory.ShortDigest(d))
				}
			}
			if now[w.multi.Index] || now[w.multi.Images["linux/amd64"]] {
				t.Errorf("the rest of the multi-arch build should be gone")
			}
		})
	}
}

// interrupting cancels the run after a number of deletions, as a kill would stop it. It
// embeds the client, so that the run uses its optional capabilities (TagResolver,
// KnownDeleter) as it would without the wrapper.
type interrupting struct {
	*oci.Client
	after  int32
	n      atomic.Int32
	cancel context.CancelFunc
}

func (r *interrupting) Delete(ctx context.Context, repo, digest string) error {
	if r.n.Add(1) > r.after {
		r.cancel()
		return ctx.Err()
	}
	return r.Client.Delete(ctx, repo, digest)
}

func (r *interrupting) DeleteKnown(ctx context.Context, repo string, img inventory.Image) error {
	if r.n.Add(1) > r.after {
		r.cancel()
		return ctx.Err()
	}
	return r.Client.DeleteKnown(ctx, repo, img)
}

// bound returns options journalling to path, bound to w's registry and the plan digest.
func bound(w *world, path, digest string) apply.Options {
	return apply.Options{JournalPath: path, Host: w.host, PlanDigest: digest}
}

func withBatch(o apply.Options, concurrency, batch int) apply.Options {
	o.Concurrency, o.BatchSize = concurrency, batch
	return o
}

// interrupt runs p with a registry that cancels the run after three deletions.
func interrupt(t *testing.T, w *world, c *oci.Client, inv *inventory.Inventory, p *plan.Plan, journal string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := &interrupting{Client: c, after: 3, cancel: cancel}
	res, err := apply.Run(ctx, stop, w.repo, inv, p, withBatch(bound(w, journal, "plan-1"), 1, 2))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run() = %v, want context.Canceled", err)
	}
	if len(res.Records) != 3 || res.Total != len(w.expired()) {
		t.Fatalf("interrupted Run() recorded %d of %d, want 3 of %d", len(res.Records), res.Total, len(w.expired()))
	}
	st, err := apply.ReadJournal(journal)
	if err != nil || st.Done || st.Finished != 3 || st.Host != w.host || st.Repository != w.repo || st.PlanDigest != "plan-1" {
		t.Fatalf("journal after the interruption = %+v, %v; want 3 of %d finished, not done, bound to %s/%s and plan-1", st, err, len(w.expired()), w.host, w.repo)
	}
}

func TestResumeAfterInterruption(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.StartDistribution(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	interrupt(t, w, c, inv, p, journal)

	// The same plan, re-checked against the repository as it is now, resumes the journal.
	now2, err := c.Inventory(context.Background(), w.repo)
	if err != nil {
		t.Fatal(err)
	}
	rest := plan.Recheck(p, now2, now, plan.Options{Safety: plan.Safety{ProtectDigests: map[string]string{w.pinned.Index: "test"}}})
	res, err := apply.Run(context.Background(), client(t, w.host), w.repo, now2, rest, bound(w, journal, "plan-1"))
	if err != nil {
		t.Fatalf("resumed Run() = %v", err)
	}
	if !res.Resumed || res.DoneBefore != 3 || res.Deleted != len(w.expired())-3 || res.Failed+res.Skipped != 0 || len(res.Problems) > 0 {
		t.Errorf("resumed Run() = %+v, want the remaining %d deleted", res, len(w.expired())-3)
	}
	converged(t, w, inv, p)
	if st, _ := apply.ReadJournal(journal); !st.Done || st.Finished != len(w.expired()) {
		t.Errorf("journal after the resumed run = %+v, want done with all %d finished", st, len(w.expired()))
	}
}

// A resumed run applies the safety in force now: a digest pinned after the interruption
// is kept, with its children, although the interrupted plan deletes it.
func TestResumeAppliesTodaysSafety(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.StartDistribution(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	interrupt(t, w, c, inv, p, journal)
	st, err := apply.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	// Pin an untagged target the interrupted run has not deleted yet: its index is gone.
	remaining := st.Remaining()
	if len(remaining) == 0 {
		t.Fatal("the interrupted run left nothing to do")
	}
	var pin string
	for _, r := range remaining {
		if len(r.Tags) == 0 && strings.Contains(r.Reason, "child of index") {
			pin = r.Digest
		}
	}
	if pin == "" {
		t.Fatalf("no untagged index child among the remaining targets %v", remaining)
	}
	now2, err := c.Inventory(context.Background(), w.repo)
	if err != nil {
		t.Fatal(err)
	}
	rest := plan.Recheck(p, now2, now, plan.Options{Safety: plan.Safety{ProtectDigests: map[string]string{pin: "pinned since"}}})
	res, err := apply.Run(context.Background(), client(t, w.host), w.repo, now2, rest, bound(w, journal, "plan-1"))
	if err != nil {
		t.Fatalf("resumed Run() = %v", err)
	}
	want := 0
	for _, it := range rest.Images {
		if it.Action == policy.Expire {
			want++
		}
		if it.Digest == pin && it.Action != policy.Keep {
			t.Errorf("the re-checked plan does not keep the pinned %s: %s", inventory.ShortDigest(pin), it.Reason)
		}
	}
	if !res.Resumed || res.Deleted != want || want >= len(remaining) || res.Failed > 0 {
		t.Errorf("resumed Run() = %+v, want %d deleted, fewer than the %d remaining", res, want, len(remaining))
	}
	// Its index is gone, so no tag reaches it: ask for it by digest.
	if _, err := client(t, w.host).Manifest(context.Background(), w.repo, pin); err != nil {
		t.Errorf("%s, pinned since the interruption: %v", inventory.ShortDigest(pin), err)
	}
}

// A journal never acts on another repository: a run on B given A's unfinished journal
// fails before deleting anything, naming both.
func TestJournalOfAnotherRepositoryIsRefused(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	a := push(t, host)
	c := client(t, host)
	invA, pA := planFor(t, c, a)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	interrupt(t, a, c, invA, pA, journal)

	b := &world{host: host, repo: a.repo + "-b"}
	registrytest.PushBuild(t, host, b.repo, "sha-1", registrytest.BuildOptions{Created: days(30)})
	registrytest.PushBuild(t, host, b.repo, "sha-2", registrytest.BuildOptions{Created: days(20)})
	invB, err := c.Inventory(context.Background(), b.repo)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	pB := plan.Build(pol, invB, now, plan.Options{})
	if pB.Summary.Expire == 0 {
		t.Fatal("the plan for B expires nothing; the test needs targets")
	}
	for _, digest := range []string{"plan-1", "plan-2"} {
		_, err = apply.Run(context.Background(), c, b.repo, invB, pB, bound(b, journal, digest))
		if !errors.Is(err, apply.ErrOtherRepository) || !strings.Contains(err.Error(), a.repo) || !strings.Contains(err.Error(), b.repo) {
			t.Errorf("Run() on B with A's journal = %v, want ErrOtherRepository naming both", err)
		}
	}
	// Another host is another repository too.
	_, err = apply.Run(context.Background(), c, a.repo, invA, pA, apply.Options{JournalPath: journal, Host: "registry.example:5000", PlanDigest: "plan-1"})
	if !errors.Is(err, apply.ErrOtherRepository) {
		t.Errorf("Run() on another host with A's journal = %v, want ErrOtherRepository", err)
	}
	if got := digests(t, host, b.repo); len(got) != len(invB.Images) {
		t.Errorf("B holds %d manifests after the refused runs, want all %d", len(got), len(invB.Images))
	}
}

func TestRunConvergesUnderFaults(t *testing.T) {
	t.Parallel()
	target := registrytest.StartDistribution(t)
	w := push(t, target)
	proxy := registrytest.FaultProxy(t, target, registrytest.FaultConfig{
		Seed: 7, ServerErrors: 0.1, TooManyRequests: 0.05, RetryAfter: time.Second, Resets: 0.05, LostResponses: 0.05,
	})
	faulty := *w
	faulty.host = proxy.Host
	c := client(t, proxy.Host)
	inv, p := planFor(t, c, &faulty)
	w.referrersIndex = faulty.referrersIndex
	res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{Backoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run() through faults = %v", err)
	}
	if res.Failed != 0 || res.Skipped != 0 || res.Deleted+res.Gone != len(w.expired()) || len(res.Problems) > 0 {
		t.Errorf("Run() through faults = %+v", res)
	}
	if n := proxy.Counts(); n.Faults() == 0 {
		t.Errorf("the proxy injected no fault (%+v)", n)
	} else {
		t.Logf("faults injected: %+v", n)
	}
	converged(t, w, inv, p)
}

// blocking holds every deletion until release is closed, and says when the first arrives.
type blocking struct {
	*oci.Client
	arrived chan struct{}
	once    sync.Once
	release chan struct{}
}

func (r *blocking) DeleteKnown(ctx context.Context, repo string, img inventory.Image) error {
	r.once.Do(func() { close(r.arrived) })
	select {
	case <-r.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return r.Client.DeleteKnown(ctx, repo, img)
}

// Two applies never share a journal: while one runs, another given the same journal fails
// with ErrBusy before deleting anything, and --abandon cannot discard it either.
func TestJournalIsLockedDuringARun(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.NewInProcess(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	slow := &blocking{Client: c, arrived: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := apply.Run(context.Background(), slow, w.repo, inv, p, bound(w, journal, "plan-1"))
		done <- err
	}()
	<-slow.arrived
	if _, err := apply.Run(context.Background(), c, w.repo, inv, p, bound(w, journal, "plan-1")); !errors.Is(err, apply.ErrBusy) {
		t.Errorf("a second Run() on the same journal = %v, want ErrBusy", err)
	}
	if err := apply.Abandon(journal); !errors.Is(err, apply.ErrBusy) {
		t.Errorf("Abandon() during a run = %v, want ErrBusy", err)
	}
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatalf("first Run() = %v", err)
	}
	converged(t, w, inv, p)
}

// A file that is not a journal is never overwritten, appended to or discarded.
func TestNotAJournalIsLeftAlone(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.NewInProcess(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	path := filepath.Join(t.TempDir(), "notes.txt")
	const text = "important notes\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Run(context.Background(), c, w.repo, inv, p, bound(w, path, "plan-1")); !errors.Is(err, apply.ErrNotJournal) {
		t.Errorf("Run() with a journal path that is another file = %v, want ErrNotJournal", err)
	}
	if err := apply.Abandon(path); !errors.Is(err, apply.ErrNotJournal) {
		t.Errorf("Abandon() of another file = %v, want ErrNotJournal", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != text {
		t.Errorf("the file is now %q, %v; want it untouched", b, err)
	}
	if got := digests(t, w.host, w.repo); len(got) != len(inv.Images) {
		t.Errorf("the refused run deleted %d manifests", len(inv.Images)-len(got))
	}
}

func TestRunReportsProgress(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.NewInProcess(t))
	// One Reporter for the backend and the run, as the command line has it: the backend
	// counts the tags it checks into the run's re-check phase.
	var rec progresstest.Recorder
	c, err := oci.New(w.host, oci.Options{CacheDir: t.TempDir(), RequestsPerSecond: -1, Progress: &rec})
	if err != nil {
		t.Fatal(err)
	}
	inv, p := planFor(t, c, w)
	inventoried := len(rec.Phases())
	before := c.Stats()

	res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{BatchSize: 3, Progress: &rec})
	if err != nil || res.Deleted != len(w.expired()) {
		t.Fatalf("Run() = %+v, %v; want %d deleted", res, err, len(w.expired()))
	}
	heads := c.Stats().ByKind[registry.KindManifestHEAD] - before.ByKind[registry.KindManifestHEAD]
	phases := rec.Phases()[inventoried:]
	var names []string
	done, checked := 0, 0
	for i, ph := range phases {
		names = append(names, ph.Name)
		if !ph.Ended {
			t.Errorf("phase %d %+v not ended", i, ph)
		}
		switch ph.Name {
		case "re-check":
			// The backend counts the tags it resolves: those at risk, not all of them.
			if ph.Done != ph.Total {
				t.Errorf("phase %d %+v, want done = total", i, ph)
			}
			checked += ph.Done
		case "delete":
			if ph.StartDone != done || ph.Total != len(w.expired()) || ph.Done <= ph.StartDone {
				t.Errorf("phase %d %+v, want it to resume at %d of %d and go on", i, ph, done, len(w.expired()))
			}
			done = ph.Done
		}
	}
	if done != len(w.expired()) {
		t.Errorf("delete phases ended at %d, want %d", done, len(w.expired()))
	}
	// Every tag a re-check resolved is one HEAD, and the run sends no other.
	if checked != heads || checked == 0 {
		t.Errorf("re-check phases counted %d tags; the run sent %d HEADs", checked, heads)
	}
	// A re-check before each batch; no check at the end, as no kept index shares a child
	// with a deleted manifest.
	if len(names) < 4 || len(names)%2 != 0 {
		t.Fatalf("phases = %q, want re-check and delete in turn", names)
	}
	for i, name := range names {
		if want := []string{"re-check", "delete"}[i%2]; name != want {
			t.Errorf("phases = %q, want re-check and delete in turn", names)
			break
		}
	}
	if n := rec.Stray(); n != 0 {
		t.Errorf("%d steps counted outside any phase", n)
	}
}
