package ecr_test

import (
	"context"
	"testing"

	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

// sparseDetails is ECR whose DescribeImages leaves out imageSizeInBytes and
// artifactMediaType, both optional in the ECR API model.
type sparseDetails struct{ ecr.API }

func (s sparseDetails) DescribeImages(ctx context.Context, in *ecrsdk.DescribeImagesInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.DescribeImagesOutput, error) {
	out, err := s.API.DescribeImages(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	for n := range out.ImageDetails {
		out.ImageDetails[n].ImageSizeInBytes, out.ImageDetails[n].ArtifactMediaType = nil, nil
	}
	return out, nil
}

// TestInventoryDescribesManifests checks that the manifests the ECR backend reads are
// described as the OCI backend describes them (inventory.DecodeManifest): where
// DescribeImages says nothing of them, an image read with Options.Layers gets its size from
// its config and layers (an artifact from its layers only), and an artifact its type from
// its artifactType or, failing that, its config's media type. Where DescribeImages gives a
// size, that size stays.
func TestInventoryDescribesManifests(t *testing.T) {
	t.Parallel()
	const repo = "team/app"
	s := ecrtest.New(t)
	s.CreateRepository(repo, ecrtest.Repo{})
	build := s.PushBuild(repo, "v1", t0)
	plain := s.PutImage(repo, ecrtest.Image{PushedAt: t0, Tags: []string{"plain"}, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeDockerV2,
		"config":    desc("application/vnd.docker.container.image.v1+json", "plain config", 900),
		"layers":    []any{desc("application/vnd.docker.image.rootfs.diff.tar.gzip", "plain layer", 5000)},
	})})
	sbom := pushReferrer(t, s, repo, build.Image, inventory.MediaTypeOCIManifest, "application/spdx+json")
	chart := s.PutImage(repo, ecrtest.Image{PushedAt: t0, Tags: []string{"chart-1.0.0"}, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeOCIManifest,
		"config":    desc("application/vnd.cncf.helm.config.v1+json", "chart config", 150),
		"layers":    []any{desc("application/vnd.cncf.helm.chart.content.v1.tar+gzip", "chart", 3000)},
	})})
	// ECR's own figure for this one differs from what its manifest adds up to.
	measured := s.PutImage(repo, ecrtest.Image{PushedAt: t0, Tags: []string{"measured"}, Size: 4242, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeOCIManifest,
		"config":    desc("application/vnd.oci.image.config.v1+json", "measured config", 100),
		"layers":    []any{desc("application/vnd.oci.image.layer.v1.tar+gzip", "measured layer", 1000)},
	})})

	type described struct {
		Size         int64
		ArtifactType string
	}
	describe := func(api ecr.API) map[string]described {
		t.Helper()
		inv, err := ecr.New(api, ecr.Options{RegistryID: ecrtest.Account, Layers: true}).Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		got := make(map[string]described)
		for _, d := range []string{build.Image, plain, sbom, chart, measured} {
			img := byDigest(inv.Images)[d]
			got[d] = described{img.SizeBytes, img.ArtifactType}
		}
		return got
	}

	var imageSize int64 // config and layers, as ECR counts them
	for _, st := range s.Images(repo) {
		if st.Digest == build.Image {
			imageSize = st.Size
		}
	}
	want := map[string]described{
		build.Image: {Size: imageSize},
		plain:       {Size: 5900},
		sbom:        {Size: 777, ArtifactType: "application/spdx+json"},
		chart:       {Size: 3000, ArtifactType: "application/vnd.cncf.helm.config.v1+json"},
		measured:    {Size: 1100},
	}
	if diff := cmp.Diff(want, describe(sparseDetails{s.ECR()})); diff != "" {
		t.Errorf("Inventory() without sizes or artifact types from DescribeImages (-want +got):\n%s", diff)
	}
	want[measured] = described{Size: 4242}
	if diff := cmp.Diff(want, describe(s.ECR())); diff != "" {
		t.Errorf("Inventory() (-want +got):\n%s", diff)
	}
}

// TestInventoryIndexWithoutDigest: an index entry that names no digest leaves the index's
// children unknown, so the index is recorded as unreadable, as one BatchGetImage does not
// serve is.
func TestInventoryIndexWithoutDigest(t *testing.T) {
	t.Parallel()
	const repo = "team/app"
	s := ecrtest.New(t)
	s.CreateRepository(repo, ecrtest.Repo{})
	build := s.PushBuild(repo, "v1", t0)
	odd := s.PutImage(repo, ecrtest.Image{PushedAt: t0, Tags: []string{"odd"}, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeOCIIndex,
		"manifests": []any{
			map[string]any{"mediaType": inventory.MediaTypeOCIManifest, "digest": build.Image, "size": 500},
			map[string]any{"mediaType": inventory.MediaTypeOCIManifest, "size": 500},
		},
	})})
	inv, err := ecr.New(s.ECR(), ecr.Options{RegistryID: ecrtest.Account}).Inventory(t.Context(), repo)
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	want := []inventory.Unreadable{{Digest: odd, Tags: []string{"odd"}, Reason: "decoding manifest: manifests[1] has no digest"}}
	if diff := cmp.Diff(want, inv.Unreadable); diff != "" {
		t.Errorf("Inventory().Unreadable (-want +got):\n%s", diff)
	}
	if img := byDigest(inv.Images)[odd]; img.Children != nil {
		t.Errorf("unreadable index children = %v, want unknown (nil)", img.Children)
	}
}
