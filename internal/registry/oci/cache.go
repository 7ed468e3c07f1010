package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Kinds of content in the disk cache, each in its own directory.
const (
	kindManifest = "manifests"
	kindConfig   = "configs"
)

// store is the disk cache under Options.CacheDir. Content is stored by digest and checked
// against it when read, so an entry is never stale and a damaged one is only a miss.
type store struct {
	dir string
}

func (s *store) path(kind string, d digest.Digest) (string, bool) {
	if d.Validate() != nil {
		return "", false
	}
	return filepath.Join(s.dir, kind, d.Algorithm().String(), d.Encoded()), true
}

// get returns the content of d, if the cache holds it intact.
func (s *store) get(kind string, d digest.Digest, limit int64) ([]byte, bool) {
	p, ok := s.path(kind, d)
	if !ok {
		return nil, false
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() > limit {
		return nil, false
	}
	b, err := os.ReadFile(p)
	if err != nil || d.Algorithm().FromBytes(b) != d {
		return nil, false
	}
	return b, true
}

// put stores b as the content of d. b must have been verified against d.
//
// The file is written in place: a reader that finds it incomplete (a crash, or a
// concurrent writer of the same content) sees a digest mismatch, a miss. Writing through a
// temporary file would cost twice as much for nothing.
func (s *store) put(kind string, d digest.Digest, b []byte) error {
	p, ok := s.path(kind, d)
	if !ok {
		return nil
	}
	err := os.WriteFile(p, b, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		err = os.WriteFile(p, b, 0o644)
	}
	return err
}

// writeAtomic writes b to path through a temporary file renamed into place, so that readers
// see the old content or the new, never a part. Temporary files are made in a directory of
// their own, which stays small.
func (s *store) writeAtomic(path string, b []byte) error {
	tmp := filepath.Join(s.dir, "tmp")
	for _, dir := range []string{tmp, filepath.Dir(path)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(tmp, "write-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// historyVersion is the version of the tag history format; a file of another version is
// ignored (and replaced).
const historyVersion = 1

// history is what earlier inventories of one repository saw: every manifest they found,
// with the tags it last had. It lets Inventory find a manifest whose tag has moved on,
// which the Distribution API has no way to list.
type history struct {
	Version int `json:"version"`
	// Manifests maps digests to what is remembered of them.
	Manifests map[string]seen `json:"manifests"`
}

// seen is what the history remembers of one manifest.
type seen struct {
	// Tags are the tags it had when last seen under a tag.
	Tags []string `json:"tags,omitempty"`
	// Tagged is when it was last seen under a tag; zero if never.
	Tagged time.Time `json:"tagged,omitzero"`
	// Seen is when an inventory last found it.
	Seen time.Time `json:"seen"`
}

func (s *store) historyPath(host, repo string) string {
	return filepath.Join(s.dir, "tags", strings.ReplaceAll(host, ":", "_"), filepath.FromSlash(repo)+".json")
}

// loadHistory reads the history of repo. A missing file is an empty history; an unreadable
// one is reported, and treated as empty by the caller.
func (s *store) loadHistory(host, repo string) (*history, error) {
	h := &history{Version: historyVersion, Manifests: make(map[string]seen)}
	b, err := os.ReadFile(s.historyPath(host, repo))
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	var got history
	if err := json.Unmarshal(b, &got); err != nil {
		return h, fmt.Errorf("parsing %s: %w", s.historyPath(host, repo), err)
	}
	if got.Version != historyVersion {
		return h, fmt.Errorf("%s: unknown version %d", s.historyPath(host, repo), got.Version)
	}
	for d, e := range got.Manifests {
		if digest.Digest(d).Validate() == nil {
			h.Manifests[d] = e
		}
	}
	return h, nil
}

// saveHistory replaces the history of repo.
func (s *store) saveHistory(host, repo string, h *history) error {
	for d, e := range h.Manifests {
		slices.Sort(e.Tags)
		h.Manifests[d] = e
	}
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	return s.writeAtomic(s.historyPath(host, repo), append(b, '\n'))
}
