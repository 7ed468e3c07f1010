package oci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/progress/progresstest"
	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// fillRepository pushes a little of everything: builds with attestations, a
// multi-platform build, an image with two tags, a referrer and a cosign signature.
func fillRepository(t testing.TB, host, repo string) {
	t.Helper()
	created := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, tag := range []string{"sha-1", "sha-2", "sha-3"} {
		registrytest.PushBuild(t, host, repo, tag, registrytest.BuildOptions{Base: "debian", Created: created.Add(time.Duration(i) * time.Hour)})
	}
	multi := registrytest.PushBuild(t, host, repo, "multi", registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}, Base: "debian"})
	img := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{Created: created})
	registrytest.Tag(t, host, repo, img, "stable")
	registrytest.PushReferrer(t, host, repo, multi.Images["linux/arm64"], "application/spdx+json")
	registrytest.PushCosignSignature(t, host, repo, multi.Index)
}

// ignoreCapture compares inventories on what they found, not when or through which host.
var ignoreCapture = cmpopts.IgnoreFields(inventory.Inventory{}, "CapturedAt", "Repository")

func TestCache(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			repo := registrytest.RepoName(t)
			fillRepository(t, host, repo)
			dir := t.TempDir()

			var rec progresstest.Recorder
			cold := newClient(t, host, Options{CacheDir: dir, Progress: &rec})
			first, err := cold.Inventory(t.Context(), repo)
			if err != nil {
				t.Fatalf("Inventory() error = %v", err)
			}
			tags, tagged := 0, 0
			for _, img := range first.Images {
				tags += len(img.Tags)
				if len(img.Tags) > 0 {
					tagged++
				}
			}
			// A first run GETs each tag's manifest (so a manifest with two tags twice), then
			// each other manifest and each image config once.
			s := cold.Stats()
			if s.ByKind[shipreg.KindManifestHEAD] != 0 || s.ByKind[shipreg.KindManifestGET] != len(first.Images)+tags-tagged || s.ByKind[shipreg.KindBlobGET] == 0 || s.CacheHits != 0 {
				t.Errorf("first Inventory() Stats = %+v, want no HEADs and %d manifest GETs", s, len(first.Images)+tags-tagged)
			}
			if got, want := rec.Phases(), imagesPhase(len(first.Images)); !slices.ContainsFunc(got, want) {
				t.Errorf("Progress phases = %+v, want images read to reach %d of %d", got, len(first.Images), len(first.Images))
			}

			// A later run, as a new process would do it.
			warm := newClient(t, host, Options{CacheDir: dir})
			second, err := warm.Inventory(t.Context(), repo)
			if err != nil {
				t.Fatalf("second Inventory() error = %v", err)
			}
			if diff := cmp.Diff(first, second, ignoreCapture); diff != "" {
				t.Errorf("second Inventory() differs from the first (-first +second):\n%s", diff)
			}
			// One tag list, one HEAD per tag and the referrers probe; with the referrers
			// API, one referrers request per manifest too.
			want := shipreg.Requests{
				ByKind:    map[shipreg.Kind]int{shipreg.KindTagList: 1, shipreg.KindManifestHEAD: tags, shipreg.KindReferrers: 1},
				CacheHits: warm.Stats().CacheHits,
			}
			if reg.referrersAPI {
				want.ByKind[shipreg.KindReferrers] += len(first.Images)
			}
			if diff := cmp.Diff(want, warm.Stats()); diff != "" {
				t.Errorf("second Inventory() Stats (-want +got):\n%s", diff)
			}
			if got := warm.Stats().CacheHits; got < len(first.Images) {
				t.Errorf("second Inventory() CacheHits = %d, want at least one per manifest (%d)", got, len(first.Images))
			}
		})
	}
}

func TestCacheIgnoresDamagedEntries(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := registrytest.RepoName(t)
	fillRepository(t, host, repo)
	dir := t.TempDir()
	first, err := newClient(t, host, Options{CacheDir: dir}).Inventory(t.Context(), repo)
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	// Damage every cached manifest and config: each is then a miss, read again.
	var damaged int
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(path, string(filepath.Separator)+"tags"+string(filepath.Separator)) {
			damaged++
			return os.WriteFile(path, []byte(`{"mediaType":"garbage"}`), 0o644)
		}
		return err
	})
	c := newClient(t, host, Options{CacheDir: dir})
	second, err := c.Inventory(t.Context(), repo)
	if err != nil {
		t.Fatalf("Inventory() with a damaged cache error = %v", err)
	}
	if diff := cmp.Diff(first, second, ignoreCapture); diff != "" {
		t.Errorf("Inventory() with a damaged cache (-want +got):\n%s", diff)
	}
	if s := c.Stats(); s.CacheHits != 0 || s.ByKind[shipreg.KindManifestGET]+s.ByKind[shipreg.KindBlobGET] != damaged {
		t.Errorf("Inventory() with a damaged cache Stats = %+v, want no cache hits and %d GETs", s, damaged)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			repo := registrytest.RepoName(t)
			dir := t.TempDir()
			// Each run as a new process would do it.
			run := func(cacheDir string) map[string]inventory.Image {
				t.Helper()
				inv, err := newClient(t, host, Options{CacheDir: cacheDir}).Inventory(t.Context(), repo)
				if err != nil {
					t.Fatalf("Inventory() error = %v", err)
				}
				m := make(map[string]inventory.Image)
				for _, img := range inv.Images {
					m[img.Digest] = img
				}
				return m
			}

			old := registrytest.PushBuild(t, host, repo, "main", registrytest.BuildOptions{})
			oldImage := old.Images["linux/amd64"]
			run(dir)
			// The tag moves on: nothing in the registry leads to the old build any more.
			cur := registrytest.PushBuild(t, host, repo, "main", registrytest.BuildOptions{})

			got := run(dir)
			idx, ok := got[old.Index]
			if !ok {
				t.Fatalf("Inventory() after the tag moved lacks the superseded index %s", old.Index)
			}
			if len(idx.Tags) != 0 || len(idx.Children) != 2 {
				t.Errorf("superseded index: tags %v, %d children; want untagged, 2 children", idx.Tags, len(idx.Children))
			}
			for _, d := range []string{oldImage, old.Attestations["linux/amd64"], cur.Index} {
				if _, ok := got[d]; !ok {
					t.Errorf("Inventory() after the tag moved lacks %s", d)
				}
			}
			if !slices.Equal(got[cur.Index].Tags, []string{"main"}) {
				t.Errorf("current index tags = %v, want [main]", got[cur.Index].Tags)
			}
			if _, ok := run("")[old.Index]; ok {
				t.Errorf("Inventory() without a cache directory found the superseded index")
			}

			// The superseded index is deleted; its image stays, orphaned, and is still
			// found, as the history remembers it too.
			c := newClient(t, host, Options{})
			if err := c.Delete(t.Context(), repo, old.Index); err != nil {
				t.Fatalf("Delete() error = %v", err)
			}
			got = run(dir)
			if _, ok := got[old.Index]; ok {
				t.Errorf("Inventory() after Delete still has %s", old.Index)
			}
			if _, ok := got[oldImage]; !ok {
				t.Errorf("Inventory() after deleting its index lacks the orphaned image %s", oldImage)
			}
			for _, d := range []string{oldImage, old.Attestations["linux/amd64"]} {
				if err := c.Delete(t.Context(), repo, d); err != nil {
					t.Fatalf("Delete() error = %v", err)
				}
			}
			got = run(dir)
			var h history
			b, err := os.ReadFile(filepath.Join(dir, "tags", strings.ReplaceAll(host, ":", "_"), repo+".json"))
			if err != nil {
				t.Fatalf("reading the tag history: %v", err)
			}
			if err := json.Unmarshal(b, &h); err != nil {
				t.Fatalf("decoding the tag history: %v", err)
			}
			for _, d := range []string{old.Index, oldImage, old.Attestations["linux/amd64"]} {
				if _, ok := got[d]; ok {
					t.Errorf("Inventory() after Delete still has %s", d)
				}
				if _, ok := h.Manifests[d]; ok {
					t.Errorf("the tag history still remembers the deleted %s", d)
				}
			}
			if e := h.Manifests[cur.Index]; !slices.Equal(e.Tags, []string{"main"}) || e.Tagged.IsZero() {
				t.Errorf("the tag history has %+v for the current index, want tags [main] and a time", e)
			}
		})
	}
}

func TestPushTimes(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := registrytest.RepoName(t)
	at := func(day int) time.Time { return time.Date(2026, 3, day, 10, 0, 0, 0, time.UTC) }

	build := registrytest.PushBuild(t, host, repo, "build", registrytest.BuildOptions{Created: at(1)})
	docker := registrytest.PushBuild(t, host, repo, "docker", registrytest.BuildOptions{Created: at(2), Docker: true, Platforms: []string{"linux/amd64", "linux/arm64"}})
	epoch := registrytest.PushImage(t, host, repo, "epoch", registrytest.ImageOptions{Created: time.Unix(0, 0)})
	zip := registrytest.PushImage(t, host, repo, "zip", registrytest.ImageOptions{Created: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
	labelled := registrytest.PushImage(t, host, repo, "labelled", registrytest.ImageOptions{Docker: true, Created: at(3),
		Labels: map[string]string{"org.opencontainers.image.created": at(4).Format(time.RFC3339)}})
	annotated := registrytest.PushImage(t, host, repo, "annotated", registrytest.ImageOptions{Created: at(5),
		Labels: map[string]string{"org.opencontainers.image.created": at(6).Format(time.RFC3339)}})
	referrer := registrytest.PushReferrer(t, host, repo, build.Images["linux/amd64"], "application/spdx+json")

	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	inv, err := newClient(t, host, Options{Now: func() time.Time { return now }}).Inventory(t.Context(), repo)
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	got := make(map[string]time.Time)
	for _, img := range inv.Images {
		got[img.Digest] = img.PushedAt
	}
	want := map[string]time.Time{
		// The index's annotation; the image's config; the attestation, which has no time
		// of its own, the index's.
		build.Index:                       at(1),
		build.Images["linux/amd64"]:       at(1),
		build.Attestations["linux/amd64"]: at(1),
		// A Docker manifest list has no annotations: it takes its latest child's time.
		docker.Index:                 at(2),
		docker.Images["linux/amd64"]: at(2),
		docker.Images["linux/arm64"]: at(2),
		// Reproducible-build epochs mean unknown.
		epoch: {},
		zip:   {},
		// The config's label comes before its created field; the manifest's annotation
		// before both.
		labelled:  at(4),
		annotated: at(5),
		// A referrer takes nothing from its subject.
		referrer: {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PushedAt (-want +got):\n%s", diff)
	}
	if !inv.CapturedAt.Equal(now) {
		t.Errorf("CapturedAt = %v, want %v", inv.CapturedAt, now)
	}
	if !slices.ContainsFunc(inv.Notes, func(n string) bool { return strings.Contains(n, "(3 images have none)") }) {
		t.Errorf("Notes = %q, want one counting 3 images without a push time", inv.Notes)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			repo := registrytest.RepoName(t)
			fillRepository(t, host, repo)
			want, err := newClient(t, host, Options{}).Inventory(t.Context(), repo)
			if err != nil {
				t.Fatalf("Inventory() error = %v", err)
			}

			proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{
				Seed:            3,
				ServerErrors:    0.1,
				TooManyRequests: 0.05,
				RetryAfter:      time.Second,
				Resets:          0.1,
				// Whatever the digests of this run, at least one fault of each kind.
				Script: []registrytest.Fault{registrytest.FaultTooManyRequests, registrytest.FaultReset, registrytest.FaultServerError},
			})
			c := newClient(t, proxy.Host, Options{})
			start := time.Now()
			got, err := c.Inventory(t.Context(), repo)
			if err != nil {
				t.Fatalf("Inventory() through faults error = %v (injected %+v)", err, proxy.Counts())
			}
			if diff := cmp.Diff(want, got, ignoreCapture); diff != "" {
				t.Errorf("Inventory() through faults (-want +got):\n%s", diff)
			}
			n := proxy.Counts()
			if n.ServerErrors == 0 || n.TooManyRequests == 0 || n.Resets == 0 {
				t.Errorf("FaultProxy injected %+v, want some of each kind", n)
			}
			if c.Stats().Retries == 0 {
				t.Errorf("Stats().Retries = 0 after %d faults", n.Faults())
			}
			// Retry-After: 1 was obeyed.
			if d := time.Since(start); d < time.Second {
				t.Errorf("Inventory() through %d 429s took %v, want at least the 1s they asked to wait", n.TooManyRequests, d)
			}
		})
	}
}

// TestReferrersTagSchema checks how Inventory shows a registry without the referrers API:
// the index tagged sha256-<hex> stays, lists the referrers, and belongs to its subject;
// cosign's sha256-<hex>.sig tags are ordinary tags.
func TestReferrersTagSchema(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	repo := registrytest.RepoName(t)
	subject := registrytest.PushImage(t, host, repo, "app", registrytest.ImageOptions{Created: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	sbom := registrytest.PushReferrer(t, host, repo, subject, "application/spdx+json")
	sig := registrytest.PushCosignSignature(t, host, repo, subject)

	inv, err := newClient(t, host, Options{}).Inventory(t.Context(), repo)
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	tag := strings.Replace(subject, ":", "-", 1)
	var index *inventory.Image
	for i, img := range inv.Images {
		if slices.Contains(img.Tags, tag) {
			index = &inv.Images[i]
		}
	}
	if index == nil {
		t.Fatalf("Inventory() has no image tagged %s", tag)
	}
	want := inventory.Image{
		Digest:    index.Digest,
		Tags:      []string{tag},
		MediaType: inventory.MediaTypeOCIIndex,
		Subject:   subject,
		SizeBytes: index.SizeBytes,
		Children:  []inventory.Child{{Digest: sbom, MediaType: inventory.MediaTypeOCIManifest}},
	}
	if diff := cmp.Diff(want, *index, cmpopts.IgnoreFields(inventory.Child{}, "Annotations")); diff != "" {
		t.Errorf("referrers index (-want +got):\n%s", diff)
	}
	for _, img := range inv.Images {
		switch img.Digest {
		case sbom:
			if img.Subject != subject || !img.PushedAt.IsZero() {
				t.Errorf("referrer: subject %s, pushed %v; want %s, unknown (nothing from its index)", img.Subject, img.PushedAt, subject)
			}
		case sig:
			if img.Subject != "" || !slices.Equal(img.Tags, []string{tag + ".sig"}) {
				t.Errorf("cosign signature: subject %q, tags %v; want none, [%s.sig]", img.Subject, img.Tags, tag)
			}
		}
	}
	if !slices.ContainsFunc(inv.Notes, func(n string) bool { return strings.Contains(n, "no referrers API") }) {
		t.Errorf("Notes = %q, want one about the referrers tag schema", inv.Notes)
	}
}
