package ecr_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

// unservedManifests is ECR whose BatchGetImage fails, as KmsError, for the digests in fail,
// though DescribeImages lists them.
type unservedManifests struct {
	ecr.API
	fail []string
}

func (u unservedManifests) BatchGetImage(ctx context.Context, in *ecrsdk.BatchGetImageInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.BatchGetImageOutput, error) {
	out, err := u.API.BatchGetImage(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	out.Images = slices.DeleteFunc(out.Images, func(img types.Image) bool {
		d := aws.ToString(img.ImageId.ImageDigest)
		if !slices.Contains(u.fail, d) {
			return false
		}
		out.Failures = append(out.Failures, types.ImageFailure{ImageId: img.ImageId, FailureCode: types.ImageFailureCodeKmsError, FailureReason: aws.String("KMS key disabled")})
		return true
	})
	return out, nil
}

// TestInventoryUnreadableIndex checks that an index whose manifest BatchGetImage will not
// serve is recorded as unreadable, not as an index without children: the children it
// shares with an expired index must stay.
func TestInventoryUnreadableIndex(t *testing.T) {
	t.Parallel()
	const repo = "team/app"
	s := ecrtest.New(t)
	s.CreateRepository(repo, ecrtest.Repo{})
	old := pushMulti(t, s, repo, "old", "linux/amd64")
	// prod lists the same image and attestation as old.
	prod := s.PutImage(repo, ecrtest.Image{PushedAt: t0, Tags: []string{"prod"}, Manifest: manifestJSON(t, map[string]any{
		"mediaType": inventory.MediaTypeOCIIndex,
		"manifests": []any{
			map[string]any{"mediaType": inventory.MediaTypeOCIManifest, "digest": old.images["linux/amd64"], "size": 500},
			map[string]any{"mediaType": inventory.MediaTypeOCIManifest, "digest": old.attestations["linux/amd64"], "size": 500},
		},
	})})
	c := ecr.New(unservedManifests{API: s.ECR(), fail: []string{prod}}, ecr.Options{RegistryID: ecrtest.Account})

	inv, err := c.Inventory(t.Context(), repo)
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	want := []inventory.Unreadable{{Digest: prod, Tags: []string{"prod"}, Reason: "BatchGetImage failed: KMS key disabled (KmsError)"}}
	if diff := cmp.Diff(want, inv.Unreadable); diff != "" {
		t.Errorf("Inventory().Unreadable (-want +got):\n%s", diff)
	}
	if img := byDigest(inv.Images)[prod]; img.Children != nil {
		t.Errorf("unreadable index children = %v, want unknown (nil)", img.Children)
	}

	pol, err := policy.Load([]byte(`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["old"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	pl := plan.Build(pol, inv, t0.Add(day(30)), plan.Options{})
	if pl.Blocked == "" || pl.Summary.Expire != 0 {
		t.Errorf("plan: blocked %q, %d to expire; want blocked, none to expire", pl.Blocked, pl.Summary.Expire)
	}

	// The re-check apply makes: DescribeImages finds it, so it is not gone.
	if _, err := c.Manifest(t.Context(), repo, prod); err == nil || errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "KmsError") {
		t.Errorf("Manifest() of an index BatchGetImage will not serve: error = %v, want one naming the failure, not ErrNotFound", err)
	}
}
