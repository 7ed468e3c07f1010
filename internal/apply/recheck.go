package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/registry"
)

// watch is what a run knows of the repository between its re-checks: the tags as last
// seen, when every tag was last resolved, and the targets it has learnt to keep.
//
// A re-check lists the tags (one request a page) and resolves, with one HEAD each, only
// the tags whose answer can change a decision about the coming batch (see recheck); every
// tag is resolved again once the last full check is older than the interval. See
// docs/commands.md (apply, "Re-checks") for why this is safe within that bound.
type watch struct {
	reg      Registry
	repo     string
	interval time.Duration
	now      func() time.Time

	// images is the inventory the plan was made from, by digest.
	images map[string]*inventory.Image
	// targets are the run's targets, by digest.
	targets map[string]target
	// guards lists, for each target, the manifests whose tags could make deleting it
	// unsafe besides its own: the indexes that list it and its subject.
	guards map[string][]string

	// seen maps each tag to the digest it pointed at when last resolved (the inventory's
	// view to begin with).
	seen map[string]string
	// lastFull is when every tag was last resolved: the inventory's time to begin with,
	// zero when unknown.
	lastFull time.Time
	// read holds the manifests pushed since the plan that a re-check has read.
	read map[string]bool
	// held are targets kept for the rest of the run, with why.
	held map[string]string
}

// newWatch starts watching the repository as the inventory inv saw it, for the targets of h.
func newWatch(reg Registry, repo string, inv *inventory.Inventory, h *header, opts Options) *watch {
	w := &watch{
		reg: reg, repo: repo, interval: opts.RecheckInterval, now: opts.Now,
		images:   make(map[string]*inventory.Image, len(inv.Images)),
		targets:  make(map[string]target, len(h.Targets)),
		guards:   make(map[string][]string),
		seen:     make(map[string]string, len(h.KnownTags)),
		lastFull: inv.CapturedAt,
		read:     make(map[string]bool),
		held:     make(map[string]string),
	}
	for i := range inv.Images {
		w.images[inv.Images[i].Digest] = &inv.Images[i]
	}
	for _, t := range h.Targets {
		w.targets[t.Digest] = t
	}
	g := inventory.NewGraph(inv.Images)
	for _, t := range h.Targets {
		i, ok := g.Index(t.Digest)
		if !ok {
			continue
		}
		for _, p := range g.Parents(i) {
			w.guards[t.Digest] = append(w.guards[t.Digest], inv.Images[p].Digest)
		}
		if s := inv.Images[i].Subject; s != "" && s != t.Digest {
			w.guards[t.Digest] = append(w.guards[t.Digest], s)
		}
	}
	for tag, d := range h.KnownTags {
		w.seen[tag] = d
	}
	return w
}

// referrersTagOf is the tag under which a registry without the referrers API keeps the
// referrers of the manifest d (the referrers tag schema): "sha256-<hex>".
func referrersTagOf(d string) string { return strings.Replace(d, ":", "-", 1) }

// subjectOfReferrersTag returns the digest a referrers tag schema tag names, or "".
func subjectOfReferrersTag(tag string) string {
	hex, ok := strings.CutPrefix(tag, "sha256-")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return ""
	}
	return "sha256:" + hex
}

// recheck reads the tags again before batch and returns the batch's targets that must be
// kept, with why. removed holds what the run has removed so far.
//
// With a registry.TagResolver it lists the tags and resolves (HEADs) only:
//
//   - tags it has not seen before (pushed since the plan, or since the last re-check);
//   - tags that pointed at a manifest this run removed (they went with it, so one listed
//     again was pushed again);
//   - tags that pointed at a target of the batch, or at a manifest that guards one (an index
//     listing it, its subject), and the batch targets' referrers tags (sha256-<hex>);
//   - every tag, when the last full check is older than the interval (or there was none).
//
// Without one, Tags resolves every tag in one call (ECR lists tags with their digests), and
// every re-check is a full one.
//
// A target is kept, for the rest of the run, when a tag points at it that did not at plan
// time; when a manifest a tag points at (pushed since, or pushed again after this run
// deleted it) lists it or names it as subject; when its referrers tag moved or appeared (a
// referrer was pushed since); and when a tag that pointed at it vanished, from the list or
// between the list and its HEAD. A listing or a HEAD that fails is an error: the run stops
// before deleting anything of the batch.
func (w *watch) recheck(ctx context.Context, batch []target, removed map[string]bool) (map[string]string, error) {
	started := w.now()
	full := w.interval < 0 || w.lastFull.IsZero() || started.Sub(w.lastFull) >= w.interval
	var names []string
	var now map[string]string // the tags resolved, with their digests
	asked := map[string]bool{}
	if tr, ok := w.reg.(registry.TagResolver); ok {
		var err error
		if names, err = tr.TagNames(ctx, w.repo); err != nil {
			return nil, err
		}
		listed := make(map[string]bool, len(names))
		digests, tags := w.atRisk(batch)
		var ask []string
		for _, name := range names {
			listed[name] = true
			d, known := w.seen[name]
			if full || !known || removed[d] || digests[d] || tags[name] {
				ask = append(ask, name)
				asked[name] = true
			}
		}
		// A tag missing from the list that this run did not remove with its manifest is
		// asked for by name: the list may have missed it.
		for _, name := range sortedKeys(w.seen) {
			if !listed[name] && !removed[w.seen[name]] {
				ask = append(ask, name)
				asked[name] = true
			}
		}
		now = map[string]string{}
		if len(ask) > 0 {
			if now, err = tr.Resolve(ctx, w.repo, ask); err != nil {
				return nil, err
			}
		}
	} else {
		tags, err := w.reg.Tags(ctx, w.repo)
		if err != nil {
			return nil, err
		}
		now, full = tags, true
		for name := range w.seen {
			asked[name] = true
		}
	}
	if full {
		w.lastFull = started
	}

	// A tag that vanished (from the list, or between the list and its HEAD) keeps the target
	// it pointed at unless that is gone too: a tag can vanish while it is being moved, and
	// a vanished tag is no proof that what it pointed at may go.
	var vanished []string
	why := map[string]string{}
	for _, name := range sortedKeys(w.seen) {
		if _, ok := now[name]; ok || !asked[name] {
			continue
		}
		d := w.seen[name]
		delete(w.seen, name)
		if _, target := w.targets[d]; target && !removed[d] {
			if _, dup := why[d]; !dup {
				vanished = append(vanished, d)
				why[d] = fmt.Sprintf("its tag %q vanished since the plan while the manifest stayed (a tag can vanish while it is being moved)", name)
			}
		}
	}
	if len(vanished) > 0 {
		there, err := w.exist(ctx, vanished)
		if err != nil {
			return nil, err
		}
		for _, d := range vanished {
			if there[d] {
				w.hold(d, why[d])
			}
		}
	}

	fresh := map[string][]string{} // manifests unknown to the plan → tags pointing at them
	for _, name := range sortedKeys(now) {
		d := now[name]
		prev, known := w.seen[name]
		w.seen[name] = d
		if t, ok := w.targets[d]; ok && !removed[d] && !slices.Contains(t.Tags, name) {
			w.hold(d, fmt.Sprintf("tagged %q since the plan", name))
		}
		if subject := subjectOfReferrersTag(name); subject != "" && (!known || prev != d) && !removed[subject] {
			w.hold(subject, fmt.Sprintf("a referrer was pushed since the plan (its referrers index %s moved)", name))
		}
		img, ok := w.images[d]
		switch {
		case !ok:
			if !w.read[d] {
				fresh[d] = append(fresh[d], name)
			}
		case removed[d]:
			// This run deleted it, and someone pushed it again: what it references is known.
			w.holdReferenced(d, img.Children, img.Subject, name)
		}
		// A target the plan knows holds what it references through the waves (After);
		// a kept image's references are kept by the plan.
	}
	if err := w.readFresh(ctx, fresh); err != nil {
		return nil, err
	}

	skip := map[string]string{}
	for _, t := range batch {
		if why, ok := w.held[t.Digest]; ok {
			skip[t.Digest] = why
		}
	}
	return skip, nil
}

// exist reports which of digests the registry still has: resolved together (a HEAD each),
// listed (a registry.Lister), or read one by one.
func (w *watch) exist(ctx context.Context, digests []string) (map[string]bool, error) {
	there := map[string]bool{}
	switch b := w.reg.(type) {
	case registry.TagResolver:
		found, err := b.Resolve(ctx, w.repo, digests)
		if err != nil {
			return nil, err
		}
		for d := range found {
			there[d] = true
		}
	case registry.Lister:
		all, err := b.Digests(ctx, w.repo)
		if err != nil {
			return nil, err
		}
		for _, d := range digests {
			there[d] = all[d]
		}
	default:
		for _, d := range digests {
			_, err := w.reg.Manifest(ctx, w.repo, d)
			switch {
			case err == nil:
				there[d] = true
			case !errors.Is(err, registry.ErrNotFound):
				return nil, fmt.Errorf("reading %s: %w", d, err)
			}
		}
	}
	return there, nil
}

// atRisk returns the digests and tag names whose tags a re-check before batch must resolve
// however recently it resolved them: the batch's targets and the manifests guarding them,
// and the batch targets' referrers tags.
func (w *watch) atRisk(batch []target) (digests, tags map[string]bool) {
	digests, tags = map[string]bool{}, map[string]bool{}
	for _, t := range batch {
		digests[t.Digest] = true
		for _, g := range w.guards[t.Digest] {
			digests[g] = true
		}
		tags[referrersTagOf(t.Digest)] = true
	}
	return digests, tags
}

// readFresh reads the manifests pushed since the plan that tags point at, and the indexes
// among their children that the plan does not know, and keeps the targets they reference.
func (w *watch) readFresh(ctx context.Context, fresh map[string][]string) error {
	queue := sortedKeys(fresh)
	if len(queue) > maxFreshManifests {
		return fmt.Errorf("%d tags were pushed or moved since the plan (more than %d); plan again", len(queue), maxFreshManifests)
	}
	via := map[string]string{}
	for d, tags := range fresh {
		via[d] = tags[0]
	}
	for reads := 0; len(queue) > 0; reads++ {
		d := queue[0]
		queue = queue[1:]
		if w.read[d] {
			continue
		}
		if reads == maxFreshManifests {
			return fmt.Errorf("more than %d manifests were pushed since the plan; plan again", maxFreshManifests)
		}
		m, err := w.reg.Manifest(ctx, w.repo, d)
		if errors.Is(err, registry.ErrNotFound) {
			// The registry says it does not exist (not merely that it cannot be read): the
			// tag moved again, or was deleted, since the list. Resolve its tags next time.
			for _, tag := range fresh[d] {
				delete(w.seen, tag)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", d, err)
		}
		w.read[d] = true
		w.holdReferenced(d, m.Children, m.Subject, via[d])
		for _, c := range m.Children {
			if _, known := w.images[c.Digest]; !known && !w.read[c.Digest] && isIndexMediaType(c.MediaType) {
				via[c.Digest] = via[d]
				queue = append(queue, c.Digest)
			}
		}
	}
	return nil
}

func isIndexMediaType(mt string) bool {
	return mt == inventory.MediaTypeOCIIndex || mt == inventory.MediaTypeDockerList
}

// holdReferenced keeps the targets the manifest d lists or names as subject; tag is how
// the re-check came to it.
func (w *watch) holdReferenced(d string, children []inventory.Child, subject, tag string) {
	for _, c := range children {
		w.hold(c.Digest, fmt.Sprintf("referenced since the plan by index %s (%s)", inventory.ShortDigest(d), tag))
	}
	if subject != "" && subject != d {
		w.hold(subject, fmt.Sprintf("referenced since the plan by %s (%s)", inventory.ShortDigest(d), tag))
	}
}

// hold keeps the target d for the rest of the run, for the first reason given.
func (w *watch) hold(d, why string) {
	if _, ok := w.targets[d]; !ok {
		return
	}
	if _, already := w.held[d]; !already {
		w.held[d] = why
	}
}

// validate checks, after the run, the children of kept indexes that its deletions could
// have touched: those that were themselves targets sent to the registry (attempted), or
// children of one. A kept index that shares no child with anything deleted is not read.
// Where the backend lists digests without reading manifests (a registry.Lister), it lists
// them, since reading may count as a pull; where it resolves references (a
// registry.TagResolver), it HEADs the children; otherwise it reads them. Each child checked
// adds one to the "check" phase.
func (w *watch) validate(ctx context.Context, h *header, attempted map[string]bool, rep progress.Reporter) []string {
	touched := map[string]bool{}
	for d := range attempted {
		touched[d] = true
		if img, ok := w.images[d]; ok {
			for _, c := range img.Children {
				touched[c.Digest] = true
			}
		}
	}
	type check struct{ index, child string }
	var checks []check
	var refs []string
	for _, idx := range sortedKeys(h.KeptIndexes) {
		for _, child := range h.KeptIndexes[idx] {
			if touched[child] {
				checks = append(checks, check{idx, child})
				if !slices.Contains(refs, child) {
					refs = append(refs, child)
				}
			}
		}
	}
	if len(checks) == 0 {
		return nil
	}
	lost := func(c check) string {
		return fmt.Sprintf("kept index %s lost its child %s", inventory.ShortDigest(c.index), inventory.ShortDigest(c.child))
	}
	var problems []string
	var have map[string]bool
	switch b := w.reg.(type) {
	case registry.Lister:
		rep.Phase("check", 0, len(checks))
		ds, err := b.Digests(ctx, w.repo)
		if err != nil {
			return []string{fmt.Sprintf("could not list %s to check the kept indexes: %v", w.repo, err)}
		}
		have = ds
		rep.Add(len(checks))
	case registry.TagResolver:
		rep.Phase("check", 0, 0)
		found, err := b.Resolve(ctx, w.repo, refs)
		if err != nil {
			return []string{fmt.Sprintf("could not check the children of the kept indexes: %v", err)}
		}
		have = map[string]bool{}
		for ref := range found {
			have[ref] = true
		}
	default:
		rep.Phase("check", 0, len(refs))
		have = map[string]bool{}
		failed := map[string]error{}
		for _, child := range refs {
			_, err := w.reg.Manifest(ctx, w.repo, child)
			rep.Add(1)
			switch {
			case err == nil:
				have[child] = true
			case !errors.Is(err, registry.ErrNotFound):
				failed[child] = err
				have[child] = true
			}
		}
		for _, c := range checks {
			if err := failed[c.child]; err != nil {
				problems = append(problems, fmt.Sprintf("could not check child %s of kept index %s: %v", inventory.ShortDigest(c.child), inventory.ShortDigest(c.index), err))
			}
		}
	}
	for _, c := range checks {
		if !have[c.child] {
			problems = append(problems, lost(c))
		}
	}
	return problems
}
