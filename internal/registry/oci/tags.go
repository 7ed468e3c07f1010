package oci

import (
	"context"
	"fmt"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// listTags returns every tag of r, in the order the registry lists them (see listTagPages).
func (c *Client) listTags(ctx context.Context, r *repository) ([]string, error) {
	var tags []string
	err := c.listTagPages(ctx, r, func(page []string) { tags = append(tags, page...) })
	if err != nil {
		return nil, err
	}
	return tags, nil
}

// listTagPages lists the tags of r, in the order the registry lists them, and gives page
// the tags each page brings that no page before it did, as soon as the page arrives.
//
// Registries page tag lists differently. Those that follow the spec send a Link header to
// the next page, which oras follows. Some send no Link header but honour n and last (the
// in-process registry of go-containerregistry, which also answers a last at or past the
// final tag with the first page again); others ignore n and last and send everything at
// once (distribution 2.8). So, when a listing came in a single page of exactly the size
// asked for, with no Link header, listTagPages asks again from its last tag; it stops when a
// page brings no tag it has not seen, is shorter than asked for, or is longer (the registry
// ignored n), or when the registry has shown it sends Link headers.
func (c *Client) listTagPages(ctx context.Context, r *repository, page func(tags []string)) error {
	var (
		seen    = make(map[string]bool)
		pages   int
		called  int // pages in the current call of r.Tags
		lastLen int
		lastTag string
		fresh   bool
	)
	collect := func(tags []string) error {
		pages++
		called++
		if pages > MaxTagListPages {
			return fmt.Errorf("more than %d pages of tags", MaxTagListPages)
		}
		lastLen = len(tags)
		if len(tags) > 0 {
			lastTag = tags[len(tags)-1]
		}
		var added []string
		for _, t := range tags {
			if !seen[t] {
				seen[t] = true
				added = append(added, t)
			}
		}
		if len(added) > 0 {
			fresh = true
			page(added)
		}
		return nil
	}
	last := ""
	for {
		fresh, called = false, 0
		if err := r.Tags(ctx, last, collect); err != nil {
			return mapError(err)
		}
		if !fresh || called > 1 || lastLen != c.tagPageSize || lastTag == last {
			return nil
		}
		last = lastTag
	}
}

// resolveTags returns the descriptor each tag points at. Tags deleted since they were
// listed are left out. Each tag resolved adds one to the progress.
func (c *Client) resolveTags(ctx context.Context, r *repository, tags []string) (map[string]ocispec.Descriptor, error) {
	var mu sync.Mutex
	out := make(map[string]ocispec.Descriptor, len(tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for _, tag := range tags {
		g.Go(func() error {
			defer c.progress.Add(1)
			desc, err := r.Resolve(gctx, tag)
			if isNotFound(err) {
				c.log.Debug("tag deleted while listing", "repository", r.name, "tag", tag)
				return nil
			}
			if err != nil {
				return fmt.Errorf("resolving tag %s: %w", tag, mapError(err))
			}
			mu.Lock()
			out[tag] = desc
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// Tags returns the tags of repo, each with the digest it points at now. It counts into the
// caller's progress phase: the tags listed grow the total, each tag resolved adds one.
func (c *Client) Tags(ctx context.Context, repo string) (map[string]string, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	tags, err := c.listTags(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
	}
	c.progress.Grow(len(tags))
	descs, err := c.resolveTags(ctx, r, tags)
	if err != nil {
		return nil, fmt.Errorf("reading tags of %s: %w", repo, err)
	}
	out := make(map[string]string, len(descs))
	for tag, desc := range descs {
		out[tag] = desc.Digest.String()
	}
	return out, nil
}
