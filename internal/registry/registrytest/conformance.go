package registrytest

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry"
)

// referrersTag matches the tags of the referrers tag schema, "sha256-<hex>". A backend may
// report these tags and their indexes, which registries without the referrers API hold
// (and may give such an index the manifest its tag names as subject); the suite tolerates
// them and nothing else it did not push.
var referrersTag = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)

// Conformance runs the tests every registry backend must pass. open returns the backend
// under test and the host ("host:port") of the registry it reads, where the suite pushes
// over plain HTTP. open is called once per subtest and may return the same registry every
// time: each subtest works in a repository of its own.
//
// The suite checks what any backend can tell: tags, the index → child and subject →
// referrer edges, media types, blobs and sizes, deletion and error mapping, and the
// repositories listed by a backend that lists them (registry.Cataloger). Times depend on
// the backend (a generic registry has none) and are left to its own tests.
func Conformance(t *testing.T, open func(t *testing.T) (registry.Registry, string)) {
	t.Run("Inventory", func(t *testing.T) {
		t.Parallel()
		reg, host := open(t)
		repo := RepoName(t)
		build := PushBuild(t, host, repo, "v1", BuildOptions{Base: "debian", Labels: map[string]string{"org.opencontainers.image.revision": "abc123", "maintainer": "nobody"}})
		Tag(t, host, repo, build.Index, "latest")
		multi := PushBuild(t, host, repo, "multi", BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Base: "debian"})
		plain := PushImage(t, host, repo, "plain", ImageOptions{Docker: true})
		image := build.Images["linux/amd64"]
		sbom := PushReferrer(t, host, repo, image, "application/spdx+json")
		sbomSig := PushReferrer(t, host, repo, sbom, "application/vnd.example.signature")
		sig := PushCosignSignature(t, host, repo, build.Index)

		inv, err := reg.Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		if !strings.HasSuffix(inv.Repository, "/"+repo) {
			t.Errorf("Inventory().Repository = %q, want it to end with /%s", inv.Repository, repo)
		}
		if !slices.IsSortedFunc(inv.Images, func(a, b inventory.Image) int { return strings.Compare(a.Digest, b.Digest) }) {
			t.Errorf("Inventory().Images are not sorted by digest")
		}
		got := byDigest(t, inv.Images)
		want := []string{build.Index, image, build.Attestations["linux/amd64"], multi.Index, plain, sbom, sbomSig, sig}
		for _, pl := range []string{"linux/amd64", "linux/arm64/v8"} {
			want = append(want, multi.Images[pl], multi.Attestations[pl])
		}
		for _, d := range want {
			if _, ok := got[d]; !ok {
				t.Errorf("Inventory() lacks %s", d)
			}
		}
		for d, img := range got {
			if !slices.Contains(want, d) && !isReferrersIndex(img) {
				t.Errorf("Inventory() has %s (tags %v), which was not pushed", d, img.Tags)
			}
		}
		if t.Failed() {
			t.FailNow()
		}

		idx := got[build.Index]
		if diff := cmp.Diff([]string{"latest", "v1"}, idx.Tags); diff != "" {
			t.Errorf("index tags (-want +got):\n%s", diff)
		}
		if idx.MediaType != inventory.MediaTypeOCIIndex {
			t.Errorf("index MediaType = %q, want %q", idx.MediaType, inventory.MediaTypeOCIIndex)
		}
		wantChildren := []inventory.Child{
			{Digest: image, MediaType: inventory.MediaTypeOCIManifest, Platform: "linux/amd64"},
			{Digest: build.Attestations["linux/amd64"], MediaType: inventory.MediaTypeOCIManifest, Platform: inventory.PlatformUnknownUnknown,
				Annotations: map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation, inventory.AnnotationRefDigest: image}},
		}
		if diff := cmp.Diff(wantChildren, idx.Children); diff != "" {
			t.Errorf("index children (-want +got):\n%s", diff)
		}

		img := got[image]
		if len(img.Tags) != 0 || img.MediaType != inventory.MediaTypeOCIManifest || img.Subject != "" {
			t.Errorf("image: tags %v, media type %q, subject %q; want untagged %s with no subject", img.Tags, img.MediaType, img.Subject, inventory.MediaTypeOCIManifest)
		}
		if img.Config == nil || len(img.Layers) != 2 {
			t.Fatalf("image: config %v, %d layers; want a config and 2 layers", img.Config, len(img.Layers))
		}
		if want := img.Config.Size + img.Layers[0].Size + img.Layers[1].Size; img.SizeBytes != want {
			t.Errorf("image SizeBytes = %d, want config + layers = %d", img.SizeBytes, want)
		}
		if idx.SizeBytes != img.SizeBytes {
			t.Errorf("index SizeBytes = %d, want its largest child's, %d", idx.SizeBytes, img.SizeBytes)
		}
		if diff := cmp.Diff(map[string]string{"org.opencontainers.image.revision": "abc123"}, img.Labels); diff != "" {
			t.Errorf("image labels (-want +got):\n%s", diff)
		}

		mi := got[multi.Index]
		var platforms []string
		for _, c := range mi.Children {
			platforms = append(platforms, c.Platform)
		}
		if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64/v8", "unknown/unknown", "unknown/unknown"}, platforms); diff != "" {
			t.Errorf("multi-platform index platforms (-want +got):\n%s", diff)
		}
		amd, arm := got[multi.Images["linux/amd64"]], got[multi.Images["linux/arm64/v8"]]
		if len(amd.Layers) != 2 || len(arm.Layers) != 2 || amd.Layers[0] != img.Layers[0] || arm.Layers[0] != img.Layers[0] {
			t.Errorf("images built on the same base do not share its layer: %v, %v, %v", img.Layers, amd.Layers, arm.Layers)
		}
		if want := max(amd.SizeBytes, arm.SizeBytes); mi.SizeBytes != want {
			t.Errorf("multi-platform index SizeBytes = %d, want its largest child's, %d", mi.SizeBytes, want)
		}

		if p := got[plain]; p.MediaType != inventory.MediaTypeDockerV2 || !slices.Equal(p.Tags, []string{"plain"}) || p.Config == nil {
			t.Errorf("Docker image: media type %q, tags %v, config %v; want %s tagged plain with a config", p.MediaType, p.Tags, p.Config, inventory.MediaTypeDockerV2)
		}

		s := got[sbom]
		if s.Subject != image || s.ArtifactType != "application/spdx+json" || len(s.Tags) != 0 {
			t.Errorf("referrer: subject %q, artifact type %q, tags %v; want untagged application/spdx+json about %s", s.Subject, s.ArtifactType, s.Tags, image)
		}
		if len(s.Layers) != 1 || s.SizeBytes != s.Layers[0].Size {
			t.Errorf("referrer SizeBytes = %d, layers %v; want the size of its one layer", s.SizeBytes, s.Layers)
		}
		if ss := got[sbomSig]; ss.Subject != sbom {
			t.Errorf("referrer of a referrer: subject %q, want %s", ss.Subject, sbom)
		}

		wantSigTag := strings.Replace(build.Index, ":", "-", 1) + ".sig"
		if g := got[sig]; !slices.Equal(g.Tags, []string{wantSigTag}) || g.Subject != "" {
			t.Errorf("cosign signature: tags %v, subject %q; want tagged %s, no subject", g.Tags, g.Subject, wantSigTag)
		}
	})

	t.Run("Tags", func(t *testing.T) {
		t.Parallel()
		reg, host := open(t)
		repo := RepoName(t)
		build := PushBuild(t, host, repo, "v1", BuildOptions{})
		Tag(t, host, repo, build.Index, "latest")
		plain := PushImage(t, host, repo, "plain", ImageOptions{})
		PushImage(t, host, repo, "", ImageOptions{}) // untagged
		PushReferrer(t, host, repo, plain, "application/vnd.example")
		sig := PushCosignSignature(t, host, repo, plain)

		got, err := reg.Tags(t.Context(), repo)
		if err != nil {
			t.Fatalf("Tags() error = %v", err)
		}
		for tag := range got {
			if referrersTag.MatchString(tag) {
				delete(got, tag)
			}
		}
		want := map[string]string{
			"v1":     build.Index,
			"latest": build.Index,
			"plain":  plain,
			strings.Replace(plain, ":", "-", 1) + ".sig": sig,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Tags() (-want +got):\n%s", diff)
		}
	})

	t.Run("Manifest", func(t *testing.T) {
		t.Parallel()
		reg, host := open(t)
		repo := RepoName(t)
		build := PushBuild(t, host, repo, "v1", BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}})

		idx, err := reg.Manifest(t.Context(), repo, build.Index)
		if err != nil {
			t.Fatalf("Manifest(index) error = %v", err)
		}
		if idx.Digest != build.Index || !idx.IsIndex() || len(idx.Children) != 4 {
			t.Errorf("Manifest(index) = %s, media type %q, %d children; want %s, an index of 4", idx.Digest, idx.MediaType, len(idx.Children), build.Index)
		}
		if len(idx.Tags) != 0 || !idx.PushedAt.IsZero() {
			t.Errorf("Manifest(index): tags %v, pushed %v; want neither", idx.Tags, idx.PushedAt)
		}
		img, err := reg.Manifest(t.Context(), repo, build.Images["linux/arm64"])
		if err != nil {
			t.Fatalf("Manifest(image) error = %v", err)
		}
		if img.Config == nil || len(img.Layers) != 1 || img.SizeBytes != img.Config.Size+img.Layers[0].Size {
			t.Errorf("Manifest(image): config %v, layers %v, size %d; want a config, one layer and their sum", img.Config, img.Layers, img.SizeBytes)
		}
		if img.SizeBytes > idx.SizeBytes {
			t.Errorf("Manifest(index).SizeBytes = %d, smaller than a child's %d", idx.SizeBytes, img.SizeBytes)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		reg, host := open(t)
		repo := RepoName(t)
		keep := PushImage(t, host, repo, "keep", ImageOptions{})
		doomed := PushImage(t, host, repo, "doomed", ImageOptions{})
		Tag(t, host, repo, doomed, "doomed-too")

		if err := reg.Delete(t.Context(), repo, doomed); err != nil {
			t.Fatalf("Delete() error = %v", err)
		}
		tags, err := reg.Tags(t.Context(), repo)
		if err != nil {
			t.Fatalf("Tags() error = %v", err)
		}
		if diff := cmp.Diff(map[string]string{"keep": keep}, tags); diff != "" {
			t.Errorf("Tags() after Delete (-want +got):\n%s", diff)
		}
		if _, err := reg.Manifest(t.Context(), repo, doomed); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("Manifest(deleted) error = %v, want ErrNotFound", err)
		}
		if err := reg.Delete(t.Context(), repo, doomed); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("Delete(deleted) error = %v, want ErrNotFound", err)
		}
	})

	t.Run("DeleteReferrer", func(t *testing.T) {
		t.Parallel()
		reg, host := open(t)
		repo := RepoName(t)
		subject := PushImage(t, host, repo, "app", ImageOptions{})
		gone := PushReferrer(t, host, repo, subject, "application/vnd.example.a")
		kept := PushReferrer(t, host, repo, subject, "application/vnd.example.b")

		if err := reg.Delete(t.Context(), repo, gone); err != nil {
			t.Fatalf("Delete(referrer) error = %v", err)
		}
		inv, err := reg.Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		var referrers []string
		for _, img := range inv.Images {
			if !isReferrersIndex(img) {
				if img.Subject == subject {
					referrers = append(referrers, img.Digest)
				}
				continue
			}
			if slices.ContainsFunc(img.Children, func(c inventory.Child) bool { return c.Digest == gone }) {
				t.Errorf("referrers index %s still lists the deleted referrer %s", img.Digest, gone)
			}
		}
		if diff := cmp.Diff([]string{kept}, referrers); diff != "" {
			t.Errorf("referrers after Delete (-want +got):\n%s", diff)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		reg, host := open(t)
		repo := RepoName(t)
		PushImage(t, host, repo, "v1", ImageOptions{})
		missing := "sha256:" + strings.Repeat("ab", 32)

		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"Inventory(unknown repository)", func() error { _, err := reg.Inventory(t.Context(), repo+"-unknown"); return err }},
			{"Tags(unknown repository)", func() error { _, err := reg.Tags(t.Context(), repo+"-unknown"); return err }},
			{"Manifest(unknown repository)", func() error { _, err := reg.Manifest(t.Context(), repo+"-unknown", missing); return err }},
			{"Manifest(unknown digest)", func() error { _, err := reg.Manifest(t.Context(), repo, missing); return err }},
			{"Delete(unknown digest)", func() error { return reg.Delete(t.Context(), repo, missing) }},
		} {
			if err := tc.call(); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("%s error = %v, want ErrNotFound", tc.name, err)
			}
		}
	})

	t.Run("Catalog", func(t *testing.T) {
		t.Parallel()
		reg, host := open(t)
		cat, ok := reg.(registry.Cataloger)
		if !ok {
			t.Skip("the backend does not list repositories")
		}
		pushed := PushRepositories(t, host, RepoName(t), 3)
		got, err := cat.Repositories(t.Context())
		if err != nil {
			t.Fatalf("Repositories() error = %v", err)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("Repositories() = %v, want sorted names, each once", got)
		}
		for _, name := range pushed {
			if !slices.Contains(got, name) {
				t.Errorf("Repositories() lacks %s, which was pushed", name)
			}
		}
	})
}

// RepoName returns a repository name unique to the test, derived from its name.
func RepoName(t testing.TB) string { return repoName(t.Name()) }

func repoName(testName string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(testName) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if sep && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			sep = false
		} else if r == '/' {
			b.WriteByte('/')
			sep = false
		} else {
			sep = true
		}
	}
	parts := strings.FieldsFunc(b.String(), func(r rune) bool { return r == '/' })
	for i, p := range parts {
		parts[i] = strings.Trim(p, "-")
	}
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "/")
}

// isReferrersIndex reports whether img is an index of the referrers tag schema.
func isReferrersIndex(img inventory.Image) bool {
	return img.MediaType == inventory.MediaTypeOCIIndex && slices.ContainsFunc(img.Tags, referrersTag.MatchString)
}

func byDigest(t testing.TB, images []inventory.Image) map[string]inventory.Image {
	t.Helper()
	m := make(map[string]inventory.Image, len(images))
	for _, img := range images {
		if _, dup := m[img.Digest]; dup {
			t.Errorf("Inventory() lists %s twice", img.Digest)
		}
		m[img.Digest] = img
	}
	return m
}
