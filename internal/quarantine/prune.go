package quarantine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// Prune removes from the quarantine every entry quarantined before cutoff, and returns how
// many it removed and the bytes freed. The ledger records them as pruned first.
//
// In a directory, every blob no remaining entry's graph holds is then deleted (so are blobs
// left by copies that failed), and index.json is rewritten; bytes is what the deleted
// files held.
//
// In a registry repository, the manifests of the pruned graphs are deleted, parents before
// children, with their tags, except those a remaining entry's graph holds, or the graph of
// a TagPrefix tag no run of this ledger made (another machine, with its own ledger, may
// share the repository). The pruned entries' tags on manifests that stay are removed.
// bytes is what the registry frees at its next garbage collection. A manifest that could
// not be deleted stays, and the error names it.
func (q *Quarantine) Prune(ctx context.Context, cutoff time.Time) (entries int, bytes int64, err error) {
	q.op.Lock()
	defer q.op.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	where := fmt.Sprintf("pruning quarantine %s", q.name)
	if q.closed {
		return 0, 0, fmt.Errorf("%s: %w", where, ErrClosed)
	}
	var old, kept []*putRecord
	for _, r := range q.recs {
		if r.At.Before(cutoff) {
			old = append(old, r)
		} else {
			kept = append(kept, r)
		}
	}
	if len(old) > 0 {
		now := q.now()
		lines := make([]record, len(old))
		for i, r := range old {
			lines[i] = record{Pruned: &prunedRecord{entryKey: keyOf(r.Entry), At: now}}
		}
		if err := q.ledger.append(lines...); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", where, err)
		}
		q.recs, q.dirty = kept, true
	}
	if q.dir != "" {
		bytes, err = q.collectDir(ctx, kept)
		if serr := q.syncLocked(); err == nil {
			err = serr
		}
	} else {
		bytes, err = q.pruneRegistry(ctx, old, kept)
		for _, r := range old {
			q.mirror[r.Run] = true
		}
		if serr := q.syncLocked(); err == nil {
			err = serr
		}
	}
	if err != nil {
		return len(old), bytes, fmt.Errorf("%s: %w", where, err)
	}
	return len(old), bytes, nil
}

// graphOf returns the graph r's copy holds: as the ledger recorded it, or read from the
// quarantine for a record without one.
func (q *Quarantine) graphOf(ctx context.Context, r *putRecord) ([]graphNode, error) {
	if r.Graph != nil {
		return r.Graph, nil
	}
	g, err := walk(ctx, q.store(), rootOf(r.Entry), r.Blobs, func(context.Context, node) (bool, error) { return true, nil })
	if err != nil {
		return nil, fmt.Errorf("reading the graph of %s of %s/%s: %w", r.Digest, r.Host, r.Repository, err)
	}
	return g, nil
}

// collectDir deletes the directory's blobs that no graph of kept holds, and what failed
// copies left in the ingest directory, and returns the bytes freed. If a graph cannot be
// read, nothing is deleted.
func (q *Quarantine) collectDir(ctx context.Context, kept []*putRecord) (int64, error) {
	keep := make(map[digest.Digest]bool)
	for _, r := range kept {
		g, err := q.graphOf(ctx, r)
		if err != nil {
			return 0, fmt.Errorf("%w; no blob deleted", err)
		}
		for _, n := range g {
			keep[n.Digest] = true
		}
	}
	q.cache.Lock()
	clear(q.verified)
	clear(q.complete)
	q.cache.Unlock()

	var freed int64
	blobs := filepath.Join(q.dir, ocispec.ImageBlobsDir)
	algs, err := readDirNames(blobs)
	if isNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("listing blobs: %w", err)
	}
	for _, alg := range algs {
		dir := filepath.Join(blobs, alg)
		names, err := readDirNames(dir)
		if err != nil {
			return freed, fmt.Errorf("listing blobs: %w", err)
		}
		removed := false
		for _, name := range names {
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg), name)
			if d.Validate() != nil || keep[d] {
				continue // not a blob of ours, or one still needed
			}
			path := filepath.Join(dir, name)
			fi, err := os.Lstat(path)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if err := os.Remove(path); err != nil {
				return freed, fmt.Errorf("deleting blob %s: %w", d, err)
			}
			freed += fi.Size()
			removed = true
		}
		if removed {
			if err := syncDir(dir); err != nil {
				return freed, err
			}
		}
	}
	// No Put runs during a prune: whatever is in the ingest directory was left by one that
	// failed.
	if err := os.RemoveAll(filepath.Join(q.dir, "ingest")); err != nil {
		return freed, fmt.Errorf("clearing the ingest directory: %w", err)
	}
	return freed, nil
}

// pruneRegistry deletes from the registry repository the manifests of the graphs of old
// that no graph of kept holds, and returns the bytes of the nodes only old held.
func (q *Quarantine) pruneRegistry(ctx context.Context, old, kept []*putRecord) (int64, error) {
	if len(old) == 0 {
		return 0, nil
	}
	needed := make(map[digest.Digest]bool)
	keptTags := make(map[string]bool) // the tags remaining entries may have made
	for _, r := range kept {
		g, err := q.graphOf(ctx, r)
		if err != nil {
			return 0, fmt.Errorf("%w; no manifest deleted", err)
		}
		for _, n := range g {
			needed[n.Digest] = true
			keptTags[quarantineTag(r.Run, n.Digest)] = true
		}
	}
	if err := q.neededElsewhere(ctx, needed); err != nil {
		return 0, fmt.Errorf("%w; no manifest deleted", err)
	}
	var freed int64
	counted := make(map[digest.Digest]bool)
	manifests := make(map[digest.Digest]graphNode)
	graphs := make([][]graphNode, len(old))
	for i, r := range old {
		g, err := q.graphOf(ctx, r)
		if err != nil {
			return 0, fmt.Errorf("%w; no manifest deleted", err)
		}
		graphs[i] = g
		for _, n := range g {
			if needed[n.Digest] {
				continue
			}
			if !counted[n.Digest] {
				counted[n.Digest] = true
				freed += n.Size
			}
			if m, ok := manifests[n.Digest]; isManifest(n.MediaType) && (!ok || n.Depth > m.Depth) {
				manifests[n.Digest] = n
			}
		}
	}
	deleter, ok := q.target.(content.Deleter)
	if !ok {
		return 0, errors.New("the quarantine repository cannot delete manifests; none deleted")
	}
	// Parents before children (an index before what it lists, a referrer before its
	// subject): some registries refuse to delete a manifest an index lists.
	order := slices.SortedFunc(maps.Values(manifests), func(a, b graphNode) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), cmp.Compare(a.Digest, b.Digest))
	})
	var errs []error
	for _, n := range order {
		desc := ocispec.Descriptor{MediaType: n.MediaType, Digest: n.Digest, Size: n.Size}
		if err := deleter.Delete(ctx, desc); err != nil && !errors.Is(err, errdef.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", n.Digest, err))
		}
	}
	// The tags of pruned entries on manifests that stay must go, or another ledger sharing
	// the repository would keep the manifests for them.
	var stale []string
	for i, r := range old {
		for _, n := range graphs[i] {
			if _, deleted := manifests[n.Digest]; deleted || !isManifest(n.MediaType) {
				continue
			}
			tag := quarantineTag(r.Run, n.Digest)
			if keptTags[tag] || slices.Contains(stale, tag) {
				continue
			}
			if desc, err := q.target.Resolve(ctx, tag); err == nil && desc.Digest == n.Digest {
				stale = append(stale, tag)
			}
		}
	}
	if err := q.untag(ctx, deleter, stale); err != nil {
		errs = append(errs, err)
	}
	return freed, errors.Join(errs...)
}

// emptyJSON is the empty JSON object blob, "{}": the config and only layer of the
// tombstone.
var emptyJSON = ocispec.Descriptor{
	MediaType: ocispec.MediaTypeEmptyJSON,
	Digest:    digest.FromBytes([]byte("{}")),
	Size:      2,
	Data:      []byte("{}"),
}

// tombstone is the manifest untag moves tags to before deleting it: an empty artifact.
var tombstone = func() []byte {
	b, err := json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.shipshape.pruned",
		Config:       emptyJSON,
		Layers:       []ocispec.Descriptor{emptyJSON},
	})
	if err != nil {
		panic(err)
	}
	return b
}()

var tombstoneDesc = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(tombstone), Size: int64(len(tombstone))}

// untag removes tags from the registry repository, where registries cannot remove a tag
// alone (Distribution): it moves them to the tombstone, then deletes the tombstone, and
// every tag on it with it.
func (q *Quarantine) untag(ctx context.Context, deleter content.Deleter, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	pusher, ok := q.target.(registry.ReferencePusher)
	if !ok {
		return fmt.Errorf("the quarantine repository cannot move tags; %s and %d more stay", tags[0], len(tags)-1)
	}
	blob := ocispec.Descriptor{MediaType: emptyJSON.MediaType, Digest: emptyJSON.Digest, Size: emptyJSON.Size}
	if ok, err := q.target.Exists(ctx, blob); err != nil || !ok {
		if err == nil {
			err = q.target.Push(ctx, blob, bytes.NewReader(emptyJSON.Data))
		}
		if err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
			return fmt.Errorf("removing tags: pushing the empty blob: %w", err)
		}
	}
	for _, tag := range tags {
		if err := pusher.PushReference(ctx, tombstoneDesc, bytes.NewReader(tombstone), tag); err != nil {
			return fmt.Errorf("removing tag %s: %w", tag, err)
		}
	}
	if err := deleter.Delete(ctx, tombstoneDesc); err != nil && !errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("removing tags: deleting the tombstone they point at: %w", err)
	}
	return nil
}

// neededElsewhere adds to needed the manifests of the graphs other ledgers keep in the
// registry repository: those of the tags with TagPrefix that no run of this ledger made. A
// quarantine repository may be shared by machines that each keep their own ledger.
func (q *Quarantine) neededElsewhere(ctx context.Context, needed map[digest.Digest]bool) error {
	lister, ok := q.target.(registry.TagLister)
	if !ok {
		return errors.New("the quarantine repository cannot list its tags, to keep what other ledgers need")
	}
	ours := make(map[string]bool, len(q.runs))
	for run := range q.runs {
		ours[runInTag(run)] = true
	}
	var foreign []string
	err := lister.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			// Every tag but our runs' is another's: another ledger's copies, or anything
			// else someone keeps there. What it reaches stays.
			if run, ok := strings.CutPrefix(t, TagPrefix); ok && len(run) > quarantineTagHex+1 && ours[run[:len(run)-quarantineTagHex-1]] {
				continue
			}
			foreign = append(foreign, t)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing the tags of the quarantine repository: %w", err)
	}
	for _, t := range foreign {
		desc, err := q.target.Resolve(ctx, t)
		if errors.Is(err, errdef.ErrNotFound) {
			continue // removed since it was listed
		}
		if err != nil {
			return fmt.Errorf("resolving tag %s: %w", t, err)
		}
		if desc.Digest == tombstoneDesc.Digest {
			continue // being removed by another prune
		}
		root := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
		g, err := walk(ctx, q.target, root, false, func(_ context.Context, n node) (bool, error) {
			return isManifest(n.MediaType), nil
		})
		if err != nil {
			return fmt.Errorf("reading the graph of tag %s: %w", t, err)
		}
		for _, n := range g {
			needed[n.Digest] = true
		}
	}
	return nil
}
