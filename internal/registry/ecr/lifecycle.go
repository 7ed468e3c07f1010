package ecr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

// Bounds of PreviewLifecyclePolicy.
const (
	// PreviewPageSize is GetLifecyclePolicyPreview's maximum maxResults.
	PreviewPageSize = 100
	// MaxPreviewPages bounds the pages of one preview's results: 100,000 results, ECR's
	// default quota of images per repository.
	MaxPreviewPages = 1000
)

// LifecyclePolicy returns the lifecycle policy text of repo as ECR returns it: compact, with
// its rules reordered by priority, so compare it with what was put in normalised form
// (policy.Equal). A repository without a policy is ErrNotFound.
func (c *Client) LifecyclePolicy(ctx context.Context, repo string) (string, error) {
	out, err := c.api.GetLifecyclePolicy(ctx, &ecrsdk.GetLifecyclePolicyInput{
		RegistryId:     c.registryID,
		RepositoryName: aws.String(repo),
	})
	if err != nil {
		return "", callError("reading the lifecycle policy of", repo, err)
	}
	return aws.ToString(out.LifecyclePolicyText), nil
}

// PutLifecyclePolicy sets repo's lifecycle policy to text, which ECR validates.
func (c *Client) PutLifecyclePolicy(ctx context.Context, repo, text string) error {
	_, err := c.api.PutLifecyclePolicy(ctx, &ecrsdk.PutLifecyclePolicyInput{
		RegistryId:          c.registryID,
		RepositoryName:      aws.String(repo),
		LifecyclePolicyText: aws.String(text),
	})
	if err != nil {
		return callError("setting the lifecycle policy of", repo, err)
	}
	return nil
}

// PreviewLifecyclePolicy runs ECR's preview of the policy text on repo (of repo's own
// policy when text is empty) and returns every image ECR would act on. It starts the preview
// (waiting while an earlier one of the repository is in progress: ECR runs one at a time),
// polls every PreviewPoll until it completes, and reads all its results, all within
// PreviewTimeout.
func (c *Client) PreviewLifecyclePolicy(ctx context.Context, repo, text string) (_ []registry.PreviewResult, err error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.previewTimeout)
	defer cancel()
	defer func() {
		if err != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no result within %v: %w", c.previewTimeout, err)
		}
	}()
	start := &ecrsdk.StartLifecyclePolicyPreviewInput{RegistryId: c.registryID, RepositoryName: aws.String(repo)}
	if text != "" {
		start.LifecyclePolicyText = aws.String(text)
	}
	for {
		_, err := c.api.StartLifecyclePolicyPreview(ctx, start)
		if err == nil {
			break
		}
		var busy *types.LifecyclePolicyPreviewInProgressException
		if !errors.As(err, &busy) {
			return nil, callError("starting a lifecycle policy preview of", repo, err)
		}
		c.log.Debug("another lifecycle policy preview is in progress", "repository", repo)
		if err := c.sleep(ctx); err != nil {
			return nil, fmt.Errorf("starting a lifecycle policy preview of %s: waiting for the one in progress: %w", repo, err)
		}
	}

	get := &ecrsdk.GetLifecyclePolicyPreviewInput{
		RegistryId:     c.registryID,
		RepositoryName: aws.String(repo),
		MaxResults:     aws.Int32(PreviewPageSize),
	}
	var results []registry.PreviewResult
	for page := 0; ; {
		out, err := c.api.GetLifecyclePolicyPreview(ctx, get)
		if err != nil {
			return nil, callError("reading the lifecycle policy preview of", repo, err)
		}
		switch out.Status {
		case types.LifecyclePolicyPreviewStatusComplete:
		case types.LifecyclePolicyPreviewStatusInProgress:
			if err := c.sleep(ctx); err != nil {
				return nil, fmt.Errorf("lifecycle policy preview of %s: waiting for it to complete: %w", repo, err)
			}
			continue
		default:
			return nil, fmt.Errorf("lifecycle policy preview of %s: status %s", repo, out.Status)
		}
		for _, r := range out.PreviewResults {
			results = append(results, fromPreviewResult(r))
		}
		if aws.ToString(out.NextToken) == "" {
			return results, nil
		}
		if page++; page == MaxPreviewPages {
			return nil, fmt.Errorf("lifecycle policy preview of %s: more than %d pages of results", repo, MaxPreviewPages)
		}
		get.NextToken = out.NextToken
	}
}

func fromPreviewResult(r types.LifecyclePolicyPreviewResult) registry.PreviewResult {
	out := registry.PreviewResult{
		Digest:       aws.ToString(r.ImageDigest),
		Tags:         r.ImageTags,
		RulePriority: int(aws.ToInt32(r.AppliedRulePriority)),
		StorageClass: strings.ToLower(string(r.StorageClass)),
	}
	if r.Action != nil {
		out.Action = strings.ToLower(string(r.Action.Type))
	}
	return out
}

// sleep waits one PreviewPoll, or until ctx is done.
func (c *Client) sleep(ctx context.Context) error {
	t := time.NewTimer(c.previewPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
