package quarantine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// A registry quarantine keeps, beside the copies, each run's part of its ledger: an OCI
// artifact tagged LedgerTagPrefix<run>, whose one layer is the run's live entries as ledger
// lines. So the repository describes itself: a machine without the local ledger (a CI job
// started afresh) learns what it holds when it opens it, and can restore from it.
const (
	// LedgerTagPrefix starts the tag of a run's ledger artifact.
	LedgerTagPrefix = TagPrefix + "ledger-"
	// ledgerArtifactType is the artifact type of a run's ledger artifact.
	ledgerArtifactType = "application/vnd.shipshape.quarantine.ledger.v1"
	// ledgerLayerType is the media type of its layer: ledger lines (JSON Lines).
	ledgerLayerType = "application/vnd.shipshape.quarantine.ledger.v1+jsonl"
	// maxLedgerArtifact bounds what is read of one run's ledger artifact.
	maxLedgerArtifact = 256 << 20
)

// mirrorRuns writes the ledger artifact of each run in runs to the registry repository: its
// live entries, or, when it has none left, no artifact. q.mu is held.
func (q *Quarantine) mirrorRuns(ctx context.Context, runs map[string]bool) error {
	var errs []error
	for run := range runs {
		var buf bytes.Buffer
		for _, r := range q.recs {
			if r.Run != run {
				continue
			}
			line, err := json.Marshal(record{Put: r})
			if err != nil {
				return fmt.Errorf("encoding the ledger of run %s: %w", run, err)
			}
			buf.Write(append(line, '\n'))
		}
		if err := q.mirrorRun(ctx, run, buf.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("writing the ledger of run %s to %s: %w", run, q.name, err))
			continue
		}
		delete(runs, run)
	}
	return errors.Join(errs...)
}

// mirrorRun replaces the ledger artifact of run with one holding lines; no lines deletes
// it.
func (q *Quarantine) mirrorRun(ctx context.Context, run string, lines []byte) error {
	tag := LedgerTagPrefix + run
	old, err := q.target.Resolve(ctx, tag)
	switch {
	case errors.Is(err, errdef.ErrNotFound):
		old = ocispec.Descriptor{}
	case err != nil:
		return err
	}
	if len(lines) > 0 {
		layer := content.NewDescriptorFromBytes(ledgerLayerType, lines)
		if err := pushIfMissing(ctx, q.target, layer, lines); err != nil {
			return err
		}
		desc, err := oras.PackManifest(ctx, q.target, oras.PackManifestVersion1_1, ledgerArtifactType,
			oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}, ManifestAnnotations: map[string]string{AnnotationRun: run}})
		if err != nil {
			return err
		}
		if err := q.target.Tag(ctx, desc, tag); err != nil {
			return err
		}
		if desc.Digest == old.Digest {
			return nil
		}
	}
	if old.Digest == "" {
		return nil
	}
	deleter, ok := q.target.(content.Deleter)
	if !ok {
		return errors.New("the quarantine repository cannot delete manifests")
	}
	if err := deleter.Delete(ctx, old); err != nil && !errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("deleting the ledger artifact it replaces: %w", err)
	}
	return nil
}

// pushIfMissing pushes data as desc unless the target has it.
func pushIfMissing(ctx context.Context, t oras.Target, desc ocispec.Descriptor, data []byte) error {
	ok, err := t.Exists(ctx, desc)
	if err != nil || ok {
		return err
	}
	err = t.Push(ctx, desc, bytes.NewReader(data))
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

// remoteRuns lists the runs whose ledger artifact the registry repository holds.
func remoteRuns(ctx context.Context, t oras.Target) ([]string, error) {
	lister, ok := t.(registry.TagLister)
	if !ok {
		return nil, nil
	}
	var runs []string
	err := lister.Tags(ctx, "", func(tags []string) error {
		for _, tag := range tags {
			if run, ok := strings.CutPrefix(tag, LedgerTagPrefix); ok && run != "" {
				runs = append(runs, run)
			}
		}
		return nil
	})
	if isRepositoryUnknown(err) {
		return nil, nil
	}
	return runs, err
}

// readRemoteRun reads the ledger lines of run from its artifact in the registry repository.
func readRemoteRun(ctx context.Context, t oras.Target, run string) ([]*putRecord, error) {
	desc, err := t.Resolve(ctx, LedgerTagPrefix+run)
	if err != nil {
		return nil, err
	}
	manifest, err := content.FetchAll(ctx, t, desc)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("the ledger artifact of run %s is not an OCI manifest: %w", run, err)
	}
	if m.ArtifactType != ledgerArtifactType || len(m.Layers) != 1 || m.Layers[0].MediaType != ledgerLayerType || m.Layers[0].Size > maxLedgerArtifact {
		return nil, fmt.Errorf("the ledger artifact of run %s is not one shipshape wrote", run)
	}
	rc, err := t.Fetch(ctx, m.Layers[0])
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := content.ReadAll(rc, m.Layers[0])
	if err != nil {
		return nil, err
	}
	recs, _, _, torn, err := readLedger(io.NopCloser(bytes.NewReader(data)))
	if err != nil {
		return nil, fmt.Errorf("the ledger artifact of run %s: %w", run, err)
	}
	if torn {
		return nil, fmt.Errorf("the ledger artifact of run %s ends in a torn line", run)
	}
	for _, r := range recs {
		if r.Run != run {
			return nil, fmt.Errorf("the ledger artifact of run %s holds an entry of run %s", run, r.Run)
		}
		if _, err := digest.Parse(r.Digest); err != nil {
			return nil, fmt.Errorf("the ledger artifact of run %s: %w", run, err)
		}
	}
	return recs, nil
}

// adoptRemoteRuns adds to the local ledger the runs the registry repository's ledger
// artifacts hold and the local ledger has never recorded: those another machine quarantined.
// An artifact that cannot be read completely is an error: what the quarantine holds is
// never shown as less than it is.
func (q *Quarantine) adoptRemoteRuns(ctx context.Context) error {
	runs, err := remoteRuns(ctx, q.target)
	if err != nil {
		return fmt.Errorf("listing the ledger artifacts: %w", err)
	}
	for _, run := range runs {
		if q.runs[run] {
			continue
		}
		recs, err := readRemoteRun(ctx, q.target, run)
		if err != nil {
			return fmt.Errorf("reading the ledger of run %s: %w", run, err)
		}
		lines := make([]record, len(recs))
		for i, r := range recs {
			lines[i] = record{Put: r}
		}
		if err := q.ledger.append(lines...); err != nil {
			return err
		}
		for _, r := range recs {
			q.recs = withPut(q.recs, r)
		}
		q.runs[run] = true
	}
	return nil
}
