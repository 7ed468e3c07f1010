package oci

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
)

var _ shipreg.TagResolver = (*Client)(nil)

// TagNames returns the name of every tag of repo, from the tag list alone: one request a
// page, no HEAD. A listing that fails part-way is an error.
func (c *Client) TagNames(ctx context.Context, repo string) ([]string, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	tags, err := c.listTags(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
	}
	return tags, nil
}

// Resolve HEADs each of refs (tags or digests) in repo, Concurrency at a time under the
// rate limit, and returns the digest each points at. A reference the registry answers 404
// for is left out; any other failure ends the call with an error. It counts into the
// caller's progress phase, as Tags does: refs grow the total, each one resolved adds one.
func (c *Client) Resolve(ctx context.Context, repo string, refs []string) (map[string]string, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return map[string]string{}, nil
	}
	c.progress.Grow(len(refs))
	var mu sync.Mutex
	out := make(map[string]string, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for _, ref := range refs {
		g.Go(func() error {
			defer c.progress.Add(1)
			desc, err := r.Resolve(gctx, ref)
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("resolving %s in %s: %w", ref, repo, mapError(err))
			}
			mu.Lock()
			out[ref] = desc.Digest.String()
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
