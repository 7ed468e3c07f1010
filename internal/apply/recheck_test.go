package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
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
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// keepTwoBuilds keeps the two newest sha- builds.
const keepTwoBuilds = `{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPrefixList": ["sha-"],
  "countType": "imageCountMoreThan", "countNumber": 2}, "action": {"type": "expire"}}]}`

// requestLog records the method and path of every request through it.
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.lines = append(l.lines, req.Method+" "+req.URL.Path)
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// take returns the requests logged since the last call.
func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// heads returns the references (tags or digests) of the HEAD requests among lines, sorted.
func heads(lines []string) []string {
	var out []string
	for _, l := range lines {
		if ref, ok := strings.CutPrefix(l, "HEAD "); ok {
			out = append(out, ref[strings.LastIndex(ref, "/")+1:])
		}
	}
	slices.Sort(out)
	return out
}

// logged returns a client of host whose requests go to a new log.
func logged(t *testing.T, host string) (*oci.Client, *requestLog) {
	t.Helper()
	l := &requestLog{}
	c, err := oci.New(host, oci.Options{CacheDir: t.TempDir(), RequestsPerSecond: -1, Transport: l})
	if err != nil {
		t.Fatal(err)
	}
	return c, l
}

// requestsSince returns the requests c counted since before, by kind, without zeros.
func requestsSince(c *oci.Client, before registry.Requests) map[registry.Kind]int {
	out := map[registry.Kind]int{}
	for k, n := range c.Stats().ByKind {
		if d := n - before.ByKind[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// builds is a repository of six single-platform buildx builds, sha-000 (oldest) to sha-005,
// with "latest" on the newest: keepTwoBuilds expires the first four, 12 manifests carrying
// 4 tags.
type builds struct {
	host, repo string
	b          []registrytest.Build
}

func pushBuilds(t *testing.T, host string) *builds {
	t.Helper()
	w := &builds{host: host, repo: registrytest.RepoName(t)}
	for i := range 6 {
		w.b = append(w.b, registrytest.PushBuild(t, host, w.repo, fmt.Sprintf("sha-%03d", i),
			registrytest.BuildOptions{Created: days(float64(10 - i)), Base: "debian"}))
	}
	registrytest.Tag(t, host, w.repo, w.b[5].Index, "latest")
	return w
}

func (w *builds) plan(t *testing.T, c *oci.Client) (*inventory.Inventory, *plan.Plan) {
	t.Helper()
	inv, err := c.Inventory(context.Background(), w.repo)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load([]byte(keepTwoBuilds))
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Build(pol, inv, now, plan.Options{})
	if p.Summary.Expire != 12 {
		t.Fatalf("the plan expires %d manifests, want 12", p.Summary.Expire)
	}
	return inv, p
}

// TestRecheckResolvesOnlyTagsAtRisk counts every request of a run, exactly: a re-check
// lists the tags once and HEADs only the tags it has not seen and those of the batch's
// targets; each deletion is one DELETE; nothing is read; and no kept index is checked, as
// none shares a child with a deleted manifest.
func TestRecheckResolvesOnlyTagsAtRisk(t *testing.T) {
	t.Parallel()
	for name, start := range registries(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := pushBuilds(t, start(t))
			c, log := logged(t, w.host)
			inv, p := w.plan(t, c)
			// Since the plan: a new tag on a kept build.
			registrytest.Tag(t, w.host, w.repo, w.b[4].Index, "new-tag")
			log.take()
			before := c.Stats()
			// Batches: the 4 indexes (wave 0), then 5 and 3 of their 8 children.
			res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{BatchSize: 5})
			if err != nil || res.Deleted != 12 || len(res.Records) != 12 {
				t.Fatalf("Run() = %+v, %v; want 12 deleted", res, err)
			}
			want := map[registry.Kind]int{
				registry.KindTagList:        3,  // one per re-check
				registry.KindManifestHEAD:   5,  // new-tag, and the tags of the 4 targets of the first batch
				registry.KindManifestDELETE: 12, // one per deletion
			}
			if diff := cmp.Diff(want, requestsSince(c, before)); diff != "" {
				t.Errorf("Run() requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"new-tag", "sha-000", "sha-001", "sha-002", "sha-003"}, heads(log.take())); diff != "" {
				t.Errorf("Run() HEADs (-want +got):\n%s", diff)
			}
			if per := float64(requestsSince(c, before)[registry.KindManifestDELETE]) / float64(res.Deleted); per != 1 {
				t.Errorf("%.2f DELETEs per deletion, want 1", per)
			}
		})
	}
}

// TestRecheckIntervalResolvesEveryTag: once the last full check is older than the interval
// (or with a negative interval, always), a re-check HEADs every tag.
func TestRecheckIntervalResolvesEveryTag(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	for _, tt := range []struct {
		name     string
		interval time.Duration
		step     time.Duration // how far the clock moves each time it is read
		// wantHEAD: the first re-check sees 8 tags (sha-000 to sha-005, latest, new-tag),
		// the next two the 4 the first batch left.
		wantHEAD int
	}{
		{"recent inventory", 0, 0, 5},
		{"interval elapsed", 0, 11 * time.Minute, 8 + 4 + 4},
		{"every time", -1, 0, 8 + 4 + 4},
		{"interval not elapsed", time.Hour, time.Minute, 5 + 0 + 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := pushBuilds(t, host)
			c, _ := logged(t, w.host)
			inv, p := w.plan(t, c)
			registrytest.Tag(t, w.host, w.repo, w.b[4].Index, "new-tag")
			var mu sync.Mutex
			clock := inv.CapturedAt
			tick := func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				clock = clock.Add(tt.step)
				return clock
			}
			before := c.Stats()
			res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{BatchSize: 5, RecheckInterval: tt.interval, Now: tick})
			if err != nil || res.Deleted != 12 {
				t.Fatalf("Run() = %+v, %v; want 12 deleted", res, err)
			}
			if got := requestsSince(c, before)[registry.KindManifestHEAD]; got != tt.wantHEAD {
				t.Errorf("Run() sent %d HEADs, want %d", got, tt.wantHEAD)
			}
		})
	}
}

// present reports which of ds the registry holds, asking for each by digest (an
// inventory finds no untagged manifest that no tag reaches).
func present(t *testing.T, host, repo string, ds []string) map[string]bool {
	t.Helper()
	got, err := client(t, host).Resolve(context.Background(), repo, ds)
	if err != nil {
		t.Fatalf("Resolve() = %v", err)
	}
	out := map[string]bool{}
	for d := range got {
		out[d] = true
	}
	return out
}

// skipped returns why each skipped target of res was skipped.
func skipped(res *apply.Result) map[string]string {
	out := map[string]string{}
	for _, r := range res.Records {
		if r.Outcome == apply.Skipped {
			out[r.Digest] = r.Detail
		}
	}
	return out
}

// TestRecheckKeepsRacedTargets changes the repository between plan and apply in the ways
// that make a planned deletion unsafe, and checks that the run keeps what changed (and
// what goes with it), deletes the rest, and that the registry agrees.
func TestRecheckKeepsRacedTargets(t *testing.T) {
	t.Parallel()
	type race struct {
		name string
		// change alters the repository after the plan and returns the digests that must
		// stay, each with a word of the reason it must be skipped for.
		change func(t *testing.T, w *world) map[string]string
		// step moves the clock each time the run reads it.
		step time.Duration
		// distributionOnly: the registry keeps referrers in sha256-<hex> indexes.
		distributionOnly bool
	}
	races := []race{{
		name: "new tag on a target",
		change: func(t *testing.T, w *world) map[string]string {
			registrytest.Tag(t, w.host, w.repo, w.old.Index, "hotfix")
			return map[string]string{
				w.old.Index:                       `tagged "hotfix" since the plan`,
				w.old.Images["linux/amd64"]:       "kept with " + inventory.ShortDigest(w.old.Index),
				w.old.Attestations["linux/amd64"]: "kept with " + inventory.ShortDigest(w.old.Index),
			}
		},
	}, {
		// The tag pointed at a target's parent at plan time, so a re-check HEADs it (before
		// the parent's batch) and sees it moved onto the child, a target of a later wave.
		name: "tag moved from an index onto its child",
		change: func(t *testing.T, w *world) map[string]string {
			arm := w.multi.Images["linux/arm64"]
			registrytest.Tag(t, w.host, w.repo, arm, "sha-multi")
			return map[string]string{arm: `tagged "sha-multi" since the plan`}
		},
	}, {
		// The tag was on a target of the same batch: a re-check HEADs it.
		name: "tag moved from one target onto another of its batch",
		change: func(t *testing.T, w *world) map[string]string {
			registrytest.Tag(t, w.host, w.repo, w.multi.Index, "sha-old")
			return map[string]string{
				w.multi.Index:                 `tagged "sha-old" since the plan`,
				w.multi.Images["linux/arm64"]: "kept with " + inventory.ShortDigest(w.multi.Index),
			}
		},
	}, {
		// The tag pointed at a kept image: only a full check sees it move.
		name: "kept tag moved onto a target, past the interval",
		step: 11 * time.Minute,
		change: func(t *testing.T, w *world) map[string]string {
			registrytest.Tag(t, w.host, w.repo, w.old.Index, "v1.0.0")
			return map[string]string{
				w.old.Index:                       `tagged "v1.0.0" since the plan`,
				w.old.Images["linux/amd64"]:       "kept with",
				w.old.Attestations["linux/amd64"]: "kept with",
			}
		},
	}, {
		name: "new index lists a target",
		change: func(t *testing.T, w *world) map[string]string {
			arm := w.multi.Images["linux/arm64"]
			idx := registrytest.PushIndex(t, w.host, w.repo, "sha-rebuilt", arm)
			return map[string]string{arm: "referenced since the plan by index " + inventory.ShortDigest(idx)}
		},
	}, {
		name: "new index of a new index lists a target",
		change: func(t *testing.T, w *world) map[string]string {
			amd := w.multi.Images["linux/amd64"]
			inner := registrytest.PushIndex(t, w.host, w.repo, "", amd)
			registrytest.PushIndex(t, w.host, w.repo, "sha-outer", inner)
			return map[string]string{amd: "referenced since the plan by index " + inventory.ShortDigest(inner)}
		},
	}, {
		name:             "referrer pushed to a target",
		distributionOnly: true,
		change: func(t *testing.T, w *world) map[string]string {
			registrytest.PushReferrer(t, w.host, w.repo, w.multi.Index, "application/vnd.example.sbom")
			return map[string]string{w.multi.Index: "a referrer was pushed since the plan"}
		},
	}}
	for name, start := range registries(t) {
		for _, r := range races {
			if r.distributionOnly && name != "distribution" {
				continue
			}
			t.Run(name+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				w := push(t, start(t))
				c := client(t, w.host)
				inv, p := planFor(t, c, w)
				keep := r.change(t, w)
				var mu sync.Mutex
				clock := inv.CapturedAt
				tick := func() time.Time {
					mu.Lock()
					defer mu.Unlock()
					clock = clock.Add(r.step)
					return clock
				}
				res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{BatchSize: 2, Now: tick})
				if err != nil {
					t.Fatalf("Run() = %v", err)
				}
				got := skipped(res)
				for d, why := range keep {
					if !strings.Contains(got[d], why) {
						t.Errorf("%s: skipped for %q, want %q", inventory.ShortDigest(d), got[d], why)
					}
				}
				var all []string
				for _, img := range inv.Images {
					all = append(all, img.Digest)
				}
				now := present(t, w.host, w.repo, all)
				for _, d := range w.expired() {
					_, kept := keep[d]
					_, skip := got[d]
					switch {
					case kept && !now[d]:
						t.Errorf("%s was deleted although it changed since the plan", inventory.ShortDigest(d))
					case !skip && now[d]:
						t.Errorf("%s was neither skipped nor deleted", inventory.ShortDigest(d))
					case skip && !now[d]:
						t.Errorf("%s was skipped (%s) but is gone", inventory.ShortDigest(d), got[d])
					}
				}
				for _, img := range inv.Images {
					if !slices.Contains(w.expired(), img.Digest) && !now[img.Digest] {
						t.Errorf("UNPLANNED deletion: %s %v", inventory.ShortDigest(img.Digest), img.Tags)
					}
				}
				if len(res.Problems) > 0 {
					t.Errorf("Run() problems: %v", res.Problems)
				}
			})
		}
	}
}

// TestRecheckKeepsTargetOfVanishedTag: a tag that pointed at a target and vanished while the
// manifest stayed keeps the target; one that vanished with its manifest (deleted by someone
// else) is a target already gone. The in-process registry deletes tags by name.
func TestRecheckKeepsTargetOfVanishedTag(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.NewInProcess(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	for _, ref := range []string{"sha-old", w.multi.Index} {
		req, err := http.NewRequest(http.MethodDelete, "http://"+w.host+"/v2/"+w.repo+"/manifests/"+ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("DELETE %s = %v, %v", ref, resp, err)
		}
		resp.Body.Close()
	}
	res, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{BatchSize: 2})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	got := skipped(res)
	if !strings.Contains(got[w.old.Index], `its tag "sha-old" vanished since the plan`) {
		t.Errorf("old index: skipped for %q, want its vanished tag named", got[w.old.Index])
	}
	for _, r := range res.Records {
		if r.Digest == w.multi.Index && r.Outcome != apply.Gone {
			t.Errorf("multi-arch index, deleted by someone else: %s (%s), want gone", r.Outcome, r.Detail)
		}
	}
	if now := present(t, w.host, w.repo, []string{w.old.Index, w.old.Images["linux/amd64"]}); !now[w.old.Index] || !now[w.old.Images["linux/amd64"]] {
		t.Errorf("the old build was deleted although its tag vanished")
	}
}

// failing fails the tag listing of the client it wraps from its n-th call on, or the
// resolution of any list of references that includes a given one.
type failing struct {
	*oci.Client
	listFrom int32 // 0: never
	calls    atomic.Int32
	ref      string // "": never
}

var errUnreadable = errors.New("500 Internal Server Error")

func (f *failing) TagNames(ctx context.Context, repo string) ([]string, error) {
	if n := f.calls.Add(1); f.listFrom > 0 && n >= f.listFrom {
		return nil, fmt.Errorf("listing tags of %s: %w", repo, errUnreadable)
	}
	return f.Client.TagNames(ctx, repo)
}

func (f *failing) Resolve(ctx context.Context, repo string, refs []string) (map[string]string, error) {
	if f.ref != "" && slices.Contains(refs, f.ref) {
		return nil, fmt.Errorf("resolving %s in %s: %w", f.ref, repo, errUnreadable)
	}
	return f.Client.Resolve(ctx, repo, refs)
}

// TestRecheckRefusesWhatItCannotRead: a tag list or a HEAD that fails stops the run before
// the batch it was for: nothing more is deleted, a failed read is never taken for an empty
// one, and the journal says how far the run got, so that a later run finishes it.
func TestRecheckRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		listFrom int32
		ref      string
		// wantDeleted before the failure: the first batch is the two expired indexes.
		wantDeleted int
	}{
		{"second tag list", 2, "", 2},
		{"HEAD of a new tag", 0, "new-tag", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := push(t, registrytest.StartDistribution(t))
			c := client(t, w.host)
			inv, p := planFor(t, c, w)
			registrytest.Tag(t, w.host, w.repo, w.release.Index, "new-tag")
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			f := &failing{Client: c, listFrom: tt.listFrom, ref: tt.ref}
			res, err := apply.Run(context.Background(), f, w.repo, inv, p, withBatch(bound(w, journal, "plan-1"), 4, 2))
			if !errors.Is(err, errUnreadable) || !strings.Contains(err.Error(), "re-checking tags before deleting") {
				t.Fatalf("Run() = %v, want the failed read", err)
			}
			if res.Deleted != tt.wantDeleted || len(res.Records) != tt.wantDeleted {
				t.Fatalf("Run() = %+v, want %d deleted and nothing more", res, tt.wantDeleted)
			}
			now := present(t, w.host, w.repo, w.expired())
			gone := 0
			for _, d := range w.expired() {
				if !now[d] {
					gone++
				}
			}
			if gone != tt.wantDeleted {
				t.Errorf("%d targets gone, want %d", gone, tt.wantDeleted)
			}
			st, err := apply.ReadJournal(journal)
			if err != nil || st.Done || st.Finished != tt.wantDeleted {
				t.Fatalf("journal = %+v, %v; want %d finished, not done", st, err, tt.wantDeleted)
			}
			// A later run, with the repository read again, finishes the plan.
			inv2, err := c.Inventory(context.Background(), w.repo)
			if err != nil {
				t.Fatal(err)
			}
			rest := plan.Recheck(p, inv2, now2(), plan.Options{Safety: plan.Safety{ProtectDigests: map[string]string{w.pinned.Index: "test"}}})
			res, err = apply.Run(context.Background(), c, w.repo, inv2, rest, bound(w, journal, "plan-1"))
			if err != nil || !res.Resumed || res.Failed+res.Skipped != 0 {
				t.Fatalf("resumed Run() = %+v, %v", res, err)
			}
			converged(t, w, inv, p)
		})
	}
}

func now2() time.Time { return now }

// TestRunTwiceFindsEverythingGone: a second run of a plan already carried out sends one
// DELETE per target, each answered 404 and recorded as already gone; nothing is deleted
// and nothing is read.
func TestRunTwiceFindsEverythingGone(t *testing.T) {
	t.Parallel()
	for name, start := range registries(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := push(t, start(t))
			c := client(t, w.host)
			inv, p := planFor(t, c, w)
			if _, err := apply.Run(context.Background(), c, w.repo, inv, p, apply.Options{}); err != nil {
				t.Fatal(err)
			}
			again := client(t, w.host)
			res, err := apply.Run(context.Background(), again, w.repo, inv, p, apply.Options{})
			if err != nil || res.Gone != len(w.expired()) || res.Deleted+res.Skipped+res.Failed != 0 {
				t.Fatalf("second Run() = %+v, %v; want all %d gone", res, err, len(w.expired()))
			}
			// Only the referrer's bookkeeping reads anything: on a registry without the
			// referrers API, the referrers index of its subject, found gone.
			wantGET := 0
			if w.referrersIndex != "" {
				wantGET = 1
			}
			got := again.Stats().ByKind
			if got[registry.KindManifestDELETE] != len(w.expired()) || got[registry.KindManifestGET] != wantGET {
				t.Errorf("second Run() requests: %v; want one DELETE per target and %d GET", again.Stats(), wantGET)
			}
		})
	}
}

// cascading is a registry that deletes the children of an index with it, as a
// garbage-collecting registry might: the check after the run must notice.
type cascading struct {
	*oci.Client
}

func (r *cascading) DeleteKnown(ctx context.Context, repo string, img inventory.Image) error {
	if err := r.Client.DeleteKnown(ctx, repo, img); err != nil {
		return err
	}
	for _, c := range img.Children {
		if err := r.Client.DeleteKnown(ctx, repo, inventory.Image{Digest: c.Digest, MediaType: c.MediaType}); err != nil && !errors.Is(err, registry.ErrNotFound) {
			return err
		}
	}
	return nil
}

// TestValidateChecksOnlyTouchedIndexes: after the run, only the children of kept indexes
// that share a child with a deleted manifest are checked, with one HEAD each; and a child
// lost that way is reported.
func TestValidateChecksOnlyTouchedIndexes(t *testing.T) {
	t.Parallel()
	for _, cascade := range []bool{false, true} {
		t.Run(fmt.Sprintf("cascade=%v", cascade), func(t *testing.T) {
			t.Parallel()
			w := push(t, registrytest.StartDistribution(t))
			// An index sharing the release's image; the plan deletes it alone.
			shared := w.release.Images["linux/amd64"]
			extra := registrytest.PushIndex(t, w.host, w.repo, "tmp-extra", shared)
			c, log := logged(t, w.host)
			inv, err := c.Inventory(context.Background(), w.repo)
			if err != nil {
				t.Fatal(err)
			}
			p := &plan.Plan{Repository: inv.Repository, Images: []plan.Item{{Digest: extra, Tags: []string{"tmp-extra"}, Action: policy.Expire}}}
			var reg apply.Registry = c
			if cascade {
				reg = &cascading{Client: c}
			}
			log.take()
			res, err := apply.Run(context.Background(), reg, w.repo, inv, p, apply.Options{})
			if err != nil || res.Deleted != 1 {
				t.Fatalf("Run() = %+v, %v; want 1 deleted", res, err)
			}
			// tmp-extra before the batch, its shared child after the run.
			if diff := cmp.Diff([]string{shared, "tmp-extra"}, heads(log.take())); diff != "" {
				t.Errorf("Run() HEADs (-want +got):\n%s", diff)
			}
			var want []string
			if cascade {
				want = []string{fmt.Sprintf("kept index %s lost its child %s", inventory.ShortDigest(w.release.Index), inventory.ShortDigest(shared))}
			}
			if diff := cmp.Diff(want, res.Problems); diff != "" {
				t.Errorf("Run() problems (-want +got):\n%s", diff)
			}
		})
	}
}

// referencing refuses to delete one manifest, as a registry does while an index it knows
// of lists it.
type referencing struct {
	*oci.Client
	refused string
}

func (r *referencing) DeleteKnown(ctx context.Context, repo string, img inventory.Image) error {
	if img.Digest == r.refused {
		return fmt.Errorf("deleting %s from %s: 409 Conflict: %w", img.Digest, repo, registry.ErrReferenced)
	}
	return r.Client.DeleteKnown(ctx, repo, img)
}

// TestRunKeepsWhatTheRegistryRefuses: a DELETE refused because an index still lists the
// manifest keeps it, reported as skipped with the registry's reason, not failed; the rest
// of the plan goes.
func TestRunKeepsWhatTheRegistryRefuses(t *testing.T) {
	t.Parallel()
	w := push(t, registrytest.NewInProcess(t))
	c := client(t, w.host)
	inv, p := planFor(t, c, w)
	refused := w.old.Images["linux/amd64"]
	res, err := apply.Run(context.Background(), &referencing{Client: c, refused: refused}, w.repo, inv, p, apply.Options{})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if why := skipped(res)[refused]; !strings.Contains(why, "kept: the registry refuses to delete it while an index lists it") || !strings.Contains(why, "409 Conflict") {
		t.Errorf("refused image: skipped for %q", why)
	}
	if res.Failed != 0 || res.Skipped != 1 || res.Deleted != len(w.expired())-1 {
		t.Errorf("Run() = %+v, want all but the refused image deleted", res)
	}
	if !present(t, w.host, w.repo, []string{refused})[refused] {
		t.Errorf("the refused image is gone")
	}
}
