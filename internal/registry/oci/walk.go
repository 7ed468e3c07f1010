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

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// walker reads a graph of manifests, each one once, on as many goroutines as the Client
// has requests in flight: the roots as they are found (tags as their list arrives, or the
// digests an earlier inventory saw), and what they lead to (index children, referrers) as
// soon as it is known, with no wait between one level and the next. Each task sends its
// requests one after another, so no more than that many are in flight at once.
//
// Edges found while roots are still being found wait until all of them are: a manifest
// that a tag names too is then read as the root it is, from the GET of its tag, not read
// again by digest; and one that exists, as its tag says, is unreadable, not gone, when a
// GET by digest answers 404.
type walker struct {
	c  *Client
	r  *repository
	rd *reader
	// referrers, when set, says whether to list the referrers of every manifest through
	// the referrers API, waiting for the registry to have been asked. Without the API
	// there is nothing to ask: the referrers tag schema indexes are tagged, so they and
	// the referrers they list are reached from the tags. nil lists none.
	referrers func(context.Context) (bool, error)
	// allConfigs says to read the config of every image, even one whose own annotation
	// gives its creation time (see needsConfig).
	allConfigs bool
	// counted, when set, counts the manifests read: its total grows by each manifest found,
	// and each one read adds one.
	counted *stage
	// depth bounds how many edges from a root are followed; edges beyond it are left
	// unread, and set tooDeep if they lead to a manifest not read.
	depth int

	mu      sync.Mutex
	nodes   map[digest.Digest]*node // nil: being read, or gone (404 to GET and HEAD)
	tagsOf  map[digest.Digest][]string
	tooDeep bool
	// deferred holds the roots whose tag did not bring the manifest (its GET answered 404
	// but HEAD 200, or it is too large): another tag of the same manifest may bring it.
	// They are read once every root is found.
	deferred map[digest.Digest]visit
	// held holds the edges found while roots are still being found.
	held []visit

	// The tasks: queued, with the count of those queued or running, of those finding
	// roots, and the first error.
	work    sync.Cond
	queue   []task
	busy    int
	rooting int
	err     error
	// settled, when set, is called when the last task that finds roots ends, after the
	// deferred roots and held edges have been queued.
	settled func()
}

// task is one unit of a walk's work: it sends its requests one after another.
type task func(ctx context.Context) error

func (c *Client) newWalker(r *repository, rd *reader) *walker {
	w := &walker{
		c:        c,
		r:        r,
		rd:       rd,
		depth:    MaxGraphDepth,
		nodes:    make(map[digest.Digest]*node),
		tagsOf:   make(map[digest.Digest][]string),
		deferred: make(map[digest.Digest]visit),
	}
	w.work.L = &w.mu
	return w
}

// run runs tasks, and every task they add, on the Client's concurrency of goroutines, and
// returns when none is left or at the first error. Those that find roots (rooting) come
// first: edges found meanwhile are held until they are all done.
func (w *walker) run(ctx context.Context, rooting []task, reads []visit) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.mu.Lock()
	w.err = nil
	for _, t := range rooting {
		w.pushLocked(t, true)
	}
	if len(rooting) == 0 {
		w.settleLocked()
	}
	for _, v := range reads {
		w.followLocked(v)
	}
	w.mu.Unlock()

	var wg sync.WaitGroup
	for range w.c.concurrency {
		wg.Go(func() { w.worker(ctx, cancel) })
	}
	wg.Wait()
	if w.err != nil {
		return w.err
	}
	return ctx.Err()
}

// worker runs queued tasks until none is left, or one fails.
func (w *walker) worker(ctx context.Context, cancel context.CancelFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.queue) == 0 && w.busy > 0 && w.err == nil {
			w.work.Wait()
		}
		if w.err != nil || len(w.queue) == 0 {
			return
		}
		t := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		w.mu.Unlock()
		err := t(ctx)
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
			cancel()
		}
		w.busy--
		if w.busy == 0 || w.err != nil {
			w.work.Broadcast()
		}
	}
}

// pushLocked queues t; rooting says it finds roots. It is called with w.mu held.
func (w *walker) pushLocked(t task, rooting bool) {
	if rooting {
		w.rooting++
		inner := t
		t = func(ctx context.Context) error {
			err := inner(ctx)
			w.mu.Lock()
			w.rooting--
			settled := w.rooting == 0
			if settled {
				w.settleLocked()
			}
			w.mu.Unlock()
			if settled && w.settled != nil {
				w.settled()
			}
			return err
		}
	}
	w.queue = append(w.queue, t)
	w.busy++
	w.work.Signal()
}

// addRoot queues a task that finds roots, from within another task.
func (w *walker) addRoot(t task) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pushLocked(t, true)
}

// settleLocked queues the deferred roots and the held edges, once every root is found.
func (w *walker) settleLocked() {
	for _, d := range slices.Sorted(maps.Keys(w.deferred)) {
		w.followLocked(w.deferred[d])
	}
	clear(w.deferred)
	// By digest; of the edges to one manifest (only the first is followed), one that does
	// not mark it an attestation first: where indexes disagree, its config is read.
	held := w.held
	w.held = nil
	slices.SortFunc(held, func(a, b visit) int {
		if c := strings.Compare(string(a.desc.Digest), string(b.desc.Digest)); c != 0 {
			return c
		}
		return cmp.Compare(btoi(a.attestation), btoi(b.attestation))
	})
	for _, v := range held {
		w.followLocked(v)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// followLocked queues the reading of v, unless it is read already, held while roots are
// found, or too deep.
func (w *walker) followLocked(v visit) {
	if w.rooting > 0 {
		w.held = append(w.held, v)
		return
	}
	if _, ok := w.nodes[v.desc.Digest]; ok {
		return
	}
	if v.depth >= w.depth {
		w.tooDeep = true
		return
	}
	w.nodes[v.desc.Digest] = nil
	w.counted.grow(1)
	w.pushLocked(func(ctx context.Context) error { return w.visit(ctx, v) }, false)
}

// root takes v, found under tag (or, for tag "", a digest an earlier inventory saw), as a
// root, and reads it now unless it is read already. A root whose tag did not bring the
// manifest (raw nil; defer) waits until every root is found.
func (w *walker) root(ctx context.Context, v visit, tag string, deferRead bool) error {
	d := v.desc.Digest
	w.mu.Lock()
	if tag != "" {
		w.tagsOf[d] = append(w.tagsOf[d], tag)
	}
	if deferRead {
		if _, ok := w.deferred[d]; !ok {
			w.deferred[d] = v
		}
		w.mu.Unlock()
		return nil
	}
	if _, ok := w.nodes[d]; ok {
		w.mu.Unlock()
		return nil
	}
	w.nodes[d] = nil
	delete(w.deferred, d)
	w.mu.Unlock()
	w.counted.grow(1)
	return w.visit(ctx, v)
}

// visit reads v, records what it read, and follows its edges.
func (w *walker) visit(ctx context.Context, v visit) error {
	n, edges, err := w.read(ctx, v)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.nodes[v.desc.Digest] = n
	for _, e := range edges {
		e.depth = v.depth + 1
		w.followLocked(e)
	}
	w.mu.Unlock()
	w.counted.add(1)
	return nil
}

// walkAll reads roots and everything they lead to, to MaxGraphDepth.
func (w *walker) walkAll(ctx context.Context, rooting []task, reads []visit) error {
	if err := w.run(ctx, rooting, reads); err != nil {
		return err
	}
	if w.tooDeep {
		return fmt.Errorf("manifest graph deeper than %d levels", MaxGraphDepth)
	}
	return nil
}

// reasonGET404 is why a manifest the registry says exists, but will not serve, is unreadable.
const reasonGET404 = "GET answers 404 although HEAD answers 200"

// visit is a manifest to read.
type visit struct {
	desc ocispec.Descriptor
	raw  []byte // the manifest, when already fetched
	// depth is how many edges lead to it from a root.
	depth int
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

	if wantsConfig(m) && !v.attestation && (w.allConfigs || needsConfig(m)) {
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
	if w.referrers == nil {
		return n, edges, nil
	}
	api, err := w.referrers(ctx)
	if err != nil {
		return nil, nil, err
	}
	if api {
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
