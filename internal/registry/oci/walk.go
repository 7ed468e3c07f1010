package oci

import (
	"cmp"
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
)

// walker reads a graph of manifests breadth first, each manifest once.
type walker struct {
	c  *Client
	r  *repository
	rd *reader
	// referrers says to list the referrers of every manifest through the referrers API.
	// Without the API there is nothing to ask: the referrers tag schema indexes are tagged,
	// so they and the referrers they list are reached from the tags.
	referrers bool
	// counted says to report the manifests read to the Client's progress: the total grows
	// by each level's manifests, and each one read adds one.
	counted bool

	mu    sync.Mutex
	nodes map[digest.Digest]*node // nil: gone (404 to GET and HEAD) by the time it was read
}

// reasonGET404 is why a manifest the registry says exists, but will not serve, is unreadable.
const reasonGET404 = "GET answers 404 although HEAD answers 200"

// visit is a manifest to read.
type visit struct {
	desc ocispec.Descriptor
	raw  []byte   // the manifest, when already fetched
	tags []string // for roots: the tags pointing at it
	// attestation marks a buildx attestation manifest: its config holds nothing worth a
	// request (no labels, no time).
	attestation bool
	// confirmed says the registry has answered that the manifest exists (a tag or a HEAD
	// resolved it), so a 404 to its GET makes it unreadable, not gone.
	confirmed bool
	// unreadable, when set, says why the manifest cannot be read, found out before the walk.
	unreadable string
}

// node is a manifest read.
type node struct {
	m   *inventory.Manifest
	cfg *imageConfig // nil when not an image, or not read
	// unreadable, when set, says why the manifest, which exists, could not be read
	// completely: m then holds only its media type, and its children are unknown.
	unreadable string
}

// unreadableNode is a manifest of mediaType that exists but could not be read, for why.
func unreadableNode(mediaType, why string) *node {
	return &node{m: &inventory.Manifest{MediaType: mediaType}, unreadable: why}
}

// walk reads the manifests of frontier and everything they lead to, breadth first, for at
// most levels levels, and returns the manifests it left unread.
func (w *walker) walk(ctx context.Context, frontier []visit, levels int) ([]visit, error) {
	for range levels {
		if len(frontier) == 0 {
			break
		}
		w.mu.Lock()
		batch := frontier[:0:0]
		for _, v := range frontier {
			if _, ok := w.nodes[v.desc.Digest]; ok {
				continue
			}
			w.nodes[v.desc.Digest] = nil
			batch = append(batch, v)
		}
		w.mu.Unlock()
		if w.counted {
			w.c.progress.Grow(len(batch))
		}

		var (
			next []visit
			nmu  sync.Mutex
		)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(w.c.concurrency)
		for _, v := range batch {
			g.Go(func() error {
				n, edges, err := w.read(gctx, v)
				if err != nil {
					return err
				}
				w.mu.Lock()
				w.nodes[v.desc.Digest] = n
				w.mu.Unlock()
				if w.counted {
					w.c.progress.Add(1)
				}
				nmu.Lock()
				next = append(next, edges...)
				nmu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		slices.SortFunc(next, func(a, b visit) int { return strings.Compare(string(a.desc.Digest), string(b.desc.Digest)) })
		frontier = next
	}
	return frontier, nil
}

// walkAll is walk to the bottom, or to MaxGraphDepth.
func (w *walker) walkAll(ctx context.Context, frontier []visit) error {
	rest, err := w.walk(ctx, frontier, MaxGraphDepth)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("manifest graph deeper than %d levels", MaxGraphDepth)
	}
	return err
}

// read reads one manifest (and its config), and returns the manifests it leads to.
//
// A manifest that no longer exists gives a nil node: its GET answers 404 and, unless the
// registry confirmed it exists, so does a HEAD of it. A manifest that exists but cannot be
// read completely (GET answers 404 although HEAD answers 200, too large, not parseable)
// gives an unreadable node, which leads nowhere: it may be an index with unknown children.
func (w *walker) read(ctx context.Context, v visit) (*node, []visit, error) {
	d := v.desc.Digest
	raw, mediaType := v.raw, v.desc.MediaType
	if v.unreadable != "" {
		w.warnUnreadable(d, v.unreadable)
		return unreadableNode(mediaType, v.unreadable), nil, nil
	}
	if raw == nil {
		var mt string
		var err error
		raw, mt, err = w.rd.manifest(ctx, d)
		if tl, ok := errors.AsType[*tooLargeError](err); ok {
			w.warnUnreadable(d, tl.reason())
			return unreadableNode(cmp.Or(tl.desc.MediaType, mediaType), tl.reason()), nil, nil
		}
		if isNotFound(err) {
			if !v.confirmed {
				// Nothing but an index or a referrers list named it: ask whether it exists.
				desc, err := w.r.Resolve(ctx, d.String())
				if isNotFound(err) {
					w.c.log.Debug("manifest gone", "repository", w.r.name, "digest", d.String())
					return nil, nil, nil
				}
				if err != nil {
					return nil, nil, fmt.Errorf("resolving manifest %s: %w", d, mapError(err))
				}
				mediaType = cmp.Or(desc.MediaType, mediaType)
			}
			w.warnUnreadable(d, reasonGET404)
			return unreadableNode(mediaType, reasonGET404), nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading manifest %s: %w", d, err)
		}
		if mt != "" {
			mediaType = mt
		}
	}
	m, err := parseManifest(raw, mediaType)
	if err != nil {
		// Keep it: it is in the registry, under its tags, even if shipshape cannot read it;
		// and it may be an index, so what it references is unknown.
		why := "the manifest cannot be parsed: " + err.Error()
		w.warnUnreadable(d, why)
		return unreadableNode(mediaType, why), nil, nil
	}
	n := &node{m: m}

	if wantsConfig(m) && !v.attestation {
		b, err := w.rd.config(ctx, descriptor(*m.Config))
		switch {
		case isNotFound(err):
			w.c.log.Debug("config blob gone", "repository", w.r.name, "digest", m.Config.Digest)
		case err != nil:
			return nil, nil, fmt.Errorf("reading config %s of %s: %w", m.Config.Digest, d, err)
		default:
			if n.cfg, err = parseConfig(b); err != nil {
				w.c.log.Warn("unreadable image config", "repository", w.r.name, "digest", m.Config.Digest, "error", err)
			}
		}
	}

	var edges []visit
	if m.IsIndex() {
		for _, child := range m.Manifests {
			if digest.Digest(child.Digest).Validate() != nil {
				continue
			}
			edges = append(edges, visit{
				desc:        descriptor(child),
				attestation: child.Annotations[inventory.AnnotationRefType] == inventory.RefTypeAttestation,
			})
		}
	}
	if w.referrers {
		subject := ocispec.Descriptor{MediaType: m.MediaType, Digest: d, Size: int64(len(raw))}
		err := w.r.Referrers(ctx, subject, "", func(page []ocispec.Descriptor) error {
			for _, ref := range page {
				if ref.Digest.Validate() == nil {
					edges = append(edges, visit{desc: ref})
				}
			}
			return nil
		})
		if err != nil && !isNotFound(err) {
			return nil, nil, fmt.Errorf("listing referrers of %s: %w", d, mapError(err))
		}
	}
	return n, edges, nil
}

// warnUnreadable logs a manifest that exists but cannot be read.
func (w *walker) warnUnreadable(d digest.Digest, why string) {
	w.c.log.Warn("unreadable manifest", "repository", w.r.name, "digest", d.String(), "reason", why)
}

// unreadable lists the manifests that exist but could not be read, by digest, with their
// tags.
func (w *walker) unreadable(tagsOf map[digest.Digest][]string) []inventory.Unreadable {
	var out []inventory.Unreadable
	for _, d := range slices.Sorted(maps.Keys(w.nodes)) {
		if n := w.nodes[d]; n != nil && n.unreadable != "" {
			out = append(out, inventory.Unreadable{Digest: d.String(), Tags: slices.Clone(tagsOf[d]), Reason: n.unreadable})
		}
	}
	return out
}

// images assembles the inventory's images from the manifests read, sorted by digest, and
// counts the referrers tag schema indexes among them. With times, each image's PushedAt is
// derived from the metadata of it and its relatives (see pushTimes).
func (w *walker) images(tagsOf map[digest.Digest][]string, times bool) ([]inventory.Image, int) {
	nodes := make(map[digest.Digest]*node, len(w.nodes))
	for d, n := range w.nodes {
		if n != nil {
			nodes[d] = n
		}
	}
	// A referrers tag schema index (an index tagged sha256-<hex>, where a registry without
	// the referrers API keeps the referrers of sha256:<hex>) is a real manifest and stays in
	// the inventory, with its referrers as children. But it is bookkeeping, not a build: it
	// shares no time with its children, and it belongs to the manifest its tag names, which
	// it gets as its subject. So it lives and goes with that manifest, as referrers do, and
	// a rule matching "sha256-" tags does not break the referrers of a live image.
	refIndexes := make(map[digest.Digest]digest.Digest)
	for d, n := range nodes {
		if n.m.MediaType != ocispec.MediaTypeImageIndex {
			continue
		}
		if i := slices.IndexFunc(tagsOf[d], referrersTag.MatchString); i >= 0 {
			refIndexes[d] = digest.Digest(strings.Replace(tagsOf[d][i], "-", ":", 1))
		}
	}

	byDigest := make(map[digest.Digest]*inventory.Image, len(nodes))
	images := make([]inventory.Image, 0, len(nodes))
	for _, d := range slices.Sorted(maps.Keys(nodes)) {
		n := nodes[d]
		img := describe(d.String(), n.m, n.cfg)
		if n.unreadable != "" {
			img.Children = nil // unknown, not none
		}
		img.Tags = slices.Clone(tagsOf[d])
		if subject, ok := refIndexes[d]; ok && img.Subject == "" {
			img.Subject = subject.String()
		}
		images = append(images, img)
	}
	for i := range images {
		byDigest[digest.Digest(images[i].Digest)] = &images[i]
	}

	// An index is as large as its largest child, as ECR reports it.
	var size func(d digest.Digest, depth int) int64
	size = func(d digest.Digest, depth int) int64 {
		img := byDigest[d]
		switch {
		case img == nil:
			return 0
		case !img.IsIndex() || depth > MaxGraphDepth:
			return img.SizeBytes
		}
		var largest int64
		for _, c := range img.Children {
			largest = max(largest, size(digest.Digest(c.Digest), depth+1))
		}
		return largest
	}
	for i := range images {
		if images[i].IsIndex() {
			images[i].SizeBytes = size(digest.Digest(images[i].Digest), 0)
		}
	}

	if times {
		for d, t := range pushTimes(nodes, refIndexes) {
			byDigest[d].PushedAt = t
		}
	}
	return images, len(refIndexes)
}

// pushTimes gives each manifest a push time from image metadata, as the registry records
// none. A manifest's own org.opencontainers.image.created annotation comes first; then,
// for an index's child, the index's annotation; then the config's
// org.opencontainers.image.created label; then the config's created field. An index with
// none of its own takes the latest time of its children, and a child still without one
// (a buildx attestation manifest) takes its index's. Referrers take nothing from their
// subject. Times before 1990 (reproducible-build epochs) count as unknown.
func pushTimes(nodes map[digest.Digest]*node, refIndexes map[digest.Digest]digest.Digest) map[digest.Digest]time.Time {
	parents := make(map[digest.Digest][]digest.Digest)
	for d, n := range nodes {
		if _, ok := refIndexes[d]; ok || !n.m.IsIndex() {
			continue
		}
		for _, c := range n.m.Manifests {
			cd := digest.Digest(c.Digest)
			if _, ok := nodes[cd]; ok && cd != d && !slices.Contains(parents[cd], d) {
				parents[cd] = append(parents[cd], d)
			}
		}
	}
	earliest := func(ts ...time.Time) time.Time {
		var e time.Time
		for _, t := range ts {
			if !t.IsZero() && (e.IsZero() || t.Before(e)) {
				e = t
			}
		}
		return e
	}

	times := make(map[digest.Digest]time.Time, len(nodes))
	for d, n := range nodes {
		t := annotatedTime(n.m)
		if t.IsZero() {
			for _, p := range parents[d] {
				t = earliest(t, annotatedTime(nodes[p].m))
			}
		}
		if t.IsZero() {
			t = n.cfg.configTime()
		}
		times[d] = t
	}
	// Indexes without a time take their latest child's; children without one take their
	// earliest index's. Each round settles one more level of nesting.
	for range MaxGraphDepth {
		changed := false
		for d, n := range nodes {
			if _, ok := refIndexes[d]; ok || !times[d].IsZero() || !n.m.IsIndex() {
				continue
			}
			var latest time.Time
			for _, c := range n.m.Manifests {
				if t := times[digest.Digest(c.Digest)]; t.After(latest) {
					latest = t
				}
			}
			if !latest.IsZero() {
				times[d], changed = latest, true
			}
		}
		for d := range nodes {
			if !times[d].IsZero() {
				continue
			}
			var t time.Time
			for _, p := range parents[d] {
				t = earliest(t, times[p])
			}
			if !t.IsZero() {
				times[d], changed = t, true
			}
		}
		if !changed {
			break
		}
	}
	for d, t := range times {
		if t.IsZero() {
			delete(times, d)
		}
	}
	return times
}
