package quarantine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/shipshape-dev/shipshape/internal/quarantine"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// gone checks that the registry has none of descs: a GET of each answers 404.
func gone(t *testing.T, r *remote.Repository, descs ...ocispec.Descriptor) {
	t.Helper()
	for _, d := range descs {
		rc, err := r.Fetch(context.Background(), d)
		if err == nil {
			rc.Close()
			t.Errorf("%s (%s) is in the registry, want it gone", d.Digest, d.MediaType)
		} else if !errors.Is(err, errdef.ErrNotFound) {
			t.Errorf("fetching %s: %v, want not found", d.Digest, err)
		}
	}
}

// TestRestoreAfterGarbageCollection quarantines a build with its layers, deletes it, has
// the registry collect its garbage (the layers are gone), and restores it by tag: every
// manifest and blob reads back by digest, and the tag names the index again.
func TestRestoreAfterGarbageCollection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := registrytest.StartDistributionGC(t)
	repo := "team/app"
	b := registrytest.PushBuild(t, reg.Host, repo, "v1", registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}})
	src := storage(t, reg.Host, repo)
	g := readGraph(t, src, resolve(t, src, b.Index))

	q := open(t, t.TempDir(), quarantine.Options{Blobs: true})
	put(t, q, src, "r1", reg.Host, repo, b.Index, "v1")
	deleteGraph(t, src, g)
	reg.GarbageCollect(t)
	gone(t, src, g.all()...)

	res, err := q.Restore(ctx, src, quarantine.Selection{Host: reg.Host, Repository: repo, Tag: "v1"}, quarantine.RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore() = %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("Restore() = %d outcomes, want 1", len(res))
	}
	r := res[0]
	if r.Outcome != quarantine.OutcomeRestored || r.Blobs != quarantine.BlobsQuarantine || !cmp.Equal(r.Tags, []string{"v1"}) || r.Detail != "" {
		t.Errorf("Restore() = %+v, want restored, blobs from the quarantine, tag v1", r)
	}
	checkGraph(t, src, g)
	if got, err := src.Resolve(ctx, "v1"); err != nil || got.Digest.String() != b.Index {
		t.Errorf("Resolve(v1) = %v, %v, want %s", got.Digest, err, b.Index)
	}
}

// TestRestoreWithoutBlobs restores builds quarantined without their layers: after the
// registry's garbage collection it must refuse, pushing nothing; before it, it succeeds
// with the layers the registry still has.
func TestRestoreWithoutBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, collected := range []bool{true, false} {
		t.Run(map[bool]string{true: "after garbage collection", false: "before garbage collection"}[collected], func(t *testing.T) {
			t.Parallel()
			reg := registrytest.StartDistributionGC(t)
			repo := "team/app"
			b := registrytest.PushBuild(t, reg.Host, repo, "v1", registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}})
			src := storage(t, reg.Host, repo)
			g := readGraph(t, src, resolve(t, src, b.Index))

			q := open(t, t.TempDir(), quarantine.Options{})
			put(t, q, src, "r1", reg.Host, repo, b.Index, "v1")
			deleteGraph(t, src, g)
			if collected {
				reg.GarbageCollect(t)
			}
			sel := quarantine.Selection{Host: reg.Host, Repository: repo, Digest: b.Index}

			// A dry run says what would happen, and does nothing.
			res, err := q.Restore(ctx, src, sel, quarantine.RestoreOptions{DryRun: true})
			if err != nil {
				t.Fatalf("Restore(dry run) = %v", err)
			}
			want := map[bool]string{true: quarantine.OutcomeFailed, false: quarantine.OutcomeRestored}[collected]
			if len(res) != 1 || res[0].Outcome != want {
				t.Fatalf("Restore(dry run) = %+v, want %s", res, want)
			}
			gone(t, src, g.manifests...)

			res, err = q.Restore(ctx, src, sel, quarantine.RestoreOptions{})
			if err != nil {
				t.Fatalf("Restore() = %v", err)
			}
			if len(res) != 1 {
				t.Fatalf("Restore() = %d outcomes, want 1", len(res))
			}
			r := res[0]
			if collected {
				wantDetail := "4 layers are gone from the registry (garbage-collected) and were not quarantined (--quarantine-blobs)"
				if r.Outcome != quarantine.OutcomeFailed || r.Detail != wantDetail {
					t.Errorf("Restore() = %s %q, want failed %q", r.Outcome, r.Detail, wantDetail)
				}
				gone(t, src, g.manifests...)
				if _, err := src.Resolve(ctx, "v1"); !errors.Is(err, errdef.ErrNotFound) {
					t.Errorf("Resolve(v1) = %v, want not found", err)
				}
				return
			}
			if r.Outcome != quarantine.OutcomeRestored || r.Blobs != quarantine.BlobsRegistry || !cmp.Equal(r.Tags, []string{"v1"}) {
				t.Errorf("Restore() = %+v, want restored, blobs from the registry, tag v1", r)
			}
			checkGraph(t, src, g)
		})
	}
}

// TestRestoreLeavesAMovedTag: a tag pushed anew since the deletion is left alone, unless
// Retag.
func TestRestoreLeavesAMovedTag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	old := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{})
	registrytest.Tag(t, host, repo, old, "stable")
	src := storage(t, host, repo)
	q := open(t, t.TempDir(), quarantine.Options{})
	put(t, q, src, "r1", host, repo, old, "v1", "stable")
	if err := src.Delete(ctx, resolve(t, src, old)); err != nil {
		t.Fatal(err)
	}
	newer := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{})

	sel := quarantine.Selection{Host: host, Repository: repo, Tag: "v1"}
	res, err := q.Restore(ctx, src, sel, quarantine.RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore() = %v", err)
	}
	want := quarantine.Restored{
		Outcome: quarantine.OutcomeRestored,
		Blobs:   quarantine.BlobsRegistry,
		Tags:    []string{"stable"},
		Kept:    map[string]string{"v1": newer},
	}
	if diff := cmp.Diff([]quarantine.Restored{want}, res, ignoreEntry); diff != "" {
		t.Errorf("Restore() (-want +got):\n%s", diff)
	}
	if got, err := src.Resolve(ctx, "v1"); err != nil || got.Digest.String() != newer {
		t.Errorf("Resolve(v1) = %v, %v, want the newer %s", got.Digest, err, newer)
	}

	res, err = q.Restore(ctx, src, sel, quarantine.RestoreOptions{Retag: true})
	if err != nil {
		t.Fatalf("Restore(Retag) = %v", err)
	}
	want = quarantine.Restored{Outcome: quarantine.OutcomePresent, Kept: map[string]string{}, Moved: []string{"v1"}}
	if diff := cmp.Diff([]quarantine.Restored{want}, res, ignoreEntry); diff != "" {
		t.Errorf("Restore(Retag) (-want +got):\n%s", diff)
	}
	if got, err := src.Resolve(ctx, "v1"); err != nil || got.Digest.String() != old {
		t.Errorf("Resolve(v1) after Retag = %v, %v, want %s", got.Digest, err, old)
	}
}

var ignoreEntry = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Entry" }, cmp.Ignore())

// TestRestoreRun restores one run's entries, subjects before their referrers, and nothing
// of another run.
func TestRestoreRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	x := registrytest.PushImage(t, host, repo, "x", registrytest.ImageOptions{})
	sbom := registrytest.PushReferrer(t, host, repo, x, "application/spdx+json")
	y := registrytest.PushImage(t, host, repo, "y", registrytest.ImageOptions{})
	src := storage(t, host, repo)
	descs := map[string]ocispec.Descriptor{x: resolve(t, src, x), sbom: resolve(t, src, sbom), y: resolve(t, src, y)}

	q := open(t, t.TempDir(), quarantine.Options{})
	// apply quarantines and deletes a referrer before its subject.
	for _, e := range []quarantine.Entry{
		{Run: "r1", Host: host, Repository: repo, Digest: sbom, Subject: x},
		{Run: "r1", Host: host, Repository: repo, Digest: x, Tags: []string{"x"}},
		{Run: "r2", Host: host, Repository: repo, Digest: y, Tags: []string{"y"}},
	} {
		if _, err := q.Put(ctx, src, e); err != nil {
			t.Fatalf("Put(%s) = %v", e.Digest, err)
		}
		if err := src.Delete(ctx, descs[e.Digest]); err != nil {
			t.Fatalf("deleting %s: %v", e.Digest, err)
		}
	}

	res, err := q.Restore(ctx, src, quarantine.Selection{Host: host, Repository: repo, Run: "r1"}, quarantine.RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore() = %v", err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Entry.Digest+" "+r.Outcome)
	}
	want := []string{x + " restored", sbom + " restored"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Restore() outcomes, in order (-want +got):\n%s", diff)
	}
	gone(t, src, descs[y])
	if got, err := src.Resolve(ctx, "x"); err != nil || got.Digest.String() != x {
		t.Errorf("Resolve(x) = %v, %v, want %s", got.Digest, err, x)
	}
	var referrers []string
	if err := src.Referrers(ctx, descs[x], "", func(rs []ocispec.Descriptor) error {
		for _, r := range rs {
			referrers = append(referrers, r.Digest.String())
		}
		return nil
	}); err != nil {
		t.Fatalf("Referrers(%s) = %v", x, err)
	}
	if !cmp.Equal(referrers, []string{sbom}) {
		t.Errorf("Referrers(%s) = %v, want [%s]", x, referrers, sbom)
	}
}

// TestRestoreSelection: a selection must ask for one thing, and one that matches nothing
// says what the quarantine holds.
func TestRestoreSelection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	img := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{})
	src := storage(t, host, repo)
	q := open(t, t.TempDir(), quarantine.Options{})
	put(t, q, src, "r1", host, repo, img, "v1")

	for _, tc := range []struct {
		name string
		sel  quarantine.Selection
		want []string // in the error
		is   error
	}{
		{"nothing asked", quarantine.Selection{Host: host, Repository: repo}, []string{"select one"}, nil},
		{"two things asked", quarantine.Selection{Host: host, Repository: repo, Tag: "v1", Run: "r1"}, []string{"not 2"}, nil},
		{"no such tag", quarantine.Selection{Host: host, Repository: repo, Tag: "v2"}, []string{`tag "v2"`, "tags: v1", "runs: r1"}, quarantine.ErrNoMatch},
		{"no such repository", quarantine.Selection{Host: host, Repository: "team/other", All: true}, []string{"holds nothing of " + host + "/team/other"}, quarantine.ErrNoMatch},
	} {
		_, err := q.Restore(ctx, src, tc.sel, quarantine.RestoreOptions{})
		if err == nil {
			t.Errorf("%s: Restore() = nil, want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Restore() = %q, want it to say %q", tc.name, err, w)
			}
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: Restore() = %v, want %v", tc.name, err, tc.is)
		}
	}
}

// TestRestoreSaysWhatCameBackWith: apply quarantines an index and, one by one, the
// children that go with it; restoring the run brings the children back with the index, and
// says so, rather than calling them present.
func TestRestoreSaysWhatCameBackWith(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	b := registrytest.PushBuild(t, host, repo, "v1", registrytest.BuildOptions{})
	src := storage(t, host, repo)
	g := readGraph(t, src, resolve(t, src, b.Index))
	q := open(t, t.TempDir(), quarantine.Options{Blobs: true})
	put(t, q, src, "r1", host, repo, b.Index, "v1")
	var children []string
	for _, d := range b.Images {
		children = append(children, d)
	}
	for _, d := range b.Attestations {
		children = append(children, d)
	}
	for _, d := range children {
		put(t, q, src, "r1", host, repo, d)
	}
	deleteGraph(t, src, g)

	res, err := q.Restore(ctx, src, quarantine.Selection{Host: host, Repository: repo, Run: "r1"}, quarantine.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1+len(children) {
		t.Fatalf("Restore() = %d outcomes, want %d", len(res), 1+len(children))
	}
	for _, r := range res {
		want := b.Index
		if r.Entry.Digest == b.Index {
			want = ""
		}
		if r.Outcome != quarantine.OutcomeRestored || r.With != want {
			t.Errorf("%s: %s with %q, want restored with %q", r.Entry.Digest, r.Outcome, r.With, want)
		}
	}
	var out strings.Builder
	quarantine.WriteRestored(&out, res, false)
	if !strings.Contains(out.String(), "with sha256:"+strings.TrimPrefix(b.Index, "sha256:")[:12]) || !strings.Contains(out.String(), "3 restored, 0 already present") {
		t.Errorf("WriteRestored():\n%s", out.String())
	}
	checkGraph(t, src, g)
}
