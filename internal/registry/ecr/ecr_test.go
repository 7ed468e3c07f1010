package ecr_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

const host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

// t0 is a fixed time builds are pushed around.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// open starts a test ECR with the repository repo and returns it with a backend on it.
func open(t *testing.T, repo string) (*ecrtest.Server, *ecr.Client) {
	t.Helper()
	s := ecrtest.New(t)
	s.CreateRepository(repo, ecrtest.Repo{})
	return s, ecr.NewFromConfig(s.AWSConfig(), ecr.Options{RegistryID: ecrtest.Account, Host: host, PreviewPoll: time.Millisecond, Layers: true})
}

// desc is a descriptor of content, which the registry need not hold.
func desc(mediaType, content string, size int64) map[string]any {
	sum := sha256.Sum256([]byte(content))
	return map[string]any{"mediaType": mediaType, "digest": "sha256:" + hex.EncodeToString(sum[:]), "size": size}
}

func manifestJSON(t *testing.T, m map[string]any) []byte {
	t.Helper()
	m["schemaVersion"] = 2
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pushImage pushes an OCI image manifest with a config and a layer of each size given,
// the first layer shared by every image with the same base, and returns its digest.
func pushImage(t *testing.T, s *ecrtest.Server, repo, base, unique string, tags []string, extra map[string]any) string {
	t.Helper()
	m := map[string]any{
		"mediaType": inventory.MediaTypeOCIManifest,
		"config":    desc("application/vnd.oci.image.config.v1+json", "config "+unique, 1234),
		"layers": []any{
			desc("application/vnd.oci.image.layer.v1.tar+gzip", "base "+base, 30_000_000),
			desc("application/vnd.oci.image.layer.v1.tar+gzip", "app "+unique, 4_000_000),
		},
	}
	for k, v := range extra {
		m[k] = v
	}
	return s.PutImage(repo, ecrtest.Image{Manifest: manifestJSON(t, m), Tags: tags, PushedAt: t0})
}

// pushReferrer pushes an artifact about subject and returns its digest.
func pushReferrer(t *testing.T, s *ecrtest.Server, repo, subject, subjectType, artifactType string) string {
	t.Helper()
	return s.PutImage(repo, ecrtest.Image{PushedAt: t0, Manifest: manifestJSON(t, map[string]any{
		"mediaType":    inventory.MediaTypeOCIManifest,
		"artifactType": artifactType,
		"config":       desc("application/vnd.oci.empty.v1+json", "{}", 2),
		"layers":       []any{desc(artifactType, "payload about "+subject, 777)},
		"subject":      map[string]any{"mediaType": subjectType, "digest": subject, "size": 500},
	})})
}

type multiBuild struct {
	index                string
	images, attestations map[string]string
}

// pushMulti pushes a buildx multi-platform build: an index of one image and one attestation
// manifest per platform.
func pushMulti(t *testing.T, s *ecrtest.Server, repo, tag string, platforms ...string) multiBuild {
	t.Helper()
	b := multiBuild{images: map[string]string{}, attestations: map[string]string{}}
	var entries []any
	for _, pl := range platforms {
		parts := strings.Split(pl, "/")
		p := map[string]any{"os": parts[0], "architecture": parts[1]}
		if len(parts) == 3 {
			p["variant"] = parts[2]
		}
		img := pushImage(t, s, repo, "debian", tag+pl, nil, nil)
		att := s.PutImage(repo, ecrtest.Image{PushedAt: t0, Manifest: manifestJSON(t, map[string]any{
			"mediaType": inventory.MediaTypeOCIManifest,
			"config":    desc("application/vnd.oci.image.config.v1+json", "att config", 167),
			"layers":    []any{desc("application/vnd.in-toto+json", "provenance "+img, 1500)},
		})})
		b.images[pl], b.attestations[pl] = img, att
		e := desc(inventory.MediaTypeOCIManifest, "", 500)
		e["digest"], e["platform"] = img, p
		entries = append(entries, e)
		a := desc(inventory.MediaTypeOCIManifest, "", 500)
		a["digest"] = att
		a["platform"] = map[string]any{"os": "unknown", "architecture": "unknown"}
		a["annotations"] = map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation, inventory.AnnotationRefDigest: img}
		entries = append(entries, a)
	}
	b.index = s.PutImage(repo, ecrtest.Image{PushedAt: t0, Tags: []string{tag}, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeOCIIndex,
		"manifests": entries,
	})})
	return b
}

func byDigest(images []inventory.Image) map[string]inventory.Image {
	m := make(map[string]inventory.Image, len(images))
	for _, img := range images {
		m[img.Digest] = img
	}
	return m
}

// The registrytest conformance suite pushes through the OCI Distribution API, which the ECR
// test server does not speak; these tests check the same things through the ECR API.

func TestInventory(t *testing.T) {
	t.Parallel()
	s, c := open(t, "team/app")
	build := s.PushBuild("team/app", "v1", t0)
	s.PutImage("team/app", ecrtest.Image{Manifest: imageManifestOf(t, s, "team/app", build.Index), Tags: []string{"latest"}})
	multi := pushMulti(t, s, "team/app", "multi", "linux/amd64", "linux/arm64/v8")
	plain := s.PutImage("team/app", ecrtest.Image{PushedAt: t0, Tags: []string{"plain"}, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeDockerV2,
		"config":    desc("application/vnd.docker.container.image.v1+json", "plain config", 900),
		"layers":    []any{desc("application/vnd.docker.image.rootfs.diff.tar.gzip", "plain layer", 5000)},
	})})
	labelled := pushImage(t, s, "team/app", "alpine", "labelled", []string{"labelled"}, map[string]any{
		"annotations": map[string]string{"org.opencontainers.image.revision": "abc123", "com.example.other": "x"},
	})
	sbom := pushReferrer(t, s, "team/app", build.Image, inventory.MediaTypeOCIManifest, "application/spdx+json")
	sbomSig := pushReferrer(t, s, "team/app", sbom, inventory.MediaTypeOCIManifest, "application/vnd.example.signature")
	sig := s.PutImage("team/app", ecrtest.Image{PushedAt: t0, Tags: []string{strings.Replace(build.Index, ":", "-", 1) + ".sig"}, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeOCIManifest,
		"config":    desc("application/vnd.oci.image.config.v1+json", "cosign config", 250),
		"layers":    []any{desc("application/vnd.dev.cosign.simplesigning.v1+json", "cosign payload", 300)},
	})})

	inv, err := c.Inventory(t.Context(), "team/app")
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	if inv.Repository != host+"/team/app" || inv.CapturedAt.IsZero() {
		t.Errorf("Inventory(): repository %q, captured %v", inv.Repository, inv.CapturedAt)
	}
	if !slices.IsSortedFunc(inv.Images, func(a, b inventory.Image) int { return strings.Compare(a.Digest, b.Digest) }) {
		t.Errorf("Inventory().Images are not sorted by digest")
	}
	got := byDigest(inv.Images)
	want := []string{build.Index, build.Image, build.Attestation, multi.index, plain, labelled, sbom, sbomSig, sig}
	for _, pl := range []string{"linux/amd64", "linux/arm64/v8"} {
		want = append(want, multi.images[pl], multi.attestations[pl])
	}
	if len(got) != len(want) || len(inv.Images) != len(want) {
		t.Errorf("Inventory() = %d images, want %d", len(inv.Images), len(want))
	}
	for _, d := range want {
		if _, ok := got[d]; !ok {
			t.Errorf("Inventory() lacks %s", d)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	idx := got[build.Index]
	if diff := cmp.Diff([]string{"latest", "v1"}, idx.Tags); diff != "" {
		t.Errorf("index tags (-want +got):\n%s", diff)
	}
	if idx.MediaType != inventory.MediaTypeOCIIndex || !idx.PushedAt.Equal(t0) || idx.ImageStatus() != inventory.StatusActive {
		t.Errorf("index: media type %q, pushed %v, status %v", idx.MediaType, idx.PushedAt, idx.Status)
	}
	wantChildren := []inventory.Child{
		{Digest: build.Image, MediaType: inventory.MediaTypeOCIManifest, Platform: "linux/amd64"},
		{Digest: build.Attestation, MediaType: inventory.MediaTypeOCIManifest, Platform: inventory.PlatformUnknownUnknown,
			Annotations: map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation, inventory.AnnotationRefDigest: build.Image}},
	}
	if diff := cmp.Diff(wantChildren, idx.Children); diff != "" {
		t.Errorf("index children (-want +got):\n%s", diff)
	}
	img := got[build.Image]
	if len(img.Tags) != 0 || img.MediaType != inventory.MediaTypeOCIManifest || img.Subject != "" || img.ArtifactType != "" {
		t.Errorf("image: tags %v, media type %q, subject %q, artifact type %q", img.Tags, img.MediaType, img.Subject, img.ArtifactType)
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

	mi := got[multi.index]
	var platforms []string
	for _, ch := range mi.Children {
		platforms = append(platforms, ch.Platform)
	}
	if diff := cmp.Diff([]string{"linux/amd64", "unknown/unknown", "linux/arm64/v8", "unknown/unknown"}, platforms); diff != "" {
		t.Errorf("multi-platform index platforms (-want +got):\n%s", diff)
	}
	amd, arm := got[multi.images["linux/amd64"]], got[multi.images["linux/arm64/v8"]]
	if len(amd.Layers) != 2 || len(arm.Layers) != 2 || amd.Layers[0] != arm.Layers[0] || amd.Layers[1] == arm.Layers[1] {
		t.Errorf("images built on the same base do not share exactly its layer: %v, %v", amd.Layers, arm.Layers)
	}
	if want := max(amd.SizeBytes, arm.SizeBytes); mi.SizeBytes != want {
		t.Errorf("multi-platform index SizeBytes = %d, want its largest child's, %d", mi.SizeBytes, want)
	}
	if p := got[plain]; p.MediaType != inventory.MediaTypeDockerV2 || !slices.Equal(p.Tags, []string{"plain"}) || p.Config == nil || p.ArtifactType != "" || p.SizeBytes != 5900 {
		t.Errorf("Docker image: media type %q, tags %v, config %v, artifact type %q, size %d", p.MediaType, p.Tags, p.Config, p.ArtifactType, p.SizeBytes)
	}
	if diff := cmp.Diff(map[string]string{"org.opencontainers.image.revision": "abc123"}, got[labelled].Labels); diff != "" {
		t.Errorf("labels from annotations (-want +got):\n%s", diff)
	}
	sb := got[sbom]
	if sb.Subject != build.Image || sb.ArtifactType != "application/spdx+json" || len(sb.Tags) != 0 || len(sb.Layers) != 1 || sb.SizeBytes != sb.Layers[0].Size {
		t.Errorf("referrer: subject %q, artifact type %q, tags %v, layers %v, size %d", sb.Subject, sb.ArtifactType, sb.Tags, sb.Layers, sb.SizeBytes)
	}
	if got[sbomSig].Subject != sbom {
		t.Errorf("referrer of a referrer: subject %q, want %s", got[sbomSig].Subject, sbom)
	}
	wantSigTag := strings.Replace(build.Index, ":", "-", 1) + ".sig"
	if g := got[sig]; !slices.Equal(g.Tags, []string{wantSigTag}) || g.Subject != "" {
		t.Errorf("cosign signature: tags %v, subject %q; want tagged %s, no subject", g.Tags, g.Subject, wantSigTag)
	}

	if len(inv.Notes) != 1 || !strings.Contains(inv.Notes[0], fmt.Sprintf("Reading %d manifests with BatchGetImage", len(want))) {
		t.Errorf("Inventory().Notes = %q, want only the note on pulls", inv.Notes)
	}
	for _, st := range s.Images("team/app") {
		if st.LastPulledAt.IsZero() {
			t.Errorf("%s was not read with BatchGetImage", st.Digest)
		}
	}
	if diff := cmp.Diff(registry.Requests{ByKind: map[registry.Kind]int{"DescribeImages": 1, "BatchGetImage": 1}}, c.Stats()); diff != "" {
		t.Errorf("Stats() (-want +got):\n%s", diff)
	}
}

func TestInventoryPages(t *testing.T) {
	t.Parallel()
	s, c := open(t, "big")
	const n = 2500
	for i := range n {
		s.PutImage("big", ecrtest.Image{
			Manifest: []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%064x","size":10},"layers":[]}`, i)),
			PushedAt: t0.Add(-time.Duration(i) * time.Minute),
		})
	}
	inv, err := c.Inventory(t.Context(), "big")
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	if len(inv.Images) != n {
		t.Errorf("Inventory() = %d images, want %d", len(inv.Images), n)
	}
	if got := s.Calls("DescribeImages"); got != 3 {
		t.Errorf("DescribeImages calls = %d, want 3 (1,000 images a call)", got)
	}
	if got := s.Calls("BatchGetImage"); got != 25 {
		t.Errorf("BatchGetImage calls = %d, want 25 (100 manifests a call)", got)
	}
	if diff := cmp.Diff(registry.Requests{ByKind: map[registry.Kind]int{"DescribeImages": 3, "BatchGetImage": 25}}, c.Stats()); diff != "" {
		t.Errorf("Stats() (-want +got):\n%s", diff)
	}
}

func TestTagsAndManifest(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	build := s.PushBuild("app", "v1", t0)
	old := s.PushBuild("app", "old", t0.Add(-day(200)))
	s.PutImage("app", ecrtest.Image{Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`), Tags: []string{"cold"}, Status: "ARCHIVED"})
	cold := s.Images("app")
	var coldDigest string
	for _, st := range cold {
		if slices.Contains(st.Tags, "cold") {
			coldDigest = st.Digest
		}
	}

	tags, err := c.Tags(t.Context(), "app")
	if err != nil {
		t.Fatalf("Tags() error = %v", err)
	}
	if diff := cmp.Diff(map[string]string{"v1": build.Index, "old": old.Index, "cold": coldDigest}, tags); diff != "" {
		t.Errorf("Tags() (-want +got):\n%s", diff)
	}

	idx, err := c.Manifest(t.Context(), "app", build.Index)
	if err != nil {
		t.Fatalf("Manifest(index) error = %v", err)
	}
	if idx.Digest != build.Index || !idx.IsIndex() || len(idx.Children) != 2 || len(idx.Tags) != 0 || !idx.PushedAt.IsZero() {
		t.Errorf("Manifest(index) = %+v, want the index with 2 children, no tags, no times", idx)
	}
	img, err := c.Manifest(t.Context(), "app", build.Image)
	if err != nil {
		t.Fatalf("Manifest(image) error = %v", err)
	}
	if img.Config == nil || len(img.Layers) != 2 || img.SizeBytes != img.Config.Size+img.Layers[0].Size+img.Layers[1].Size || img.SizeBytes != idx.SizeBytes {
		t.Errorf("Manifest(image): config %v, layers %v, size %d (index %d)", img.Config, img.Layers, img.SizeBytes, idx.SizeBytes)
	}
	archived, err := c.Manifest(t.Context(), "app", coldDigest)
	if err != nil || archived.Status != inventory.StatusArchived || archived.Layers != nil {
		t.Errorf("Manifest(archived) = %+v, %v; want it described, without its manifest", archived, err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	keep := s.PushBuild("app", "keep", t0)
	doomed := s.PushBuild("app", "doomed", t0)
	s.PutImage("app", ecrtest.Image{Manifest: imageManifestOf(t, s, "app", doomed.Index), Tags: []string{"doomed-too"}})

	if err := c.Delete(t.Context(), "app", doomed.Index); err != nil {
		t.Fatalf("Delete() error = %v", err)
	}
	tags, err := c.Tags(t.Context(), "app")
	if err != nil {
		t.Fatalf("Tags() error = %v", err)
	}
	if diff := cmp.Diff(map[string]string{"keep": keep.Index}, tags); diff != "" {
		t.Errorf("Tags() after Delete (-want +got):\n%s", diff)
	}
	if _, err := c.Manifest(t.Context(), "app", doomed.Index); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Manifest(deleted) error = %v, want ErrNotFound", err)
	}
	if err := c.Delete(t.Context(), "app", doomed.Index); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Delete(deleted) error = %v, want ErrNotFound", err)
	}
	err = c.Delete(t.Context(), "app", keep.Image)
	if !errors.Is(err, registry.ErrReferenced) || !strings.Contains(err.Error(), "ImageReferencedByManifestList") || !strings.Contains(err.Error(), keep.Index) {
		t.Errorf("Delete(child of a kept index) error = %v, want ErrReferenced with ECR's reason", err)
	}
	if err := c.Delete(t.Context(), "app", doomed.Image); err != nil {
		t.Errorf("Delete(child of the deleted index) error = %v", err)
	}
}

// imageManifestOf returns the stored manifest of digest in repo.
func imageManifestOf(t *testing.T, s *ecrtest.Server, repo, digest string) []byte {
	t.Helper()
	out, err := s.ECR().BatchGetImage(t.Context(), &ecrsdk.BatchGetImageInput{
		RepositoryName: aws.String(repo),
		ImageIds:       []types.ImageIdentifier{{ImageDigest: aws.String(digest)}},
	})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("BatchGetImage(%s) = %v, %v", digest, out, err)
	}
	return []byte(*out.Images[0].ImageManifest)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	s.PushBuild("app", "v1", t0)
	missing := "sha256:" + strings.Repeat("ab", 32)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"Inventory(unknown repository)", func() error { _, err := c.Inventory(ctx, "nope"); return err }, registry.ErrNotFound},
		{"Tags(unknown repository)", func() error { _, err := c.Tags(ctx, "nope"); return err }, registry.ErrNotFound},
		{"Manifest(unknown repository)", func() error { _, err := c.Manifest(ctx, "nope", missing); return err }, registry.ErrNotFound},
		{"Manifest(unknown digest)", func() error { _, err := c.Manifest(ctx, "app", missing); return err }, registry.ErrNotFound},
		{"Delete(unknown digest)", func() error { return c.Delete(ctx, "app", missing) }, registry.ErrNotFound},
		{"Delete(unknown repository)", func() error { return c.Delete(ctx, "nope", missing) }, registry.ErrNotFound},
		{"Archive(unknown digest)", func() error { return c.Archive(ctx, "app", missing) }, registry.ErrNotFound},
		{"LifecyclePolicy(none set)", func() error { _, err := c.LifecyclePolicy(ctx, "app"); return err }, registry.ErrNotFound},
		{"PreviewLifecyclePolicy(unknown repository)", func() error { _, err := c.PreviewLifecyclePolicy(ctx, "nope", ""); return err }, registry.ErrNotFound},
	} {
		err := tc.call()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s error = %v, want %v", tc.name, err, tc.want)
		}
	}
	err := c.Delete(ctx, "nope", missing)
	if !strings.Contains(err.Error(), "The repository with name 'nope' does not exist in the registry with id '123456789012'") {
		t.Errorf("Delete(unknown repository) error = %v, want ECR's message kept", err)
	}

	s.Fail("DescribeImages", 1, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/base is not authorized to perform: ecr:DescribeImages")
	if _, err := c.Inventory(ctx, "app"); !errors.Is(err, registry.ErrDenied) || !strings.Contains(err.Error(), "not authorized") {
		t.Errorf("Inventory(denied) error = %v, want ErrDenied with ECR's message", err)
	}
	cfg := s.AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(ecrtest.AccessKeyID, "wrong", "")
	bad := ecr.New(ecrsdk.NewFromConfig(cfg), ecr.Options{})
	if _, err := bad.Inventory(ctx, "app"); !errors.Is(err, registry.ErrUnauthorized) {
		t.Errorf("Inventory(wrong secret) error = %v, want ErrUnauthorized", err)
	}
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no credentials in the environment")
	})
	none := ecr.New(ecrsdk.NewFromConfig(cfg), ecr.Options{})
	if _, err := none.Tags(ctx, "app"); !errors.Is(err, registry.ErrUnauthorized) {
		t.Errorf("Tags(no credentials) error = %v, want ErrUnauthorized", err)
	}
}

// TestInventoryReadsOnlyIndexesByDefault: every manifest read counts as a pull on ECR, so
// without Options.Layers only index manifests (for their children) are read.
func TestInventoryReadsOnlyIndexesByDefault(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	b := s.PushBuild("app", "v1", t0)
	c := ecr.New(s.ECR(), ecr.Options{RegistryID: ecrtest.Account, Host: host})
	inv, err := c.Inventory(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Calls("BatchGetImage"); n != 1 {
		t.Errorf("BatchGetImage calls = %d, want 1 (the index only)", n)
	}
	for _, img := range inv.Images {
		switch img.Digest {
		case b.Index:
			if len(img.Children) != 2 {
				t.Errorf("index children = %d, want 2", len(img.Children))
			}
		case b.Image:
			if img.Config != nil || len(img.Layers) > 0 {
				t.Errorf("image blobs were read without Layers")
			}
		}
	}
	for _, st := range s.Images("app") {
		if st.Digest == b.Image && !st.LastPulledAt.IsZero() {
			t.Errorf("the image's pull time was touched: %v", st.LastPulledAt)
		}
	}
}
