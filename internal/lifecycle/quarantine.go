package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/quarantine"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
)

// storager is a backend that hands out the oras client of a repository, to copy whole
// graphs to and from it: the OCI backend (oci.Client.Storage).
type storager interface {
	Storage(repo string) (*remote.Repository, error)
}

// ErrNoStorage is returned for a quarantine or restore on a registry shipshape cannot copy
// manifests from or to.
var ErrNoStorage = errors.New("quarantine and restore copy manifests through the OCI Distribution API, which shipshape does not speak to Amazon ECR yet")

// storageOf returns the oras client of t's repository.
func storageOf(t *Target) (*remote.Repository, error) {
	s, ok := t.Reg.(storager)
	if !ok {
		return nil, fmt.Errorf("%s: %w", t.Ref, ErrNoStorage)
	}
	return s.Storage(t.Repo)
}

// QuarantineDest resolves where an apply quarantines: the flag's value, or shipshape.yaml's
// safety.quarantine (a directory relative to the file), and whether layers go too.
func QuarantineDest(flag string, blobsFlag, blobsSet bool, cfg *config.Config) (dest string, blobs bool) {
	dest, blobs = flag, blobsFlag
	if cfg != nil {
		if dest == "" {
			dest = cfg.Safety.Quarantine
			if quarantine.IsDirectory(dest) {
				dest = cfg.Path(dest)
			}
		}
		if !blobsSet {
			blobs = cfg.Safety.QuarantineBlobs
		}
	}
	return dest, blobs
}

// openQuarantine opens the quarantine at dest: a directory, or a repository on any OCI
// registry, opened with the registry options o and shipshape.yaml cfg. Unless create is
// set, only a quarantine that exists is opened.
func openQuarantine(ctx context.Context, getenv func(string) string, dest string, blobs, create bool, o RegistryOptions, cfg *config.Config) (*quarantine.Quarantine, error) {
	state, err := StateDir(getenv)
	if err != nil {
		return nil, fmt.Errorf("finding a place for the quarantine ledger: %w", err)
	}
	return quarantine.Open(ctx, dest, quarantine.Options{
		Blobs:      blobs,
		Existing:   !create,
		LedgerDir:  filepath.Join(state, "quarantine"),
		Repository: repositoryOpener(ctx, o, cfg),
	})
}

// repositoryOpener opens repositories with the registry options o.
func repositoryOpener(ctx context.Context, o RegistryOptions, cfg *config.Config) func(host, repo string) (oras.Target, error) {
	o.Progress = nil
	return func(host, repo string) (oras.Target, error) {
		other, err := Open(ctx, host+"/"+repo, cfg, o)
		if err != nil {
			return nil, err
		}
		return storageOf(other)
	}
}

// quarantineSink is apply's Quarantine: it copies from the repository being cleaned.
type quarantineSink struct {
	q          *quarantine.Quarantine
	src        content.ReadOnlyStorage
	host, repo string
}

// sourceOf returns what a quarantine copies t's repository from: through the OCI backend's
// cache (oci.Source), where the manifests and configs the inventory just read are, by
// digest, so that copying them costs no request.
func sourceOf(t *Target) (content.ReadOnlyStorage, error) {
	if c, ok := t.Reg.(*oci.Client); ok {
		return c.Source(t.Repo)
	}
	return storageOf(t)
}

func (s *quarantineSink) Keep(ctx context.Context, k apply.Keep) (string, error) {
	e := quarantine.Entry{Run: k.Run, Host: s.host, Repository: s.repo, Digest: k.Digest, Tags: slices.Clone(k.Tags), Rule: k.Rule, Reason: k.Reason}
	if img := k.Image; img != nil {
		e.MediaType, e.Subject = img.MediaType, img.Subject
	}
	if _, err := s.q.Put(ctx, s.src, e); err != nil {
		return "", err
	}
	return s.q.String(), nil
}

func (s *quarantineSink) Sync() error { return s.q.Sync() }

// RestoreRequest is one restore: from a quarantine into the repository of Target.
type RestoreRequest struct {
	Target *Target
	// From is the quarantine: a directory or a repository HOST/REPO.
	From string
	// Digest, Tag, Run or All picks what to restore (exactly one).
	Digest, Tag, Run string
	All              bool
	Retag, DryRun    bool
	Getenv           func(string) string
}

// Restore puts quarantined manifests back into the repository (see quarantine.Restore).
func Restore(ctx context.Context, req RestoreRequest) ([]quarantine.Restored, error) {
	t := req.Target
	dst, err := storageOf(t)
	if err != nil {
		return nil, err
	}
	q, err := openQuarantine(ctx, req.Getenv, req.From, false, false, t.opts, t.cfg)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return q.Restore(ctx, dst, quarantine.Selection{Host: t.Host, Repository: t.Repo, Digest: req.Digest, Tag: req.Tag, Run: req.Run, All: req.All},
		quarantine.RestoreOptions{Retag: req.Retag, DryRun: req.DryRun})
}

// RunsDir is where apply logs its runs on host/repo: $XDG_STATE_HOME/shipshape/runs/HOST/REPO.
func RunsDir(getenv func(string) string, host, repo string) (string, error) {
	base, err := StateDir(getenv)
	if err != nil {
		return "", fmt.Errorf("finding the deletion log: %w", err)
	}
	return filepath.Join(base, "runs", safeHost(host), filepath.FromSlash(repo)), nil
}

// LogRequest selects runs of the deletion log.
type LogRequest struct {
	// Ref limits the log to one repository ("" every repository).
	Ref string
	// Since limits it to runs started at or after it (zero: every run).
	Since time.Time
	// Run limits it to one run.
	Run    string
	Getenv func(string) string
}

// Log reads the deletion log: every apply run recorded, oldest first.
func Log(req LogRequest) ([]*apply.LoggedRun, error) {
	base, err := StateDir(req.Getenv)
	if err != nil {
		return nil, fmt.Errorf("finding the deletion log: %w", err)
	}
	root := filepath.Join(base, "runs")
	if req.Ref != "" {
		host, repo, err := registry.ParseReference(req.Ref)
		if err != nil {
			return nil, &FlagError{Err: err}
		}
		if root, err = RunsDir(req.Getenv, host, repo); err != nil {
			return nil, err
		}
	}
	runs, err := apply.ReadRuns(root)
	if err != nil {
		return nil, err
	}
	out := runs[:0]
	for _, r := range runs {
		if r.Started.Before(req.Since) || (req.Run != "" && r.ID != req.Run) {
			continue
		}
		out = append(out, r)
	}
	if req.Run != "" && len(out) == 0 {
		return nil, &FlagError{Flag: "run", Err: fmt.Errorf("no run %s in the deletion log (%s)", req.Run, root)}
	}
	return out, nil
}

// PruneQuarantines removes from each quarantine what was put there before cutoff: the
// quarantines dests names, or, when it names none, every quarantine the deletion log
// records. Quarantine repositories are opened with the registry options o.
func PruneQuarantines(ctx context.Context, getenv func(string) string, o RegistryOptions, cfg *config.Config, dests []string, cutoff time.Time) ([]quarantine.Pruned, error) {
	if len(dests) == 0 {
		runs, err := Log(LogRequest{Getenv: getenv})
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			for _, q := range r.Quarantines {
				if !slices.Contains(dests, q) {
					dests = append(dests, q)
				}
			}
		}
	}
	var out []quarantine.Pruned
	for _, dest := range dests {
		q, err := openQuarantine(ctx, getenv, dest, false, false, o, cfg)
		if err != nil {
			return out, err
		}
		n, bytes, err := q.Prune(ctx, cutoff)
		cerr := q.Close()
		if err != nil {
			return out, fmt.Errorf("pruning %s: %w", dest, err)
		}
		if cerr != nil {
			return out, fmt.Errorf("pruning %s: %w", dest, cerr)
		}
		out = append(out, quarantine.Pruned{Quarantine: dest, Entries: n, Bytes: bytes})
	}
	return out, nil
}
