package quarantine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// prepareDir makes dir a quarantine if it is not one: it creates it, or fills it when it
// is empty, or adopts an OCI image layout that lists nothing. Anything else in it is an
// error wrapping ErrNotQuarantine: shipshape never writes into someone's directory.
func prepareDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case isNotExist(err):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return initDir(dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("not a directory: %w", ErrNotQuarantine)
	}
	names, err := readDirNames(dir)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return initDir(dir)
	}
	layout, err := os.ReadFile(filepath.Join(dir, ocispec.ImageLayoutFile))
	if isNotExist(err) {
		return fmt.Errorf("the directory is not empty and has no %s: %w", ocispec.ImageLayoutFile, ErrNotQuarantine)
	}
	if err != nil {
		return err
	}
	var l ocispec.ImageLayout
	if err := json.Unmarshal(layout, &l); err != nil || l.Version != ocispec.ImageLayoutVersion {
		return fmt.Errorf("%s is not an OCI image layout %s: %w", ocispec.ImageLayoutFile, ocispec.ImageLayoutVersion, ErrNotQuarantine)
	}
	if _, err := os.Stat(filepath.Join(dir, ledgerFile)); err == nil {
		return nil
	} else if !isNotExist(err) {
		return err
	}
	// An OCI layout without a ledger: ours if it lists nothing (a quarantine whose
	// creation was cut short), someone else's otherwise.
	b, err := os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile))
	if err != nil && !isNotExist(err) {
		return err
	}
	if err == nil {
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			return fmt.Errorf("an OCI image layout with an unreadable %s and no ledger: %w", ocispec.ImageIndexFile, ErrNotQuarantine)
		}
		if len(idx.Manifests) > 0 {
			return fmt.Errorf("an OCI image layout that lists %d manifests and has no ledger (%s): %w", len(idx.Manifests), ledgerFile, ErrNotQuarantine)
		}
	}
	return initDir(dir)
}

// initDir writes the files of an empty quarantine into dir: the layout first, the ledger
// last, so that a quarantine whose creation was cut short is an empty layout.
func initDir(dir string) error {
	layout, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(dir, ocispec.ImageLayoutFile, layout); err != nil {
		return err
	}
	if err := writeIndex(dir, nil); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, ledgerFile), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating the ledger: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("creating the ledger: %w", err)
	}
	return syncDir(dir)
}

// writeIndex writes dir's index.json listing entries (once per tag, or once if untagged),
// unless it lists exactly that already.
func writeIndex(dir string, entries []Entry) error {
	idx := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{},
	}
	for _, e := range entries {
		annotations := func() map[string]string {
			return map[string]string{
				AnnotationRepository:  e.Host + "/" + e.Repository,
				AnnotationRun:         e.Run,
				AnnotationQuarantined: e.At.UTC().Format(time.RFC3339),
			}
		}
		desc := ocispec.Descriptor{MediaType: e.MediaType, Digest: digest.Digest(e.Digest), Size: e.Size}
		if len(e.Tags) == 0 {
			desc.Annotations = annotations()
			idx.Manifests = append(idx.Manifests, desc)
		}
		for _, tag := range e.Tags {
			desc.Annotations = annotations()
			desc.Annotations[ocispec.AnnotationRefName] = tag
			idx.Manifests = append(idx.Manifests, desc)
		}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", ocispec.ImageIndexFile, err)
	}
	b = append(b, '\n')
	if old, err := os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile)); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return writeFileAtomic(dir, ocispec.ImageIndexFile, b)
}

// writeFileAtomic replaces dir/name with data: a temporary file, synced, renamed into
// place, and the directory synced, so that a crash leaves the old file or the new one.
func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return syncDir(dir)
}

// syncDir syncs a directory, making the names created or removed in it durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// readDirNames returns the names in dir.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
