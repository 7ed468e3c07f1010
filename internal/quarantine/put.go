package quarantine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
)

// copyConcurrency is how many nodes one Put or Restore copies at once: what dockerd and
// containerd use for one image. Callers run several Puts side by side.
const copyConcurrency = 3

// maxRunInTag bounds the run's part of a quarantine tag, so that the tag stays within the
// 128 characters registries accept: "shipshape-" + run + "-" + 12 hex digits.
const maxRunInTag = 128 - len(TagPrefix) - 1 - quarantineTagHex

// Put copies the graph rooted at e.Digest from src (the repository it is about to be
// deleted from) into the quarantine: the manifest, its children (for an index,
// recursively), its subject (a referrer goes with its subject) and configs; layers with
// Options.Blobs. It checks the copy by digest (every node is at the destination, and the
// manifests read back hash to their digests; in a directory every blob does), then appends
// e, with Blobs, Bytes and At set, to the ledger, synced to disk, and returns it. Only after
// Put returns nil may the caller delete e.Digest.
//
// e needs Run, Host, Repository and Digest. MediaType and Size are read from src when
// either is missing and src can resolve digests (an oras remote.Repository can); Subject
// is read from the manifest when missing. A node src cannot serve is an error, unless the
// quarantine holds it (with its graph) already. In a registry destination the root, and
// any subject in its graph, are tagged TagPrefix<run>-<first 12 hex digits of the
// digest>. Put is safe for concurrent use.
func (q *Quarantine) Put(ctx context.Context, src content.ReadOnlyStorage, e Entry) (Entry, error) {
	where := fmt.Sprintf("quarantining %s of %s/%s in %s", e.Digest, e.Host, e.Repository, q.name)
	if e.Run == "" || e.Host == "" || e.Repository == "" {
		return Entry{}, fmt.Errorf("%s: the entry needs a run, a host and a repository", where)
	}
	if _, err := digest.Parse(e.Digest); err != nil {
		return Entry{}, fmt.Errorf("%s: %w", where, err)
	}
	if e.Host == q.host && e.Repository == q.repo {
		// The copy would be the manifest itself, gone with it.
		return Entry{}, fmt.Errorf("%s: a repository cannot be its own quarantine", where)
	}
	q.op.RLock()
	defer q.op.RUnlock()
	if q.isClosed() {
		return Entry{}, fmt.Errorf("%s: %w", where, ErrClosed)
	}
	root, err := resolveRoot(ctx, src, e)
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w", where, err)
	}
	e.MediaType, e.Size = root.MediaType, root.Size
	e.Tags = slices.Clone(e.Tags)

	var graph []graphNode
	if q.dir != "" {
		graph, err = q.copyToDir(ctx, src, root)
	} else {
		graph, err = q.copyToRegistry(ctx, src, root, e)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w", where, err)
	}
	e.Blobs = q.blobs
	e.Bytes = graphBytes(graph)
	if e.Subject == "" {
		// Restore orders a subject before its referrers: know it even if the caller did not.
		succ, err := successors(ctx, q.store(), root, false)
		if err != nil {
			return Entry{}, fmt.Errorf("%s: reading the copy: %w", where, err)
		}
		for _, n := range succ {
			if n.role == roleSubject {
				e.Subject = n.Digest.String()
			}
		}
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	e.At = q.now()
	rec := &putRecord{Entry: e, Graph: graph}
	if err := q.ledger.append(record{Put: rec}); err != nil {
		return Entry{}, fmt.Errorf("%s: %w", where, err)
	}
	q.recs = withPut(q.recs, rec)
	q.runs[e.Run] = true
	q.dirty = true
	if q.dir == "" {
		q.mirror[e.Run] = true
	}
	out := e
	out.Tags = slices.Clone(e.Tags)
	return out, nil
}

// resolveRoot returns the descriptor of e's manifest, asking src for its media type and
// size when e lacks them.
func resolveRoot(ctx context.Context, src content.ReadOnlyStorage, e Entry) (ocispec.Descriptor, error) {
	if e.MediaType != "" && e.Size > 0 {
		return rootOf(e), nil
	}
	r, ok := src.(content.Resolver)
	if !ok {
		return ocispec.Descriptor{}, errors.New("the entry has no media type or size, and the source cannot tell them")
	}
	desc, err := r.Resolve(ctx, e.Digest)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolving the manifest: %w", err)
	}
	if desc.Digest.String() != e.Digest {
		return ocispec.Descriptor{}, fmt.Errorf("resolving the manifest: the source answered with %s", desc.Digest)
	}
	return ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, nil
}

// copyOptions are the options of a CopyGraph that follows layers when layers is set.
func copyOptions(layers bool) oras.CopyGraphOptions {
	return oras.CopyGraphOptions{
		Concurrency: copyConcurrency,
		FindSuccessors: func(ctx context.Context, f content.Fetcher, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			nodes, err := successors(ctx, f, desc, layers)
			if err != nil {
				return nil, err
			}
			out := make([]ocispec.Descriptor, len(nodes))
			for i, n := range nodes {
				out[i] = n.Descriptor
			}
			return out, nil
		},
	}
}

// copyToDir copies the graph of root from src into the directory and checks the copy:
// every node read back whole and synced to disk. A blob found corrupt (a crash before an
// earlier copy reached the disk) is removed and the copy made again, once.
func (q *Quarantine) copyToDir(ctx context.Context, src content.ReadOnlyStorage, root ocispec.Descriptor) ([]graphNode, error) {
	for attempt := 1; ; attempt++ {
		if err := oras.CopyGraph(ctx, src, dirTarget{q.storage, q}, root, copyOptions(q.blobs)); err != nil {
			return nil, fmt.Errorf("copying: %w", err)
		}
		graph, bad, err := q.verifyDir(ctx, root)
		if err != nil {
			return nil, fmt.Errorf("checking the copy: %w", err)
		}
		if len(bad) == 0 {
			if err := q.syncBlobDirs(graph); err != nil {
				return nil, err
			}
			q.cache.Lock()
			for _, n := range graph {
				q.verified[n.Digest] = true
				if isManifest(n.MediaType) {
					q.complete[n.Digest] = true
				}
			}
			q.cache.Unlock()
			return graph, nil
		}
		if attempt == 2 {
			return nil, fmt.Errorf("checking the copy: %d nodes missing or corrupt after copying twice, %s first", len(bad), bad[0].Digest)
		}
		if err := q.removeCorrupt(bad); err != nil {
			return nil, err
		}
	}
}

// dirTarget is the directory as CopyGraph's destination: a manifest exists only when its
// whole graph does, so that a copy cut short, or one made without layers that are now
// asked for, is completed.
type dirTarget struct {
	*oci.Storage
	q *Quarantine
}

// Exists reports whether desc is in the directory, with its graph for a manifest.
func (d dirTarget) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if !isManifest(desc.MediaType) {
		return d.Storage.Exists(ctx, desc)
	}
	return d.q.holdsGraph(ctx, desc), nil
}

// errIncomplete stops a walk at the first node missing.
var errIncomplete = errors.New("incomplete")

// holdsGraph reports whether the directory holds the manifest desc and its graph (with
// layers when the quarantine copies them). A graph it cannot read is not held.
func (q *Quarantine) holdsGraph(ctx context.Context, desc ocispec.Descriptor) bool {
	q.cache.Lock()
	ok := q.complete[desc.Digest]
	q.cache.Unlock()
	if ok {
		return true
	}
	_, err := walk(ctx, q.storage, desc, q.blobs, func(ctx context.Context, n node) (bool, error) {
		ok, err := q.storage.Exists(ctx, n.Descriptor)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, errIncomplete
		}
		return true, nil
	})
	return err == nil
}

// verifyDir reads back the graph of root from the directory: every blob not yet verified
// is hashed and synced to disk. bad lists the blobs missing or corrupt.
func (q *Quarantine) verifyDir(ctx context.Context, root ocispec.Descriptor) (graph []graphNode, bad []ocispec.Descriptor, err error) {
	graph, err = walk(ctx, q.storage, root, q.blobs, func(ctx context.Context, n node) (bool, error) {
		q.cache.Lock()
		ok := q.verified[n.Digest]
		q.cache.Unlock()
		if ok {
			return true, nil
		}
		present, valid, err := q.checkBlob(n.Descriptor, true)
		if err != nil {
			return false, err
		}
		if !present || !valid {
			bad = append(bad, n.Descriptor)
			return false, nil
		}
		return true, nil
	})
	return graph, bad, err
}

// blobPath is where the directory keeps the blob d.
func (q *Quarantine) blobPath(d digest.Digest) string {
	return filepath.Join(q.dir, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}

// checkBlob reports whether the directory holds desc, and whether it hashes to its digest
// with its size; with sync, a valid blob is synced to disk too.
func (q *Quarantine) checkBlob(desc ocispec.Descriptor, sync bool) (present, valid bool, err error) {
	if err := desc.Digest.Validate(); err != nil {
		return false, false, fmt.Errorf("blob %q: %w", desc.Digest, err)
	}
	f, err := os.Open(q.blobPath(desc.Digest))
	if isNotExist(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("reading blob %s: %w", desc.Digest, err)
	}
	defer f.Close()
	return checkFile(f, desc, sync)
}

// checkFile reports whether f holds desc; with sync, a valid f is synced to disk.
func checkFile(f *os.File, desc ocispec.Descriptor, sync bool) (present, valid bool, err error) {
	v := desc.Digest.Verifier()
	n, err := io.Copy(v, f)
	if err != nil {
		return true, false, fmt.Errorf("reading blob %s: %w", desc.Digest, err)
	}
	if n != desc.Size || !v.Verified() {
		return true, false, nil
	}
	if sync {
		if err := f.Sync(); err != nil {
			return true, false, fmt.Errorf("syncing blob %s: %w", desc.Digest, err)
		}
	}
	return true, true, nil
}

// removeCorrupt removes those of bad that are in the directory and corrupt, checking each
// again first: another Put may have copied it afresh in the meantime.
func (q *Quarantine) removeCorrupt(bad []ocispec.Descriptor) error {
	q.repair.Lock()
	defer q.repair.Unlock()
	for _, desc := range bad {
		path := q.blobPath(desc.Digest)
		f, err := os.Open(path)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading blob %s: %w", desc.Digest, err)
		}
		present, valid, err := checkFile(f, desc, false)
		if err == nil && present && !valid {
			err = removeSameFile(f, path)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("removing corrupt blob %s: %w", desc.Digest, err)
		}
	}
	return nil
}

// removeSameFile removes path if it still names the open file f.
func removeSameFile(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	now, err := os.Stat(path)
	if err != nil || !os.SameFile(fi, now) {
		return nil
	}
	if err := os.Remove(path); err != nil && !isNotExist(err) {
		return err
	}
	return nil
}

// syncBlobDirs syncs the directories that name the blobs of graph, and those above them,
// so that the blobs' names are as durable as their contents.
func (q *Quarantine) syncBlobDirs(graph []graphNode) error {
	var algs []string
	for _, n := range graph {
		if a := n.Digest.Algorithm().String(); !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	blobs := filepath.Join(q.dir, ocispec.ImageBlobsDir)
	for _, a := range algs {
		if err := syncDir(filepath.Join(blobs, a)); err != nil {
			return err
		}
	}
	if err := syncDir(blobs); err != nil {
		return err
	}
	return syncDir(q.dir)
}

// copyToRegistry copies the graph of root from src into the registry repository, checks
// it (every blob there, every manifest read back whole) and tags the root and the subjects
// in its graph.
func (q *Quarantine) copyToRegistry(ctx context.Context, src content.ReadOnlyStorage, root ocispec.Descriptor, e Entry) ([]graphNode, error) {
	opts := copyOptions(true)
	if e.Host == q.host {
		// Same registry: mount the blobs from the repository they are in, rather than
		// upload them again.
		opts.MountFrom = func(context.Context, ocispec.Descriptor) ([]string, error) {
			return []string{e.Repository}, nil
		}
	}
	if err := oras.CopyGraph(ctx, src, q.target, root, opts); err != nil {
		return nil, fmt.Errorf("copying: %w", err)
	}
	graph, err := walk(ctx, q.target, root, true, func(ctx context.Context, n node) (bool, error) {
		if isManifest(n.MediaType) {
			return true, nil // walk reads it back, checking its digest
		}
		ok, err := q.target.Exists(ctx, n.Descriptor)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("blob %s is missing after the copy", n.Digest)
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("checking the copy: %w", err)
	}
	for _, n := range graph {
		if n.role != roleRoot && n.role != roleSubject {
			continue
		}
		desc := ocispec.Descriptor{MediaType: n.MediaType, Digest: n.Digest, Size: n.Size}
		tag := quarantineTag(e.Run, n.Digest)
		if err := q.target.Tag(ctx, desc, tag); err != nil {
			return nil, fmt.Errorf("tagging %s as %s: %w", n.Digest, tag, err)
		}
		got, err := q.target.Resolve(ctx, tag)
		if err != nil {
			return nil, fmt.Errorf("checking tag %s: %w", tag, err)
		}
		if got.Digest != n.Digest {
			return nil, fmt.Errorf("checking tag %s: it points at %s, not %s", tag, got.Digest, n.Digest)
		}
	}
	return graph, nil
}

// quarantineTagHex is how many hex digits of the digest a quarantine tag ends with.
const quarantineTagHex = 12

// quarantineTag is the tag of the manifest d quarantined by run in a registry repository.
func quarantineTag(run string, d digest.Digest) string {
	hex := d.Encoded()
	return TagPrefix + runInTag(run) + "-" + hex[:min(quarantineTagHex, len(hex))]
}

// runInTag is run as a quarantine tag holds it: characters tags do not allow replaced by
// '-', cut to maxRunInTag.
func runInTag(run string) string {
	var b strings.Builder
	for _, r := range run {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > maxRunInTag {
		s = s[:maxRunInTag]
	}
	return s
}

// isClosed reports whether Close was called.
func (q *Quarantine) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}
