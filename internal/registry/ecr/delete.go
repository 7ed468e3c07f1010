package ecr

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

// BatchDeleteImageLimit is the most imageIds BatchDeleteImage takes in one call; ECR
// refuses more with InvalidParameterException.
const BatchDeleteImageLimit = 100

// imageFailure is one image BatchDeleteImage did not delete, matching ErrNotFound or
// ErrReferenced when ECR's failure code says so.
type imageFailure struct {
	digest  string
	code    types.ImageFailureCode
	reason  string
	matches error
}

func (f *imageFailure) Error() string {
	return fmt.Sprintf("%s: %s", f.code, f.reason)
}

func (f *imageFailure) Is(target error) bool { return f.matches != nil && target == f.matches }

func newImageFailure(f types.ImageFailure) *imageFailure {
	e := &imageFailure{
		digest: aws.ToString(f.ImageId.ImageDigest),
		code:   f.FailureCode,
		reason: aws.ToString(f.FailureReason),
	}
	switch f.FailureCode {
	case types.ImageFailureCodeImageNotFound:
		e.matches = registry.ErrNotFound
	case types.ImageFailureCodeImageReferencedByManifestList:
		e.matches = registry.ErrReferenced
	}
	return e
}

// Delete deletes the image digest, with its tags. An image already gone is ErrNotFound;
// one an index in the repository lists is ErrReferenced.
func (c *Client) Delete(ctx context.Context, repo, digest string) error {
	failed, err := c.DeleteBatch(ctx, repo, []string{digest})
	if err != nil {
		return err
	}
	if err := failed[digest]; err != nil {
		return fmt.Errorf("deleting %s from %s: %w", digest, repo, err)
	}
	return nil
}

// DeleteBatch deletes digests from repo with BatchDeleteImage, BatchDeleteImageLimit a
// call, in order. Images ECR did not delete are reported in failed, never as err: those
// already gone match ErrNotFound, those an index still lists ErrReferenced, and the rest
// carry ECR's failure code and reason. err is a call that failed as a whole (after the SDK's
// retries); the batches after it are not sent.
func (c *Client) DeleteBatch(ctx context.Context, repo string, digests []string) (map[string]error, error) {
	failed := make(map[string]error)
	for batch := range slices.Chunk(digests, BatchDeleteImageLimit) {
		ids := make([]types.ImageIdentifier, len(batch))
		for n, d := range batch {
			ids[n] = types.ImageIdentifier{ImageDigest: aws.String(d)}
		}
		out, err := c.api.BatchDeleteImage(ctx, &ecrsdk.BatchDeleteImageInput{
			RegistryId:     c.registryID,
			RepositoryName: aws.String(repo),
			ImageIds:       ids,
		})
		if err != nil {
			return failed, callError("deleting images of", repo, err)
		}
		for _, f := range out.Failures {
			e := newImageFailure(f)
			failed[e.digest] = e
		}
		c.log.Debug("deleted", "repository", repo, "images", len(out.ImageIds), "failures", len(out.Failures))
	}
	return failed, nil
}

// Archive moves the image digest to ECR's archive storage class. An image that an active
// index lists, or that is being restored, cannot be archived: ErrUnsupported.
func (c *Client) Archive(ctx context.Context, repo, digest string) error {
	return c.updateStorageClass(ctx, repo, digest, types.TargetStorageClassArchive)
}

// Restore starts moving the archived image digest back to standard storage; ECR takes up
// to 20 minutes, during which DescribeImages reports it ACTIVATING.
func (c *Client) Restore(ctx context.Context, repo, digest string) error {
	return c.updateStorageClass(ctx, repo, digest, types.TargetStorageClassStandard)
}

func (c *Client) updateStorageClass(ctx context.Context, repo, digest string, class types.TargetStorageClass) error {
	_, err := c.api.UpdateImageStorageClass(ctx, &ecrsdk.UpdateImageStorageClassInput{
		RegistryId:         c.registryID,
		RepositoryName:     aws.String(repo),
		ImageId:            &types.ImageIdentifier{ImageDigest: aws.String(digest)},
		TargetStorageClass: class,
	})
	if err != nil {
		verb := "archiving"
		if class == types.TargetStorageClassStandard {
			verb = "restoring"
		}
		return fmt.Errorf("%s %s in %s: %w", verb, digest, repo, mapError(err))
	}
	return nil
}
