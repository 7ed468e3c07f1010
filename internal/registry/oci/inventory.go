package oci

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

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
// HEAD per tag and read manifests and configs they have seen before from the cache. The
// work is pipelined: tags are resolved as each page of the tag list arrives, and a
// manifest's config and referrers are read as soon as the manifest is, with at most
// Concurrency requests in flight (see walker).
func (c *Client) Inventory(ctx context.Context, repo string) (*inventory.Inventory, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	m := &meter{p: c.progress}
	tagsListed, tagsRead, read := m.stage("tags", false), m.stage("manifests", true), m.stage("images", false)
	m.start(tagsListed)
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

	rd := c.newReader(r)
	defer rd.wait()
	w := c.newWalker(r, rd)
	w.allConfigs = c.configLabels
	w.counted = read
	// Learn whether the registry has the referrers API while the tags are listed; reading
	// a manifest's referrers waits for the answer.
	var (
		probed       = make(chan struct{})
		referrersAPI bool
		probeErr     error
		listErr      error
	)
	w.referrers = func(ctx context.Context) (bool, error) {
		select {
		case <-probed:
			return referrersAPI, probeErr
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	// A failed probe fails the first read that needs its answer, or the inventory at the
	// end, but not the listing of the tags, whose error says more if it fails too.
	probe := func(ctx context.Context) error {
		defer close(probed)
		if referrersAPI, probeErr = c.hasReferrersAPI(ctx, r); probeErr != nil {
			probeErr = fmt.Errorf("probing the referrers API of %s: %w", repo, probeErr)
		}
		return nil
	}
	// Each page of tags, as it arrives, starts the resolution of its tags: each one read
	// is a root of the walk, read at once.
	list := func(ctx context.Context) error {
		err := c.listTagPages(ctx, r, func(page []string) {
			tagsListed.add(len(page))
			tagsRead.grow(len(page))
			for _, tag := range page {
				w.addRoot(func(ctx context.Context) error {
					defer tagsRead.add(1)
					return c.readTag(ctx, w, tag, remembered)
				})
			}
		})
		if err != nil {
			// distribution reports a repository whose tags are all gone as unknown; the
			// manifests an earlier inventory saw in it may still be there.
			if !isNotFound(err) || !remembered {
				listErr = fmt.Errorf("listing tags of %s: %w", repo, err)
				return listErr
			}
			c.log.Debug("repository has no tags", "repository", repo, "error", err)
		}
		m.start(tagsRead)
		return nil
	}
	w.settled = func() { m.start(read) }
	if err := w.walkAll(ctx, []task{probe, list}, nil); err != nil {
		// The listing's failure, and the probe's, say what they are; any other is a tag's,
		// a manifest's or a config's. (Those that failed because the first failure
		// stopped the walk are not reported.)
		if errors.Is(err, listErr) || errors.Is(err, probeErr) {
			return nil, err
		}
		return nil, fmt.Errorf("reading %s: %w", repo, err)
	}
	if probeErr != nil {
		return nil, probeErr
	}
	tagsOf := w.tagsOf
	for _, tags := range tagsOf {
		slices.Sort(tags)
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
		asked := m.stage("history", true)
		asked.grow(len(missing))
		m.start(asked)
		again := m.stage("images", false)
		w.counted = again
		var (
			mu    sync.Mutex
			found bool
			heads []task
		)
		for _, d := range missing {
			heads = append(heads, func(ctx context.Context) error {
				defer asked.add(1)
				desc, err := r.Resolve(ctx, d.String())
				switch {
				case isNotFound(err):
					mu.Lock()
					gone = append(gone, d)
					mu.Unlock()
					return nil
				case err != nil:
					return fmt.Errorf("resolving %s: %w", d, mapError(err))
				}
				mu.Lock()
				found = true
				mu.Unlock()
				return w.root(ctx, visit{desc: desc, confirmed: true}, "", false)
			})
		}
		w.settled = func() {
			mu.Lock()
			defer mu.Unlock()
			if found {
				m.start(again)
			}
		}
		if err := w.walkAll(ctx, heads, nil); err != nil {
			return nil, fmt.Errorf("reading %s: %w", repo, err)
		}
	}

	images, refIndexes := w.images(tagsOf, true)
	unreadable := w.unreadable(tagsOf)
	inv := &inventory.Inventory{
		Repository: displayHost(c.host) + "/" + repo,
		CapturedAt: now,
		Images:     images,
		Notes:      c.notes(images, refIndexes, referrersAPI, unreadable),
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

// meter tells the Client's Progress of phases whose work overlaps, as Inventory's do: each
// step is counted in the stage it belongs to, and reported when that stage is the current
// phase. A phase started late begins with the steps its stage has already seen.
type meter struct {
	p   Progress
	mu  sync.Mutex
	cur *stage
}

// stage is the count of one phase's steps.
type stage struct {
	m    *meter
	name string
	// known says the phase's total is known when it starts; otherwise it grows in it.
	known       bool
	done, total int
}

func (m *meter) stage(name string, known bool) *stage {
	return &stage{m: m, name: name, known: known}
}

// start makes s the current phase, ending the one before.
func (m *meter) start(s *stage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur = s
	if s.known {
		m.p.Phase(s.name, 0, s.total)
	} else {
		m.p.Phase(s.name, 0, 0)
		if s.total > 0 {
			m.p.Grow(s.total)
		}
	}
	if s.done > 0 {
		m.p.Add(s.done)
	}
}

// add records n steps of s done; grow adds n to its total. Either does nothing on a nil s.
func (s *stage) add(n int) {
	if s == nil {
		return
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.done += n
	if s.m.cur == s {
		s.m.p.Add(n)
	}
}

func (s *stage) grow(n int) {
	if s == nil {
		return
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.total += n
	if s.m.cur == s {
		s.m.p.Grow(n)
	}
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

// readTag reads the manifest tag points at, as a root of w. When earlier inventories were
// remembered (warm), the cache probably holds most manifests, so the tag costs a HEAD;
// otherwise a GET brings the digest and the manifest at once.
//
// A tag whose HEAD (or whose GET, and then HEAD) answers 404 was deleted while listing and
// is left out. A tag whose GET answers 404 but HEAD 200 is a root still to read by digest;
// one whose manifest is too large, a root already known to be unreadable: either waits
// until every tag is read, in case another tag of the same manifest brings it.
func (c *Client) readTag(ctx context.Context, w *walker, tag string, warm bool) error {
	var (
		desc       ocispec.Descriptor
		raw        []byte
		unreadable string
		err        error
	)
	if warm {
		desc, err = w.r.Resolve(ctx, tag)
		err = mapError(err)
	} else {
		desc, raw, err = w.rd.reference(ctx, tag)
		if tl, ok := errors.AsType[*tooLargeError](err); ok {
			desc, unreadable, err = tl.desc, tl.reason(), nil
		} else if isNotFound(err) {
			// Deleted while listing, or a registry that will not serve what it has:
			// if HEAD finds it, the walk tries its digest, and failing that records
			// it as unreadable.
			desc, err = w.r.Resolve(ctx, tag)
			err = mapError(err)
		}
	}
	if isNotFound(err) {
		c.log.Debug("tag deleted while listing", "repository", w.r.name, "tag", tag)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading tag %s: %w", tag, err)
	}
	v := visit{desc: desc, raw: raw, confirmed: true, unreadable: unreadable}
	return w.root(ctx, v, tag, !warm && raw == nil)
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
	w := c.newWalker(r, rd)
	w.allConfigs = true // labels check reads the labels of configs
	w.depth = 2         // the manifest and, for an index, its children
	if err := w.run(ctx, nil, []visit{{desc: desc, confirmed: true}}); err != nil {
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
