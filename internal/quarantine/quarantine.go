// Package quarantine keeps copies of the manifests apply deletes, with their graphs, so that
// restore can put them back.
//
// A quarantine is a directory or a registry repository. A directory is an OCI image layout:
//
//	oci-layout               {"imageLayoutVersion":"1.0.0"}
//	blobs/<alg>/<hex>        manifests, configs and (with Options.Blobs) layers, by digest
//	index.json               every quarantined root, once per tag, annotated with where it
//	                         came from (AnnotationRepository, AnnotationRun,
//	                         AnnotationQuarantined); rewritten by Sync
//	shipshape-ledger.jsonl   the ledger
//
// so that any OCI tool (oras, skopeo, crane) can read it. A registry repository holds the
// copies as manifests, each root tagged shipshape-<run>-<first 12 hex digits of its digest>,
// and keeps its ledger on local disk (Options.LedgerDir) and, run by run, in the repository
// itself: an artifact tagged LedgerTagPrefix<run> holding the run's live entries, written by
// Sync, which Open reads for the runs the local ledger lacks (see mirror.go). It must be a
// repository of its own: one with tags that are not shipshape's is refused.
//
// The ledger is authoritative; index.json is derived from it and can always be rebuilt. It
// is append-only: one JSON line per event, a quarantined manifest ({"put": …}) or an entry
// pruned ({"pruned": …}), each written with one write call, and synced to disk before Put
// returns. A line torn by a killed process (the last one, without its newline) is ignored
// and cut off when the quarantine is next opened; any other line that cannot be read is an
// error, never an empty quarantine.
//
// Put returns nil only when the whole graph is at the destination, checked by digest, and
// its ledger line is on disk: only then may the caller delete the manifest. A process
// holds a quarantine alone (a kernel lock on the ledger), so that a prune never removes
// what another process is copying.
package quarantine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/shipshape-dev/shipshape/internal/redact"
)

// Annotations of the descriptors in a directory quarantine's index.json, beside
// org.opencontainers.image.ref.name (the tag the manifest had, when it had one).
const (
	// AnnotationRepository is the repository the manifest was deleted from, "HOST/REPO".
	AnnotationRepository = "dev.shipshape.repository"
	// AnnotationRun is the apply run that deleted it.
	AnnotationRun = "dev.shipshape.run"
	// AnnotationQuarantined is when it was quarantined, RFC 3339.
	AnnotationQuarantined = "dev.shipshape.quarantined"
)

// TagPrefix starts the tag of every root quarantined in a registry repository
// (shipshape-<run>-<first 12 hex digits of its digest>), so that the repository's own
// cleanup can be told to keep them (an ECR lifecycle rule on the prefix).
const TagPrefix = "shipshape-"

// Errors callers tell apart with errors.Is.
var (
	// ErrBusy: another process holds the quarantine.
	ErrBusy = errors.New("the quarantine is in use by another process")
	// ErrNotQuarantine: the destination directory holds something else.
	ErrNotQuarantine = errors.New("not a shipshape quarantine")
	// ErrNoMatch: a Selection matches no entry.
	ErrNoMatch = errors.New("nothing quarantined matches")
	// ErrNoQuarantine: Options.Existing was set and there is no quarantine at the
	// destination.
	ErrNoQuarantine = errors.New("no quarantine there (apply --quarantine makes one)")
	// ErrClosed: the Quarantine was closed.
	ErrClosed = errors.New("quarantine closed")
)

// Entry is one quarantined manifest, the root of the graph copied with it.
type Entry struct {
	// Run is the apply run that deleted it, e.g. "20261130T041502Z-3f9a".
	Run string `json:"run"`
	// Host is the registry host it was deleted from ("127.0.0.1:5000").
	Host string `json:"host"`
	// Repository is the repository it was deleted from ("team/app").
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	MediaType  string `json:"mediaType"`
	// Size is the manifest's size in bytes.
	Size int64 `json:"size"`
	// Tags are the tags that pointed at it when it was deleted.
	Tags []string `json:"tags,omitempty"`
	// Subject is its subject's digest, for a referrer.
	Subject string `json:"subject,omitempty"`
	// Rule is the lifecycle rule that removed it (0: none).
	Rule   int    `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Blobs reports that the layers were copied too (Options.Blobs).
	Blobs bool `json:"blobs"`
	// Bytes is the size of the graph this copy holds: manifests, configs, and layers when
	// Blobs, each counted once (blobs shared with other entries are counted in each).
	Bytes int64 `json:"bytes"`
	// At is when it was quarantined.
	At time.Time `json:"at"`
}

// Options configure Open. The zero value opens a directory quarantine without layers.
type Options struct {
	// Blobs copies layers too (and the blobs of artifact manifests). Without it only
	// manifests (an index's children, a referrer's subject) and configs are copied, and a
	// restore needs the layers still in the registry, before its garbage collection.
	//
	// A registry destination always holds the layers, whatever Blobs says: registries
	// refuse a manifest whose blobs they do not have. On the registry the manifest was
	// deleted from they are mounted, not uploaded, so they cost nothing there.
	Blobs bool
	// Repository opens a destination repository "HOST/REPO" for writing, used when dest
	// names a registry repository rather than a directory. nil: a dest that names a
	// repository is an error. Deleting old copies (Prune) needs the target to be a
	// content.Deleter, as an oras remote.Repository is.
	Repository func(host, repo string) (oras.Target, error)
	// LedgerDir is where the ledger of a registry destination is kept, at
	// <LedgerDir>/<host, ':' replaced by '_'>/<repo>.jsonl (a directory keeps its own
	// ledger). "" with a registry destination is an error.
	LedgerDir string
	// Now returns the current time, for Entry.At; nil means time.Now.
	Now func() time.Time
	// Existing opens only a quarantine that exists (for restore and prune): without a
	// ledger at dest, Open fails with an error wrapping ErrNoQuarantine and creates
	// nothing.
	Existing bool
}

// Quarantine is an open quarantine. It is safe for concurrent use.
type Quarantine struct {
	name string // for people: the directory, or HOST/REPO

	dir     string       // the directory; "" for a registry destination
	storage *oci.Storage // the directory's blobs

	host, repo string      // a registry destination
	target     oras.Target // its repository

	blobs  bool
	now    func() time.Time
	ledger *ledger

	// op is held shared by Put and Restore, and exclusively by Prune and Close: a prune
	// never removes what a Put is copying or a Restore reading.
	op sync.RWMutex

	mu     sync.Mutex
	recs   []*putRecord    // the entries, oldest first, without pruned ones
	runs   map[string]bool // every run the ledger recorded, pruned ones too
	dirty  bool            // index.json does not list recs yet
	mirror map[string]bool // runs whose ledger artifact the registry repository lacks (Sync writes it)
	closed bool

	cache sync.Mutex
	// verified holds the blobs of a directory read back whole, by digest, and synced to
	// disk; complete holds the manifests whose graphs were verified whole. Prune forgets
	// both.
	verified map[digest.Digest]bool
	complete map[digest.Digest]bool

	// repair is held while a corrupt blob of a directory is removed, so that two Puts never
	// both decide to remove it, one after the other copied it afresh.
	repair sync.Mutex
}

// IsDirectory reports whether dest names a directory (an OCI image layout) rather than a
// registry repository: it does when it starts with "/", "./", "../" or "~", when it exists
// on disk, when it has no "/" (a repository is HOST/REPO), or when its first path segment
// does not look like a registry host (has no "." or ":" and is not "localhost").
func IsDirectory(dest string) bool {
	if dest == "" || dest == "." || dest == ".." {
		return true
	}
	for _, p := range []string{"/", "./", "../", "~"} {
		if strings.HasPrefix(dest, p) {
			return true
		}
	}
	if _, err := os.Stat(dest); err == nil {
		return true
	}
	first, _, ok := strings.Cut(dest, "/")
	if !ok {
		return true
	}
	return first != "localhost" && !strings.ContainsAny(first, ".:")
}

// Open opens the quarantine at dest, creating a directory one if it does not exist. A
// directory that exists must be empty, a quarantine, or an OCI image layout that lists
// nothing; anything else is an error wrapping ErrNotQuarantine. Another process holding
// the quarantine is an error wrapping ErrBusy.
func Open(ctx context.Context, dest string, opts Options) (*Quarantine, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if dest == "" {
		return nil, errors.New("opening quarantine: no destination given")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	q := &Quarantine{
		now:      now,
		blobs:    opts.Blobs,
		verified: make(map[digest.Digest]bool),
		complete: make(map[digest.Digest]bool),
		mirror:   make(map[string]bool),
	}
	var ledgerPath string
	if IsDirectory(dest) {
		dir, err := expandHome(dest)
		if err == nil {
			// Absolute: the name is recorded (apply's log) and opened again later, from
			// wherever.
			dir, err = filepath.Abs(dir)
		}
		if err != nil {
			return nil, fmt.Errorf("opening quarantine %s: %w", dest, err)
		}
		if opts.Existing {
			if _, err := os.Stat(filepath.Join(dir, ledgerFile)); err != nil {
				return nil, fmt.Errorf("opening quarantine %s: %w", dir, ErrNoQuarantine)
			}
		}
		if err := prepareDir(dir); err != nil {
			return nil, fmt.Errorf("opening quarantine %s: %w", dir, err)
		}
		q.storage, err = oci.NewStorage(dir)
		if err != nil {
			return nil, fmt.Errorf("opening quarantine %s: %w", dir, err)
		}
		q.name, q.dir = dir, dir
		ledgerPath = filepath.Join(dir, ledgerFile)
	} else {
		host, repo, err := parseRepository(dest)
		if err != nil {
			return nil, err
		}
		q.name, q.host, q.repo, q.blobs = host+"/"+repo, host, repo, true
		if opts.Repository == nil {
			return nil, fmt.Errorf("opening quarantine %s: a registry destination needs a way to open repositories", q.name)
		}
		if opts.LedgerDir == "" {
			return nil, fmt.Errorf("opening quarantine %s: a registry destination needs a ledger directory", q.name)
		}
		q.target, err = opts.Repository(host, repo)
		if err != nil {
			return nil, fmt.Errorf("opening quarantine %s: %w", q.name, err)
		}
		if err := dedicated(ctx, q.target); err != nil {
			return nil, fmt.Errorf("opening quarantine %s: %w", q.name, err)
		}
		ledgerPath = filepath.Join(opts.LedgerDir, strings.ReplaceAll(host, ":", "_"), filepath.FromSlash(repo)+".jsonl")
		if opts.Existing {
			if _, err := os.Stat(ledgerPath); err != nil {
				runs, err := remoteRuns(ctx, q.target)
				if err != nil {
					return nil, fmt.Errorf("opening quarantine %s: listing its ledger artifacts: %w", q.name, err)
				}
				if len(runs) == 0 {
					return nil, fmt.Errorf("opening quarantine %s: %w", q.name, ErrNoQuarantine)
				}
			}
		}
	}
	l, recs, runs, err := openLedger(ledgerPath)
	if err != nil {
		return nil, fmt.Errorf("opening quarantine %s: %w", q.name, err)
	}
	q.ledger, q.recs, q.runs = l, recs, runs
	if q.dir == "" {
		// What other machines quarantined there: the repository's ledger artifacts.
		if err := q.adoptRemoteRuns(ctx); err != nil {
			l.close()
			return nil, fmt.Errorf("opening quarantine %s: %w", q.name, err)
		}
		slices.SortStableFunc(q.recs, func(a, b *putRecord) int { return a.At.Compare(b.At) })
	}
	if q.dir != "" {
		// index.json is derived: write it now, in case a process died before its Sync.
		if err := writeIndex(q.dir, entriesOf(recs)); err != nil {
			l.close()
			return nil, fmt.Errorf("opening quarantine %s: %w", q.name, err)
		}
	}
	return q, nil
}

// String names the destination, for people and for Open: the directory (absolute), or
// HOST/REPO.
func (q *Quarantine) String() string { return q.name }

// Sync makes everything Put recorded durable and, for a directory, rewrites index.json
// (a temporary file renamed into place) so that the layout lists every quarantined root.
func (q *Quarantine) Sync() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("syncing quarantine %s: %w", q.name, ErrClosed)
	}
	return q.syncLocked()
}

func (q *Quarantine) syncLocked() error {
	if err := q.ledger.sync(); err != nil {
		return fmt.Errorf("syncing quarantine %s: %w", q.name, err)
	}
	if q.dir == "" {
		if err := q.mirrorRuns(context.Background(), q.mirror); err != nil {
			return fmt.Errorf("syncing quarantine %s: %w", q.name, err)
		}
		return nil
	}
	if !q.dirty {
		return nil
	}
	if err := writeIndex(q.dir, entriesOf(q.recs)); err != nil {
		return fmt.Errorf("syncing quarantine %s: %w", q.name, err)
	}
	q.dirty = false
	return nil
}

// Close syncs the quarantine (see Sync) and releases it. Later calls of its methods
// return an error wrapping ErrClosed; Close itself may be called again.
func (q *Quarantine) Close() error {
	q.op.Lock()
	defer q.op.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	err := q.syncLocked()
	q.closed = true
	if cerr := q.ledger.close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing quarantine %s: %w", q.name, cerr)
	}
	return err
}

// Entries lists the ledger, oldest first, without pruned entries.
func (q *Quarantine) Entries() ([]Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, fmt.Errorf("listing quarantine %s: %w", q.name, ErrClosed)
	}
	return entriesOf(q.recs), nil
}

// entriesOf returns the entries of recs, copied.
func entriesOf(recs []*putRecord) []Entry {
	out := make([]Entry, len(recs))
	for i, r := range recs {
		out[i] = r.Entry
		out[i].Tags = slices.Clone(r.Tags)
	}
	return out
}

// store is where the copies are: the directory's blobs or the registry repository.
func (q *Quarantine) store() content.Storage {
	if q.dir != "" {
		return q.storage
	}
	return q.target
}

// expandHome replaces a leading "~" by the home directory.
func expandHome(dest string) (string, error) {
	if dest != "~" && !strings.HasPrefix(dest, "~/") {
		return dest, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, strings.TrimPrefix(dest, "~")), nil
}

// parseRepository splits a registry destination "HOST/REPO".
func parseRepository(dest string) (host, repo string, err error) {
	if strings.Contains(dest, "://") {
		return "", "", fmt.Errorf("quarantine destination %s: give HOST/REPO, without a scheme", redact.DSN(dest))
	}
	host, repo, _ = strings.Cut(dest, "/")
	if strings.Contains(host, "@") {
		// Never repeat what may be a user name and password.
		return "", "", errors.New("quarantine destination: give HOST/REPO, without credentials (they come from the Docker configuration)")
	}
	if strings.ContainsAny(repo, "@:") {
		return "", "", fmt.Errorf("quarantine destination %s: give a repository, without a tag or digest", dest)
	}
	ref := registry.Reference{Registry: host, Repository: repo}
	if err := ref.ValidateRegistry(); err != nil {
		return "", "", fmt.Errorf("quarantine destination %s: %w", dest, err)
	}
	if err := ref.ValidateRepository(); err != nil {
		return "", "", fmt.Errorf("quarantine destination %s: %w", dest, err)
	}
	return host, repo, nil
}

// isNotExist reports whether err says a file does not exist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// rootOf is the descriptor of e's manifest.
func rootOf(e Entry) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: e.MediaType, Digest: digest.Digest(e.Digest), Size: e.Size}
}

// dedicated checks that a quarantine repository holds nothing but quarantine copies: every
// tag it has starts with TagPrefix. A repository that holds other images is refused, as a
// directory that holds other files is: pruning deletes manifests by digest, and one of
// someone else's images could share a digest with a copy.
func dedicated(ctx context.Context, target oras.Target) error {
	lister, ok := target.(registry.TagLister)
	if !ok {
		return nil // nothing to list: a test target, or a store without tags
	}
	var others []string
	err := lister.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			if !strings.HasPrefix(t, TagPrefix) && len(others) < maxListed {
				others = append(others, t)
			}
		}
		return nil
	})
	switch {
	case isRepositoryUnknown(err):
		return nil // a repository no one has pushed to yet
	case err != nil:
		return fmt.Errorf("listing its tags, to check it holds only quarantine copies: %w", err)
	case len(others) > 0:
		return fmt.Errorf("%w: the repository holds tags that are not shipshape's (%s); give the quarantine a repository of its own",
			ErrNotQuarantine, strings.Join(others, ", "))
	}
	return nil
}

// isRepositoryUnknown reports whether err says the repository does not exist (a tag list of
// a repository no one has pushed to).
func isRepositoryUnknown(err error) bool {
	var resp *errcode.ErrorResponse
	return errors.Is(err, errdef.ErrNotFound) || errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound
}
