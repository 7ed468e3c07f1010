package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/quarantine"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// repoStorage returns an oras client of host/repo.
func repoStorage(t *testing.T, host, repo string) *remote.Repository {
	t.Helper()
	c, err := oci.New(host, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Storage(repo)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// graphOf lists the manifest ref names and everything it reaches (children, configs,
// layers), each once.
func graphOf(t *testing.T, r *remote.Repository, ref string) []ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	root, err := r.Resolve(ctx, ref)
	if err != nil {
		t.Fatalf("resolving %s: %v", ref, err)
	}
	var out []ocispec.Descriptor
	seen := map[digest.Digest]bool{}
	var walk func(d ocispec.Descriptor)
	walk = func(d ocispec.Descriptor) {
		if seen[d.Digest] {
			return
		}
		seen[d.Digest] = true
		out = append(out, d)
		next, err := content.Successors(ctx, r, d)
		if err != nil {
			t.Fatalf("reading %s: %v", d.Digest, err)
		}
		for _, n := range next {
			walk(n)
		}
	}
	walk(root)
	return out
}

// readable reports which of descs the registry serves by digest with the right content.
func readable(t *testing.T, r *remote.Repository, descs []ocispec.Descriptor) (ok, missing int) {
	t.Helper()
	for _, d := range descs {
		rc, err := r.Fetch(context.Background(), d)
		if errors.Is(err, errdef.ErrNotFound) {
			missing++
			continue
		}
		if err != nil {
			t.Fatalf("fetching %s: %v", d.Digest, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || digest.FromBytes(b) != d.Digest {
			t.Errorf("%s reads back wrong (%v)", d.Digest, err)
			continue
		}
		ok++
	}
	return ok, missing
}

type loggedRun struct {
	Run         string   `json:"run"`
	Deleted     int      `json:"deleted"`
	Quarantines []string `json:"quarantines"`
	Removed     []struct {
		Digest     string   `json:"digest"`
		Tags       []string `json:"tags"`
		Reason     string   `json:"reason"`
		Bytes      int64    `json:"bytes"`
		Quarantine string   `json:"quarantine"`
	} `json:"removed"`
}

// TestUndoWindow is the undo window end to end, as a user runs it on Debian's
// docker-registry: apply with a quarantine of manifests and layers; the registry's garbage
// collection reclaims the deleted builds' blobs; restore brings one build back whole by tag,
// then the rest of the run by run ID, leaving alone a tag pushed again since; log shows the
// run.
func TestUndoWindow(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartDistributionGC(t)
	host, repo := reg.Host, "demo/app"
	ref := host + "/" + repo
	pushBuilds(t, host, repo, 6) // sha-000 … sha-005; the policy keeps the two newest
	src := repoStorage(t, host, repo)
	graph := graphOf(t, src, "sha-000")
	index := graph[0].Digest.String()
	dir := t.TempDir()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state")}
	pol := writeFile(t, "policy.json", keepNewest)
	q := filepath.Join(dir, "q")

	r := run(t, env, "", "apply", "--policy", pol, ref, "--yes", "--quarantine", q, "--quarantine-blobs", "--cache-dir", filepath.Join(dir, "cache"))
	if r.code != 0 || !strings.Contains(r.stdout, "12 deleted") || !strings.Contains(r.stdout, "shipshape restore --from "+q+" "+ref+" --run ") {
		t.Fatalf("apply --quarantine = %d\n%s%s", r.code, r.stdout, r.err)
	}

	r = run(t, env, "", "log", ref, "-o", "json")
	var runs []loggedRun
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || r.code != 0 || len(runs) != 1 {
		t.Fatalf("log -o json = %d (%v): %s%s", r.code, err, r.stdout, r.err)
	}
	run1 := runs[0]
	if run1.Deleted != 12 || len(run1.Removed) != 12 || !slices.Equal(run1.Quarantines, []string{q}) {
		t.Errorf("log: %d deleted, %d removed, quarantines %v; want 12, 12, [%s]", run1.Deleted, len(run1.Removed), run1.Quarantines, q)
	}
	for _, m := range run1.Removed {
		if m.Quarantine != q || m.Reason == "" {
			t.Errorf("log: %s has quarantine %q and reason %q", m.Digest, m.Quarantine, m.Reason)
		}
	}
	if r := run(t, env, "", "log"); r.code != 0 || !strings.Contains(r.stdout, "run "+run1.Run) || !strings.Contains(r.stdout, "sha-000") {
		t.Errorf("log = %d\n%s%s", r.code, r.stdout, r.err)
	}

	reg.GarbageCollect(t)
	// The base layer stays: the kept builds share it. Everything else of sha-000 is gone.
	if ok, _ := readable(t, src, graph); ok != 1 {
		t.Fatalf("after garbage collection %d of the %d manifests and blobs of sha-000 are still readable, want only the shared base layer", ok, len(graph))
	}

	r = run(t, env, "", "restore", "--from", q, ref, "--tag", "sha-000")
	if r.code != 0 || !strings.Contains(r.stdout, "restored") {
		t.Fatalf("restore --tag sha-000 = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if ok, missing := readable(t, src, graph); ok != len(graph) {
		t.Errorf("after restore %d of %d manifests and blobs of sha-000 read back (%d missing)", ok, len(graph), missing)
	}
	if got, err := src.Resolve(context.Background(), "sha-000"); err != nil || got.Digest.String() != index {
		t.Errorf("sha-000 resolves to %v (%v), want %s", got.Digest, err, index)
	}

	// sha-001 is pushed again since: restoring the run must not move it back.
	moved := registrytest.PushImage(t, host, repo, "sha-001", registrytest.ImageOptions{})
	r = run(t, env, "", "restore", "--from", q, ref, "--run", run1.Run)
	if r.code != 0 || !strings.Contains(r.stdout, "tag sha-001 left at") {
		t.Fatalf("restore --run = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if got, err := src.Resolve(context.Background(), "sha-001"); err != nil || got.Digest.String() != moved {
		t.Errorf("sha-001 resolves to %v (%v), want the image pushed since, %s", got.Digest, err, moved)
	}
	for _, m := range run1.Removed {
		if _, err := src.Resolve(context.Background(), m.Digest); err != nil {
			t.Errorf("%s %v is not back after restore --run: %v", m.Digest, m.Tags, err)
		}
	}

	// Closing the window: copies older than 1 day stay, then --older-than 0d empties it.
	if r := run(t, env, "", "log", "--prune-quarantine", "--older-than", "1d"); r.code != 0 || !strings.Contains(r.stdout, q+": 0 entries pruned") {
		t.Errorf("log --prune-quarantine --older-than 1d = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if r := run(t, env, "", "log", "--prune-quarantine", "--older-than", "0d"); r.code != 0 || !strings.Contains(r.stdout, q+": 12 entries pruned") {
		t.Errorf("log --prune-quarantine --older-than 0d = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if r := run(t, env, "", "restore", "--from", q, ref, "--all", "--dry-run"); r.code == 0 {
		t.Errorf("restore --all after the window closed = 0, want an error\n%s", r.stdout)
	}
}

// TestQuarantineFailureKeeps: the registry answers 404 to the GET of one layer it
// answered 200 to before, so that build cannot be quarantined whole. apply keeps it, with
// its children, and deletes the rest.
func TestQuarantineFailureKeeps(t *testing.T) {
	t.Parallel()
	upstream := registrytest.NewInProcess(t)
	repo := "demo/app"
	pushBuilds(t, upstream, repo, 5) // the policy expires sha-000, sha-001 and sha-002
	src := repoStorage(t, upstream, repo)
	graph := graphOf(t, src, "sha-001")
	shared := map[digest.Digest]bool{}
	for _, tag := range []string{"sha-000", "sha-002", "sha-003", "sha-004"} {
		for _, d := range graphOf(t, src, tag) {
			shared[d.Digest] = true
		}
	}
	var layer string
	for _, d := range graph {
		if strings.Contains(d.MediaType, "layer") && !shared[d.Digest] {
			layer = d.Digest.String()
			break
		}
	}
	if layer == "" {
		t.Fatal("sha-001 has no layer of its own")
	}
	proxy := registrytest.FaultProxy(t, upstream, registrytest.FaultConfig{
		NotFound: func(r *http.Request) bool {
			return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+layer)
		},
	})
	dir := t.TempDir()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state")}
	pol := writeFile(t, "policy.json", keepNewest)
	r := run(t, env, "", "apply", "--policy", pol, proxy.Host+"/"+repo, "--yes", "--quarantine", filepath.Join(dir, "q"), "--quarantine-blobs", "--no-cache")
	if r.code != 0 || !strings.Contains(r.stdout, "copying it to the quarantine failed") {
		t.Fatalf("apply = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if ok, missing := readable(t, src, graph); missing != 0 {
		t.Errorf("%d of the manifests and blobs of sha-001, whose copy failed, are gone (%d left)", missing, ok)
	}
	for _, tag := range []string{"sha-000", "sha-002"} {
		if _, err := src.Resolve(context.Background(), tag); !errors.Is(err, errdef.ErrNotFound) {
			t.Errorf("%s, copied whole, was not deleted: %v", tag, err)
		}
	}
}

// TestKilledQuarantinedApply kills apply --quarantine with SIGKILL midway and runs it again:
// every manifest gone from the registry has a verified copy in the quarantine (none was
// deleted first), and restore --all brings the repository back to what it was.
func TestKilledQuarantinedApply(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	host := registrytest.StartDistribution(t)
	repo := "team/app"
	pushBuilds(t, host, repo, 12)
	before := inventoryOf(t, host, repo)
	dir := t.TempDir()
	env := append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	pol := writeFile(t, "policy.json", keepNewest)
	journal, q := filepath.Join(dir, "journal.jsonl"), filepath.Join(dir, "q")
	args := []string{"apply", "--policy", pol, host + "/" + repo, "--yes", "--journal", journal, "--quarantine", q,
		"--concurrency", "1", "--rps", "15"}
	killedApply(t, bin, env, journal, args...)
	if code, out := runBin(t, bin, env, args[:len(args)-4]...); code != 0 {
		t.Fatalf("second apply = %d\n%s", code, out)
	}

	held := map[string]bool{}
	qq, err := quarantine.Open(context.Background(), q, quarantine.Options{Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := qq.Entries()
	qq.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		held[e.Digest] = true
	}
	// Untagged manifests whose index is gone are out of an inventory's sight: ask for each.
	src := repoStorage(t, host, repo)
	gone := 0
	for _, img := range before.Images {
		_, err := src.Resolve(context.Background(), img.Digest)
		switch {
		case errors.Is(err, errdef.ErrNotFound):
			gone++
			if !held[img.Digest] {
				t.Errorf("%s %v was deleted without a copy in the quarantine", img.Digest, img.Tags)
			}
		case err != nil:
			t.Fatal(err)
		}
	}
	// The second run re-plans from what is left: an orphaned attestation manifest, whose
	// push time nothing records, is kept. Everything else planned goes.
	if gone < 20 || gone > 30 {
		t.Errorf("%d manifests gone, want 20 to 30", gone)
	}

	if code, out := runBin(t, bin, env, "restore", "--from", q, host+"/"+repo, "--all"); code != 0 {
		t.Fatalf("restore --all = %d\n%s", code, out)
	}
	restored := inventoryOf(t, host, repo)
	tags := func(inv *inventory.Inventory) map[string]string {
		m := map[string]string{}
		for _, img := range inv.Images {
			for _, tag := range img.Tags {
				m[tag] = img.Digest
			}
		}
		return m
	}
	if diff := cmp.Diff(tags(before), tags(restored)); diff != "" || len(restored.Images) != len(before.Images) {
		t.Errorf("after restore --all: %d images (want %d), tags (-before +after):\n%s", len(restored.Images), len(before.Images), diff)
	}
}

// TestRegistryQuarantineAcrossMachines: apply quarantines into another repository in one
// job; a later job, on a fresh machine with none of the first one's state, restores from it.
func TestRegistryQuarantineAcrossMachines(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := "demo/app"
	pushBuilds(t, host, repo, 4) // the policy expires sha-000 and sha-001
	src := repoStorage(t, host, repo)
	graph := graphOf(t, src, "sha-000")
	pol := writeFile(t, "policy.json", keepNewest)
	q := host + "/quarantine/demo-app"

	first := map[string]string{"XDG_STATE_HOME": t.TempDir()}
	r := run(t, first, "", "apply", "--policy", pol, host+"/"+repo, "--yes", "--quarantine", q, "--no-cache")
	if r.code != 0 || !strings.Contains(r.stdout, "6 deleted") || !strings.Contains(r.stdout, "Copies are in the quarantine "+q) {
		t.Fatalf("apply --quarantine %s = %d\n%s%s", q, r.code, r.stdout, r.err)
	}
	if ok, _ := readable(t, src, graph[:1]); ok != 0 {
		t.Fatal("sha-000 is still there after apply")
	}

	second := map[string]string{"XDG_STATE_HOME": t.TempDir()}
	r = run(t, second, "", "restore", "--from", q, host+"/"+repo, "--tag", "sha-000")
	if r.code != 0 || !strings.Contains(r.stdout, "restored") {
		t.Fatalf("restore on a fresh machine = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if ok, missing := readable(t, src, graph); missing != 0 {
		t.Errorf("after restore %d of sha-000's manifests and blobs read back, %d missing", ok, missing)
	}
}
