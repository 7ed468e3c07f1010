package quarantine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
)

// Outcomes of restoring an entry (Restored.Outcome).
const (
	OutcomeRestored = "restored"
	OutcomePresent  = "present"
	OutcomeFailed   = "failed"
)

// Where the layers of a restored entry came from (Restored.Blobs).
const (
	BlobsQuarantine = "quarantine"
	BlobsRegistry   = "registry"
)

// maxListed bounds the tags and runs an error about an empty selection lists.
const maxListed = 10

// Selection picks what to restore: the entries of Host/Repository whose manifest is
// Digest, or the newest that had Tag (what the tag last named), or those of Run, or All.
// Exactly one of Digest, Tag, Run and All is set.
type Selection struct {
	Host, Repository string
	Digest, Tag, Run string
	All              bool
}

// describe says what s asks for, checking that it asks for one thing.
func (s Selection) describe() (string, error) {
	var what []string
	if s.Digest != "" {
		what = append(what, "digest "+s.Digest)
	}
	if s.Tag != "" {
		what = append(what, fmt.Sprintf("tag %q", s.Tag))
	}
	if s.Run != "" {
		what = append(what, "run "+s.Run)
	}
	if s.All {
		what = append(what, "everything")
	}
	if s.Host == "" || s.Repository == "" {
		return "", errors.New("restoring: a selection needs a host and a repository")
	}
	if len(what) != 1 {
		return "", fmt.Errorf("restoring from %s/%s: select one of a digest, a tag, a run or all, not %d", s.Host, s.Repository, len(what))
	}
	return what[0], nil
}

// matches reports whether s selects e (a Tag selection is narrowed to the newest later).
func (s Selection) matches(e Entry) bool {
	if e.Host != s.Host || e.Repository != s.Repository {
		return false
	}
	switch {
	case s.Digest != "":
		return e.Digest == s.Digest
	case s.Tag != "":
		return slices.Contains(e.Tags, s.Tag)
	case s.Run != "":
		return e.Run == s.Run
	}
	return s.All
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Retag moves a tag that now points elsewhere back to the restored manifest; without
	// it such a tag is left alone and reported in Restored.Kept.
	Retag bool
	// DryRun reports what would be done and changes nothing: outcomes are those a restore
	// would have.
	DryRun bool
}

// Restored is the outcome of restoring one entry.
type Restored struct {
	Entry Entry `json:"entry"`
	// Outcome is OutcomeRestored, OutcomePresent (the manifest was in the repository
	// already) or OutcomeFailed.
	Outcome string `json:"outcome"`
	// Blobs says where the layers came from: BlobsQuarantine (some were copied back),
	// BlobsRegistry (all were still in the registry, not yet garbage-collected), or "" for
	// a graph without layers, or nothing copied.
	Blobs string `json:"blobs,omitempty"`
	// Tags are the tags created.
	Tags []string `json:"tags,omitempty"`
	// Kept are the tags that point elsewhere and were left alone: tag → the digest it
	// points at. A tag that several restored entries had goes to the newest; the others
	// report it here.
	Kept map[string]string `json:"kept,omitempty"`
	// Moved are the tags moved back, with RestoreOptions.Retag.
	Moved []string `json:"moved,omitempty"`
	// With is the entry this one came back with, in this restore: the index that lists
	// it, or the referrer whose subject it is. Its tags are still its own to restore.
	With string `json:"with,omitempty"`
	// Detail says why it failed.
	Detail string `json:"detail,omitempty"`
}

// Restore puts the selected entries back into dst, the repository sel names: each graph
// children before their index (CopyGraph's order), and the entries subjects before their
// referrers; then it re-creates their tags: a tag that does not exist is created, one that
// points at the digest already is left, and one that points elsewhere is reported in Kept,
// or moved with RestoreOptions.Retag.
//
// Before copying a graph whose layers were not quarantined, it asks dst whether every layer
// not under a manifest dst has is still there; if one is not, it fails that entry with a
// Detail saying so and pushes nothing of it: never a manifest whose blobs are missing.
//
// Failures of single entries are in their Restored; the error is for a selection that
// matches nothing (wrapping ErrNoMatch, and naming what the quarantine holds of the
// repository) or a cancelled ctx.
func (q *Quarantine) Restore(ctx context.Context, dst oras.Target, sel Selection, opts RestoreOptions) ([]Restored, error) {
	what, err := sel.describe()
	if err != nil {
		return nil, err
	}
	q.op.RLock()
	defer q.op.RUnlock()
	q.mu.Lock()
	closed, recs := q.closed, slices.Clone(q.recs)
	q.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("restoring %s of %s/%s: %w", what, sel.Host, sel.Repository, ErrClosed)
	}

	var held, selected []*putRecord
	for _, r := range recs {
		if r.Host == sel.Host && r.Repository == sel.Repository {
			held = append(held, r)
			if sel.matches(r.Entry) {
				selected = append(selected, r)
			}
		}
	}
	if sel.Tag != "" && len(selected) > 1 {
		// The ledger is in time order: the last is what the tag named last.
		selected = selected[len(selected)-1:]
	}
	if len(selected) == 0 {
		return nil, q.noMatch(sel, what, held)
	}
	// Each tag goes to the newest selected entry that had it: the last in the ledger,
	// which is in time order.
	owner := make(map[string]string)
	for _, r := range selected {
		for _, tag := range r.Tags {
			owner[tag] = r.Digest
		}
	}
	selected = restoreOrder(selected)

	done := make(map[string]bool)   // manifests restored or found in this call
	with := make(map[string]string) // manifests restored in another entry's graph → that entry
	var out []Restored
	for _, r := range selected {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("restoring %s of %s/%s: %w", what, sel.Host, sel.Repository, err)
		}
		out = append(out, q.restore(ctx, dst, r.Entry, owner, done, with, opts))
	}
	return out, nil
}

// restoreOrder orders entries so that a subject comes before its referrers, keeping the
// ledger's order otherwise.
func restoreOrder(recs []*putRecord) []*putRecord {
	byDigest := make(map[string]*putRecord, len(recs))
	for _, r := range recs {
		byDigest[r.Digest] = r
	}
	depth := func(r *putRecord) int {
		d := 0
		for s := r.Subject; s != "" && d < maxGraphDepth; d++ {
			sr, ok := byDigest[s]
			if !ok {
				break
			}
			s = sr.Subject
		}
		return d
	}
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b *putRecord) int { return depth(a) - depth(b) })
	return out
}

// restore restores one entry.
func (q *Quarantine) restore(ctx context.Context, dst oras.Target, e Entry, owner map[string]string, done map[string]bool, with map[string]string, opts RestoreOptions) Restored {
	r := Restored{Entry: e, Kept: map[string]string{}}
	r.Entry.Tags = slices.Clone(e.Tags)
	root := rootOf(e)
	fail := func(format string, args ...any) Restored {
		r.Outcome, r.Detail = OutcomeFailed, fmt.Sprintf(format, args...)
		return r
	}

	present := done[e.Digest]
	if by, ok := with[e.Digest]; ok {
		// Back already, with the graph of an entry restored before it in this call.
		present, r.Outcome, r.With = true, OutcomeRestored, by
	}
	if !present {
		ok, err := dst.Exists(ctx, root)
		if err != nil {
			return fail("asking the registry for %s: %v", e.Digest, err)
		}
		present = ok
	}
	switch {
	case r.With != "":
	case present:
		r.Outcome = OutcomePresent
	default:
		layers, missing, err := q.layersToRestore(ctx, dst, root)
		if err != nil {
			return fail("%v", err)
		}
		if !e.Blobs && len(missing) > 0 {
			return fail("%s", goneDetail(len(missing)))
		}
		switch {
		case len(layers) == 0:
		case len(missing) > 0:
			r.Blobs = BlobsQuarantine
		default:
			r.Blobs = BlobsRegistry
		}
		if !opts.DryRun {
			copts := copyOptions(e.Blobs)
			if q.host != "" && q.host == e.Host {
				// A quarantine repository on the same registry: mount the blobs back.
				copts.MountFrom = func(context.Context, ocispec.Descriptor) ([]string, error) { return []string{q.repo}, nil }
			}
			if err := oras.CopyGraph(ctx, q.store(), dst, root, copts); err != nil {
				return fail("copying back: %v", err)
			}
		}
		r.Outcome = OutcomeRestored
		// Say which manifests came back with this one: the children of an index, the
		// subject of a referrer.
		_, _ = walk(ctx, q.store(), root, false, func(_ context.Context, n node) (bool, error) {
			if n.role == roleChild || n.role == roleSubject {
				if _, ok := with[n.Digest.String()]; !ok {
					with[n.Digest.String()] = e.Digest
				}
			}
			return n.role != roleConfig, nil
		})
	}
	done[e.Digest] = true

	var tagErrs []string
	for _, tag := range e.Tags {
		if o := owner[tag]; o != e.Digest {
			r.Kept[tag] = o
			continue
		}
		cur, err := dst.Resolve(ctx, tag)
		switch {
		case errors.Is(err, errdef.ErrNotFound):
			if !opts.DryRun {
				if err := dst.Tag(ctx, root, tag); err != nil {
					tagErrs = append(tagErrs, fmt.Sprintf("tagging %s: %v", tag, err))
					continue
				}
			}
			r.Tags = append(r.Tags, tag)
		case err != nil:
			tagErrs = append(tagErrs, fmt.Sprintf("resolving tag %s: %v", tag, err))
		case cur.Digest == root.Digest:
		case opts.Retag:
			if !opts.DryRun {
				if err := dst.Tag(ctx, root, tag); err != nil {
					tagErrs = append(tagErrs, fmt.Sprintf("moving tag %s: %v", tag, err))
					continue
				}
			}
			r.Moved = append(r.Moved, tag)
		default:
			r.Kept[tag] = cur.Digest.String()
		}
	}
	if len(tagErrs) > 0 {
		return fail("the manifest is in the repository, but: %s", strings.Join(tagErrs, "; "))
	}
	return r
}

// layersToRestore lists the layers of the graph of root that a copy to dst would need
// (those under manifests dst lacks), and those of them dst lacks.
func (q *Quarantine) layersToRestore(ctx context.Context, dst oras.Target, root ocispec.Descriptor) (layers, missing []ocispec.Descriptor, err error) {
	_, err = walk(ctx, q.store(), root, true, func(ctx context.Context, n node) (bool, error) {
		switch {
		case n.role == roleLayer:
			layers = append(layers, n.Descriptor)
			ok, err := dst.Exists(ctx, n.Descriptor)
			if err != nil {
				return false, fmt.Errorf("asking the registry for layer %s: %w", n.Digest, err)
			}
			if !ok {
				missing = append(missing, n.Descriptor)
			}
			return false, nil
		case n.role == roleRoot:
			return true, nil
		case isManifest(n.MediaType):
			ok, err := dst.Exists(ctx, n.Descriptor)
			if err != nil {
				return false, fmt.Errorf("asking the registry for %s: %w", n.Digest, err)
			}
			return !ok, nil // CopyGraph leaves the graph of a manifest dst has alone
		}
		return false, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the quarantined graph: %w", err)
	}
	return layers, missing, nil
}

// goneDetail says why an entry without its layers cannot be restored.
func goneDetail(n int) string {
	if n == 1 {
		return "1 layer is gone from the registry (garbage-collected) and was not quarantined (--quarantine-blobs)"
	}
	return fmt.Sprintf("%d layers are gone from the registry (garbage-collected) and were not quarantined (--quarantine-blobs)", n)
}

// noMatch is the error of a selection that matches nothing: what was asked, and what the
// quarantine holds of the repository.
func (q *Quarantine) noMatch(sel Selection, what string, held []*putRecord) error {
	repo := sel.Host + "/" + sel.Repository
	if len(held) == 0 {
		return fmt.Errorf("restoring %s of %s: %w: the quarantine %s holds nothing of %s", what, repo, ErrNoMatch, q.name, repo)
	}
	var tags, runs []string
	for _, r := range held {
		for _, t := range r.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if !slices.Contains(runs, r.Run) {
			runs = append(runs, r.Run)
		}
	}
	return fmt.Errorf("restoring %s of %s: %w: the quarantine %s holds %d manifests of %s (tags: %s; runs: %s)",
		what, repo, ErrNoMatch, q.name, len(held), repo, listed(tags), listed(runs))
}

// listed lists s, sorted, up to maxListed of them.
func listed(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	s = slices.Sorted(slices.Values(s))
	if len(s) > maxListed {
		return strings.Join(s[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(s)-maxListed)
	}
	return strings.Join(s, ", ")
}
