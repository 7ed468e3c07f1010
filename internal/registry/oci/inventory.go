package oci

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry"
)

// Inventory reads every manifest of repo that the Distribution API can reach: the tagged
// ones, the children of indexes, the referrers of everything found (through the referrers
// API, or the referrers tag schema), and, with a cache directory, every manifest an earlier
// inventory found that still exists. See the package documentation for what it cannot see;
// the returned Notes say it too.
//
// A first inventory GETs each tag's manifest; later ones, with a cache directory, send one
// HEAD per tag and read manifests and configs they have seen before from the cache.
func (c *Client) Inventory(ctx context.Context, repo string) (*inventory.Inventory, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	c.progress.Phase("tags", 0, 0)
	defer c.progress.End()
	now := c.now()
	var hist *history
	if c.cache != nil {
		hist, err = c.cache.loadHistory(c.host, repo)
		if err != nil {
			c.log.Warn("ignoring the tag history", "repository", repo, "error", err)
		}
	}
	remembered := hist != nil && len(hist.Manifests) > 0

	tags, err := c.listTags(ctx, r, c.progress.Add)
	if err != nil {
		// distribution reports a repository whose tags are all gone as unknown; the
		// manifests an earlier inventory saw in it may still be there.
		if !isNotFound(err) || !remembered {
			return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
		}
		c.log.Debug("repository has no tags", "repository", repo, "error", err)
		tags = nil
	}

	// Learn whether the registry has the referrers API while the tags are read.
	c.progress.Phase("manifests", 0, len(tags))
	rd := c.newReader(r)
	defer rd.wait()
	w := &walker{c: c, r: r, rd: rd, nodes: make(map[digest.Digest]*node), counted: true}
	var roots []visit
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		api, err := c.hasReferrersAPI(gctx, r)
		if err != nil {
			return fmt.Errorf("probing the referrers API of %s: %w", repo, err)
		}
		w.referrers = api
		return nil
	})
	g.Go(func() error {
		var err error
		roots, err = c.readTags(gctx, rd, tags, remembered)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	tagsOf := make(map[digest.Digest][]string)
	for _, v := range roots {
		tagsOf[v.desc.Digest] = v.tags
	}
	c.progress.Phase("images", 0, 0)
	if err := w.walkAll(ctx, roots); err != nil {
		return nil, fmt.Errorf("reading %s: %w", repo, err)
	}

	// Manifests an earlier inventory saw that nothing reaches now: superseded images,
	// and the children and referrers of deleted ones. HEAD says whether they still exist.
	var gone []digest.Digest
	if remembered {
		var missing []digest.Digest
		for d := range hist.Manifests {
			if _, ok := w.nodes[digest.Digest(d)]; !ok {
				missing = append(missing, digest.Digest(d))
			}
		}
		slices.Sort(missing)
		var found []visit
		c.progress.Phase("history", 0, len(missing))
		found, gone, err = c.resolveDigests(ctx, r, missing)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", repo, err)
		}
		if len(found) > 0 {
			c.progress.Phase("images", 0, 0)
		}
		if err := w.walkAll(ctx, found); err != nil {
			return nil, fmt.Errorf("reading %s: %w", repo, err)
		}
	}

	images, refIndexes := w.images(tagsOf, true)
	unreadable := w.unreadable(tagsOf)
	inv := &inventory.Inventory{
		Repository: displayHost(c.host) + "/" + repo,
		CapturedAt: now,
		Images:     images,
		Notes:      c.notes(images, refIndexes, w.referrers, unreadable),
		Unreadable: unreadable,
	}
	if c.cache != nil {
		remember(hist, w.nodes, tagsOf, gone, now)
		if err := c.cache.saveHistory(c.host, repo, hist); err != nil {
			return nil, fmt.Errorf("saving the tag history of %s: %w", repo, err)
		}
	}
	c.log.Debug("inventory", "repository", inv.Repository, "images", len(images), "stats", c.Stats())
	return inv, nil
}

// remember updates the history with what an inventory found: every manifest read (or
// found to exist but unreadable), with its tags if it has any; and forgets the manifests
// found gone.
func remember(h *history, nodes map[digest.Digest]*node, tagsOf map[digest.Digest][]string, gone []digest.Digest, now time.Time) {
	for d, n := range nodes {
		if n == nil {
			gone = append(gone, d)
			continue
		}
		e := h.Manifests[d.String()]
		e.Seen = now
		if t := tagsOf[d]; len(t) > 0 {
			e.Tags, e.Tagged = slices.Clone(t), now
		}
		h.Manifests[d.String()] = e
	}
	for _, d := range gone {
		delete(h.Manifests, d.String())
	}
}

// notes explain what the inventory could not see, or saw in an unusual way.
func (c *Client) notes(images []inventory.Image, refIndexes int, referrersAPI bool, unreadable []inventory.Unreadable) []string {
	var notes []string
	if c.cache != nil {
		notes = append(notes, "Untagged manifests that no tag, index or referrer reaches, and that no earlier inventory saw, cannot be listed through the OCI Distribution API.")
	} else {
		notes = append(notes, "Untagged manifests that no tag, index or referrer reaches cannot be listed through the OCI Distribution API; without a cache directory, images superseded since an earlier inventory are not found either.")
	}
	unknown := 0
	for _, img := range images {
		if img.PushedAt.IsZero() {
			unknown++
		}
	}
	note := "The registry records no push or pull times: push times come from image metadata"
	switch unknown {
	case 0:
		note += "."
	case 1:
		note += " (1 image has none)."
	default:
		note += fmt.Sprintf(" (%d images have none).", unknown)
	}
	notes = append(notes, note)
	if !referrersAPI && refIndexes > 0 {
		what := "1 referrers index, tagged sha256-<hex> (the referrers tag schema), which appears as a tagged index whose subject is the manifest its tag names"
		if refIndexes > 1 {
			what = fmt.Sprintf("%d referrers indexes, tagged sha256-<hex> (the referrers tag schema), which appear as tagged indexes whose subject is the manifest their tag names", refIndexes)
		}
		notes = append(notes, "The registry has no referrers API: referrers were found through "+what+".")
	}
	if len(unreadable) > 0 {
		u := unreadable[0]
		first := inventory.ShortDigest(u.Digest)
		if len(u.Tags) > 0 {
			first += " (" + strings.Join(u.Tags, ", ") + ")"
		}
		what := "1 manifest that the registry says exists"
		if len(unreadable) > 1 {
			what = fmt.Sprintf("%d manifests that the registry says exist", len(unreadable))
		}
		notes = append(notes, fmt.Sprintf("%s could not be read completely (%s: %s): anything in the repository may depend on them, so plans delete nothing until they can be read.",
			what, first, u.Reason))
	}
	return notes
}

// readTags returns the manifest each tag points at, as roots of the walk. When earlier
// inventories were remembered, the cache probably holds most manifests, so each tag costs a
// HEAD; otherwise a GET brings the digest and the manifest at once.
//
// A tag whose HEAD (or whose GET, and then HEAD) answers 404 was deleted while listing and
// is left out. A tag whose GET answers 404 but HEAD 200 is a root still to read by digest;
// one whose manifest is too large, a root already known to be unreadable.
func (c *Client) readTags(ctx context.Context, rd *reader, tags []string, warm bool) ([]visit, error) {
	var (
		mu     sync.Mutex
		byDig  = make(map[digest.Digest]*visit)
		g, gcx = errgroup.WithContext(ctx)
	)
	g.SetLimit(c.concurrency)
	for _, tag := range tags {
		g.Go(func() error {
			defer c.progress.Add(1)
			var (
				desc       ocispec.Descriptor
				raw        []byte
				unreadable string
				err        error
			)
			if warm {
				desc, err = rd.r.Resolve(gcx, tag)
				err = mapError(err)
			} else {
				desc, raw, err = rd.reference(gcx, tag)
				if tl, ok := errors.AsType[*tooLargeError](err); ok {
					desc, unreadable, err = tl.desc, tl.reason(), nil
				} else if isNotFound(err) {
					// Deleted while listing, or a registry that will not serve what it has:
					// if HEAD finds it, the walk tries its digest, and failing that records
					// it as unreadable.
					desc, err = rd.r.Resolve(gcx, tag)
					err = mapError(err)
				}
			}
			if isNotFound(err) {
				c.log.Debug("tag deleted while listing", "repository", rd.r.name, "tag", tag)
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading tag %s: %w", tag, err)
			}
			mu.Lock()
			defer mu.Unlock()
			v, ok := byDig[desc.Digest]
			switch {
			case !ok:
				v = &visit{desc: desc, raw: raw, confirmed: true, unreadable: unreadable}
				byDig[desc.Digest] = v
			case v.raw == nil && raw != nil:
				// Another tag's GET failed or was not sent; this one brought the manifest.
				v.desc, v.raw, v.unreadable = desc, raw, ""
			}
			v.tags = append(v.tags, tag)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	roots := make([]visit, 0, len(byDig))
	for _, d := range slices.Sorted(maps.Keys(byDig)) {
		v := byDig[d]
		slices.Sort(v.tags)
		roots = append(roots, *v)
	}
	return roots, nil
}

// resolveDigests HEADs each digest and returns those that exist, as roots of a walk, and
// those that do not.
func (c *Client) resolveDigests(ctx context.Context, r *repository, ds []digest.Digest) (found []visit, gone []digest.Digest, err error) {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for _, d := range ds {
		g.Go(func() error {
			defer c.progress.Add(1)
			desc, err := r.Resolve(gctx, d.String())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case isNotFound(err):
				gone = append(gone, d)
			case err != nil:
				return fmt.Errorf("resolving %s: %w", d, mapError(err))
			default:
				found = append(found, visit{desc: desc, confirmed: true})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(found, func(a, b visit) int { return strings.Compare(string(a.desc.Digest), string(b.desc.Digest)) })
	return found, gone, nil
}

// Manifest describes the manifest dgst of repo. It reads the children of an index too, for
// the index's size. A manifest that exists (HEAD answers 200) but cannot be read completely
// is an error that does not wrap registry.ErrNotFound.
func (c *Client) Manifest(ctx context.Context, repo, dgst string) (inventory.Image, error) {
	d, err := digest.Parse(dgst)
	if err != nil {
		return inventory.Image{}, fmt.Errorf("manifest %q: %w", dgst, err)
	}
	r, err := c.repository(repo)
	if err != nil {
		return inventory.Image{}, err
	}
	desc, err := r.Resolve(ctx, d.String())
	if err != nil {
		return inventory.Image{}, fmt.Errorf("resolving %s in %s: %w", d, repo, mapError(err))
	}
	rd := c.newReader(r)
	defer rd.wait()
	w := &walker{c: c, r: r, rd: rd, nodes: make(map[digest.Digest]*node)}
	// The manifest and, for an index, its children.
	if _, err := w.walk(ctx, []visit{{desc: desc, confirmed: true}}, 2); err != nil {
		return inventory.Image{}, fmt.Errorf("reading %s in %s: %w", d, repo, err)
	}
	n := w.nodes[d]
	if n == nil {
		return inventory.Image{}, fmt.Errorf("reading %s in %s: %w", d, repo, registry.ErrNotFound)
	}
	if n.unreadable != "" {
		// It exists: not ErrNotFound, which would tell the caller it is gone.
		return inventory.Image{}, fmt.Errorf("reading %s in %s: %s", d, repo, n.unreadable)
	}
	images, _ := w.images(nil, false)
	i := slices.IndexFunc(images, func(img inventory.Image) bool { return img.Digest == d.String() })
	return images[i], nil
}

// Delete deletes the manifest dgst from repo, and with it every tag pointing at it. On a
// registry without the referrers API, deleting a referrer also removes it from its
// subject's referrers index.
func (c *Client) Delete(ctx context.Context, repo, dgst string) error {
	d, err := digest.Parse(dgst)
	if err != nil {
		return fmt.Errorf("manifest %q: %w", dgst, err)
	}
	r, err := c.repository(repo)
	if err != nil {
		return err
	}
	// oras needs the media type to know whether the manifest may have a subject whose
	// referrers index it must update.
	desc, err := r.Resolve(ctx, d.String())
	if err != nil {
		return fmt.Errorf("resolving %s in %s: %w", d, repo, mapError(err))
	}
	if err := r.Delete(ctx, desc); err != nil {
		return fmt.Errorf("deleting %s from %s: %w", d, repo, mapError(err))
	}
	return nil
}
