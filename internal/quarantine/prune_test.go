package quarantine_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"

	"github.com/shipshape-dev/shipshape/internal/quarantine"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestPruneDirectory prunes the older of two images sharing a base layer: its own blobs go,
// the shared layer and everything of the newer stay, and so does the record of it all.
func TestPruneDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	a := registrytest.PushImage(t, host, repo, "a", registrytest.ImageOptions{Base: "debian"})
	b := registrytest.PushImage(t, host, repo, "b", registrytest.ImageOptions{Base: "debian"})
	src := storage(t, host, repo)
	ga, gb := readGraph(t, src, resolve(t, src, a)), readGraph(t, src, resolve(t, src, b))
	base := ga.layers[0]
	if base.Digest != gb.layers[0].Digest {
		t.Fatal("the images do not share their base layer")
	}

	dir := t.TempDir()
	now := t0
	q := open(t, dir, quarantine.Options{Blobs: true, Now: func() time.Time { return now }})
	put(t, q, src, "r1", host, repo, a, "a")
	now = t0.Add(48 * time.Hour)
	eb := put(t, q, src, "r2", host, repo, b, "b")
	// What a copy cut short leaves behind goes too.
	orphan := []byte("left by a failed copy")
	od := digest.FromBytes(orphan)
	if err := os.WriteFile(blobFile(dir, od), orphan, 0o444); err != nil {
		t.Fatal(err)
	}

	n, freed, err := q.Prune(ctx, t0.Add(24*time.Hour))
	wantFreed := sizeOf(ga.manifests, ga.configs, ga.layers[1:]) + int64(len(orphan))
	if err != nil || n != 1 || freed != wantFreed {
		t.Fatalf("Prune() = %d, %d, %v, want 1, %d, nil", n, freed, err, wantFreed)
	}
	for _, d := range slices.Concat(ga.manifests, ga.configs, ga.layers[1:], []ocispec.Descriptor{{Digest: od}}) {
		if hasBlob(t, dir, d.Digest) {
			t.Errorf("%s of the pruned entry is still in the quarantine", d.Digest)
		}
	}
	for _, d := range gb.all() {
		if !hasBlob(t, dir, d.Digest) {
			t.Errorf("%s of the kept entry is gone", d.Digest)
		}
	}

	check := func(q *quarantine.Quarantine) {
		t.Helper()
		entries, err := q.Entries()
		if err != nil || len(entries) != 1 || entries[0].Digest != b {
			t.Errorf("Entries() = %v, %v, want only %s", entries, err, b)
		}
		if m := readIndex(t, dir).Manifests; len(m) != 1 || m[0].Digest.String() != b {
			t.Errorf("index.json lists %v, want only %s", m, b)
		}
	}
	check(q)
	lines := ledgerLines(t, filepath.Join(dir, "shipshape-ledger.jsonl"))
	if len(lines) != 3 || lines[2]["pruned"] == nil {
		t.Fatalf("ledger = %v, want two puts and a prune", lines)
	}
	var pruned struct {
		Digest string `json:"digest"`
		Run    string `json:"run"`
	}
	if err := json.Unmarshal(lines[2]["pruned"], &pruned); err != nil || pruned.Digest != a || pruned.Run != "r1" {
		t.Errorf("pruned line = %s, want %s of r1", lines[2]["pruned"], a)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = open(t, dir, quarantine.Options{Blobs: true})
	check(q)

	// The kept entry still restores, from what is left.
	if err := src.Delete(ctx, resolve(t, src, b)); err != nil {
		t.Fatal(err)
	}
	res, err := q.Restore(ctx, src, quarantine.Selection{Host: host, Repository: repo, Run: eb.Run}, quarantine.RestoreOptions{})
	if err != nil || len(res) != 1 || res[0].Outcome != quarantine.OutcomeRestored {
		t.Errorf("Restore() = %+v, %v, want %s restored", res, err, b)
	}
}

// TestPruneSharedRegistryDestination: two machines, each with its own ledger, quarantine
// the same manifest into one repository. A prune by one keeps what the other still holds;
// a manifest kept for a newer entry of the same ledger goes once that entry goes too.
func TestPruneSharedRegistryDestination(t *testing.T) {
	t.Parallel()
	for name, start := range map[string]func(testing.TB) string{
		"in-process":   registrytest.NewInProcess,
		"distribution": registrytest.StartDistribution, // which cannot delete a tag alone
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testPruneSharedRegistryDestination(t, start(t))
		})
	}
}

func testPruneSharedRegistryDestination(t *testing.T, host string) {
	ctx := context.Background()
	repo, qrepo := "team/app", "quarantine/shared"
	img := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{})
	src, dst := storage(t, host, repo), storage(t, host, qrepo)
	desc := resolve(t, src, img)
	now := t0
	opts := func() quarantine.Options {
		return quarantine.Options{
			Repository: func(h, r string) (oras.Target, error) { return storage(t, h, r), nil },
			LedgerDir:  t.TempDir(),
			Now:        func() time.Time { return now },
		}
	}
	a, b := open(t, host+"/"+qrepo, opts()), open(t, host+"/"+qrepo, opts())
	put(t, a, src, "run-a1", host, repo, img)
	now = t0.Add(time.Hour)
	put(t, a, src, "run-a2", host, repo, img)
	put(t, b, src, "run-b1", host, repo, img)
	held := func() bool {
		t.Helper()
		ok, err := dst.Exists(ctx, desc)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	if n, _, err := a.Prune(ctx, t0.Add(time.Minute)); err != nil || n != 1 || !held() {
		t.Fatalf("Prune(run-a1) = %d, %v, held %v; want 1, nil, held: run-a2 needs it", n, err, held())
	}
	if n, _, err := a.Prune(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 || !held() {
		t.Fatalf("Prune(run-a2) = %d, %v, held %v; want 1, nil, held: the other ledger's run-b1 needs it", n, err, held())
	}
	if n, _, err := b.Prune(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 || held() {
		t.Fatalf("Prune(run-b1) = %d, %v, held %v; want 1, nil, gone", n, err, held())
	}
	var tags []string
	if err := dst.Tags(ctx, "", func(ts []string) error { tags = append(tags, ts...); return nil }); err != nil && !errors.Is(err, errdef.ErrNotFound) {
		t.Fatal(err)
	}
	if len(tags) != 0 {
		t.Errorf("the quarantine repository still has tags %v", tags)
	}
}
