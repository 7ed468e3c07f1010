package quarantine_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	orasoci "oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/shipshape-dev/shipshape/internal/quarantine"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// t0 is when the tests quarantine things.
var t0 = time.Date(2026, 11, 30, 4, 15, 2, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// storage returns the oras client of host/repo, as apply gets it.
func storage(t *testing.T, host, repo string) *remote.Repository {
	t.Helper()
	c, err := oci.New(host, oci.Options{RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Storage(repo)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// open opens the quarantine at dest, closed when the test ends.
func open(t *testing.T, dest string, opts quarantine.Options) *quarantine.Quarantine {
	t.Helper()
	q, err := quarantine.Open(context.Background(), dest, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dest, err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// put quarantines digest of host/repo, failing the test on error.
func put(t *testing.T, q *quarantine.Quarantine, src content.ReadOnlyStorage, run, host, repo, dgst string, tags ...string) quarantine.Entry {
	t.Helper()
	e, err := q.Put(context.Background(), src, quarantine.Entry{Run: run, Host: host, Repository: repo, Digest: dgst, Tags: tags})
	if err != nil {
		t.Fatalf("Put(%s) = %v", dgst, err)
	}
	return e
}

// graph is what a manifest's graph holds, read from a registry by the test itself.
type graph struct {
	manifests, configs, layers []ocispec.Descriptor
}

func (g graph) all() []ocispec.Descriptor {
	return slices.Concat(g.manifests, g.configs, g.layers)
}

func sizeOf(descs ...[]ocispec.Descriptor) int64 {
	var n int64
	for _, d := range slices.Concat(descs...) {
		n += d.Size
	}
	return n
}

// resolve returns the descriptor of the manifest dgst in r.
func resolve(t *testing.T, r *remote.Repository, dgst string) ocispec.Descriptor {
	t.Helper()
	desc, err := r.Resolve(context.Background(), dgst)
	if err != nil {
		t.Fatalf("resolving %s: %v", dgst, err)
	}
	return ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
}

// readGraph reads the graph of root from f: every manifest (children, subjects), config
// and layer, each once.
func readGraph(t *testing.T, f content.Fetcher, root ocispec.Descriptor) graph {
	t.Helper()
	var g graph
	seen := make(map[digest.Digest]bool)
	var visit func(d ocispec.Descriptor)
	visit = func(d ocispec.Descriptor) {
		if seen[d.Digest] {
			return
		}
		seen[d.Digest] = true
		b, err := content.FetchAll(context.Background(), f, d)
		if err != nil {
			t.Fatalf("reading %s: %v", d.Digest, err)
		}
		g.manifests = append(g.manifests, d)
		var m struct {
			Manifests []ocispec.Descriptor `json:"manifests"`
			Config    *ocispec.Descriptor  `json:"config"`
			Layers    []ocispec.Descriptor `json:"layers"`
			Subject   *ocispec.Descriptor  `json:"subject"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("parsing %s: %v", d.Digest, err)
		}
		if m.Subject != nil {
			visit(*m.Subject)
		}
		for _, c := range m.Manifests {
			visit(c)
		}
		if m.Config != nil && !seen[m.Config.Digest] {
			seen[m.Config.Digest] = true
			g.configs = append(g.configs, *m.Config)
		}
		for _, l := range m.Layers {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				g.layers = append(g.layers, l)
			}
		}
	}
	visit(root)
	return g
}

// blobFile is where a directory quarantine keeps d.
func blobFile(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func hasBlob(t *testing.T, dir string, d digest.Digest) bool {
	t.Helper()
	_, err := os.Stat(blobFile(dir, d))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// ledgerLines returns the lines of a ledger, each decoded.
func ledgerLines(t *testing.T, path string) []map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("ledger line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// readIndex reads a directory quarantine's index.json.
func readIndex(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestIsDirectory(t *testing.T) {
	t.Parallel()
	existing := t.TempDir()
	for _, tc := range []struct {
		dest string
		want bool
	}{
		{"/var/lib/shipshape/quarantine", true},
		{"./quarantine", true},
		{"../quarantine", true},
		{"~/quarantine", true},
		{"quarantine", true},
		{"quarantine/team", true},
		{existing, true},
		{"127.0.0.1:5000/quarantine", false},
		{"localhost/quarantine", false},
		{"localhost:5000/quarantine/app", false},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/quarantine", false},
		{"ghcr.io/acme/quarantine", false},
	} {
		if got := quarantine.IsDirectory(tc.dest); got != tc.want {
			t.Errorf("IsDirectory(%q) = %v, want %v", tc.dest, got, tc.want)
		}
	}
}

// TestPutIndexIntoDirectory quarantines a buildx build (an index of two images and their
// attestations) into a directory, with and without layers.
func TestPutIndexIntoDirectory(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	b := registrytest.PushBuild(t, host, repo, "v1", registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}, Base: "debian"})
	src := storage(t, host, repo)
	g := readGraph(t, src, resolve(t, src, b.Index))
	if len(g.manifests) != 5 || len(g.layers) != 5 {
		t.Fatalf("the build has %d manifests and %d layers, want 5 and 5 (index, 2 images, 2 attestations; a shared base, 2 image layers, 2 statements)", len(g.manifests), len(g.layers))
	}

	for _, blobs := range []bool{false, true} {
		t.Run(map[bool]string{false: "manifests", true: "blobs"}[blobs], func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "quarantine")
			q := open(t, dir, quarantine.Options{Blobs: blobs, Now: fixedNow})
			e, err := q.Put(context.Background(), src, quarantine.Entry{
				Run: "20261130T041502Z-3f9a", Host: host, Repository: repo, Digest: b.Index,
				Tags: []string{"v1"}, Rule: 2, Reason: "older than 30 days",
			})
			if err != nil {
				t.Fatalf("Put() = %v", err)
			}
			wantBytes := sizeOf(g.manifests, g.configs)
			if blobs {
				wantBytes += sizeOf(g.layers)
			}
			want := quarantine.Entry{
				Run: "20261130T041502Z-3f9a", Host: host, Repository: repo, Digest: b.Index,
				MediaType: ocispec.MediaTypeImageIndex, Size: g.manifests[0].Size, Tags: []string{"v1"},
				Rule: 2, Reason: "older than 30 days", Blobs: blobs, Bytes: wantBytes, At: t0,
			}
			if diff := cmp.Diff(want, e); diff != "" {
				t.Errorf("Put() entry (-want +got):\n%s", diff)
			}
			if err := q.Sync(); err != nil {
				t.Fatalf("Sync() = %v", err)
			}

			for _, d := range slices.Concat(g.manifests, g.configs) {
				if !hasBlob(t, dir, d.Digest) {
					t.Errorf("%s (%s) is not in the quarantine", d.Digest, d.MediaType)
				}
			}
			for _, d := range g.layers {
				if got := hasBlob(t, dir, d.Digest); got != blobs {
					t.Errorf("layer %s in the quarantine: %v, want %v", d.Digest, got, blobs)
				}
			}

			entries, err := q.Entries()
			if err != nil {
				t.Fatalf("Entries() = %v", err)
			}
			if diff := cmp.Diff([]quarantine.Entry{want}, entries); diff != "" {
				t.Errorf("Entries() (-want +got):\n%s", diff)
			}
			lines := ledgerLines(t, filepath.Join(dir, "shipshape-ledger.jsonl"))
			if len(lines) != 1 || lines[0]["put"] == nil {
				t.Errorf("ledger = %v, want one put", lines)
			}

			idx := readIndex(t, dir)
			wantIdx := []ocispec.Descriptor{{
				MediaType: ocispec.MediaTypeImageIndex, Digest: digest.Digest(b.Index), Size: want.Size,
				Annotations: map[string]string{
					ocispec.AnnotationRefName:        "v1",
					quarantine.AnnotationRepository:  host + "/" + repo,
					quarantine.AnnotationRun:         "20261130T041502Z-3f9a",
					quarantine.AnnotationQuarantined: "2026-11-30T04:15:02Z",
				},
			}}
			if diff := cmp.Diff(wantIdx, idx.Manifests); diff != "" {
				t.Errorf("index.json manifests (-want +got):\n%s", diff)
			}

			// Any OCI tool reads the layout: the tag resolves, the graph reads back.
			store, err := orasoci.NewFromFS(context.Background(), os.DirFS(dir))
			if err != nil {
				t.Fatalf("reading the layout with oras: %v", err)
			}
			got, err := store.Resolve(context.Background(), "v1")
			if err != nil || got.Digest.String() != b.Index {
				t.Errorf("layout Resolve(v1) = %v, %v, want %s", got.Digest, err, b.Index)
			}
			for _, d := range slices.Concat(g.manifests, g.configs) {
				if _, err := content.FetchAll(context.Background(), store, d); err != nil {
					t.Errorf("reading %s back from the layout: %v", d.Digest, err)
				}
			}
		})
	}
}

// TestPutReferrerCopiesSubject quarantines a referrer: its subject goes with it.
func TestPutReferrerCopiesSubject(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	subject := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{})
	sbom := registrytest.PushReferrer(t, host, repo, subject, "application/spdx+json")
	src := storage(t, host, repo)
	sg := readGraph(t, src, resolve(t, src, subject))

	dir := t.TempDir()
	q := open(t, dir, quarantine.Options{})
	e, err := q.Put(context.Background(), src, quarantine.Entry{Run: "r1", Host: host, Repository: repo, Digest: sbom})
	if err != nil {
		t.Fatalf("Put() = %v", err)
	}
	if e.Subject != subject {
		t.Errorf("Put().Subject = %q, want %q", e.Subject, subject)
	}
	for _, d := range slices.Concat([]ocispec.Descriptor{{Digest: digest.Digest(sbom)}}, sg.manifests, sg.configs) {
		if !hasBlob(t, dir, d.Digest) {
			t.Errorf("%s is not in the quarantine", d.Digest)
		}
	}
	for _, d := range sg.layers {
		if hasBlob(t, dir, d.Digest) {
			t.Errorf("layer %s of the subject is in the quarantine, without Blobs", d.Digest)
		}
	}
}

// TestPutFailsWhenAChildIsGone: an index whose child the registry no longer serves is not
// quarantined, and the ledger says nothing of it; unless the quarantine holds the child.
func TestPutFailsWhenAChildIsGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, held := range []bool{false, true} {
		t.Run(map[bool]string{false: "missing", true: "held already"}[held], func(t *testing.T) {
			t.Parallel()
			host := registrytest.NewInProcess(t)
			repo := "team/app"
			b := registrytest.PushBuild(t, host, repo, "v1", registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}})
			src := storage(t, host, repo)
			dir := t.TempDir()
			q := open(t, dir, quarantine.Options{})
			child := b.Images["linux/arm64"]
			if held {
				put(t, q, src, "r0", host, repo, child)
			}
			if err := src.Delete(ctx, resolve(t, src, child)); err != nil {
				t.Fatalf("deleting %s: %v", child, err)
			}

			_, err := q.Put(ctx, src, quarantine.Entry{Run: "r1", Host: host, Repository: repo, Digest: b.Index, Tags: []string{"v1"}})
			entries, eerr := q.Entries()
			if eerr != nil {
				t.Fatal(eerr)
			}
			if held {
				if err != nil {
					t.Fatalf("Put() = %v, want nil: the quarantine holds the child", err)
				}
				if len(entries) != 2 {
					t.Errorf("Entries() = %d entries, want 2", len(entries))
				}
				return
			}
			if err == nil {
				t.Fatal("Put() = nil, want an error: a child of the index is gone")
			}
			if !strings.Contains(err.Error(), b.Index) {
				t.Errorf("Put() = %q, want it to name the index", err)
			}
			if len(entries) != 0 {
				t.Errorf("Entries() = %v, want none", entries)
			}
			if lines := ledgerLines(t, filepath.Join(dir, "shipshape-ledger.jsonl")); len(lines) != 0 {
				t.Errorf("ledger = %v, want no line", lines)
			}
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			if m := readIndex(t, dir).Manifests; len(m) != 0 {
				t.Errorf("index.json lists %v, want nothing", m)
			}
		})
	}
}

// TestPutCompletesAnEarlierCopy: a manifest quarantined without layers, then again by a
// quarantine that copies layers, gets its layers; a blob found corrupt is copied again.
func TestPutCompletesAnEarlierCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	img := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{Base: "alpine"})
	src := storage(t, host, repo)
	g := readGraph(t, src, resolve(t, src, img))
	dir := t.TempDir()

	q, err := quarantine.Open(ctx, dir, quarantine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, q, src, "r1", host, repo, img)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	for _, l := range g.layers {
		if hasBlob(t, dir, l.Digest) {
			t.Fatalf("layer %s quarantined without Blobs", l.Digest)
		}
	}

	q = open(t, dir, quarantine.Options{Blobs: true})
	put(t, q, src, "r2", host, repo, img)
	for _, l := range g.layers {
		if !hasBlob(t, dir, l.Digest) {
			t.Errorf("layer %s not quarantined with Blobs, the manifest being there already", l.Digest)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	// A crash before the disk had a blob: the file is there, its content is not.
	layer := blobFile(dir, g.layers[0].Digest)
	if err := os.Chmod(layer, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layer, make([]byte, g.layers[0].Size), 0o644); err != nil {
		t.Fatal(err)
	}
	q = open(t, dir, quarantine.Options{Blobs: true})
	put(t, q, src, "r3", host, repo, img)
	b, err := os.ReadFile(layer)
	if err != nil {
		t.Fatal(err)
	}
	if got := digest.FromBytes(b); got != g.layers[0].Digest {
		t.Errorf("the corrupt layer was kept: it hashes to %s, want %s", got, g.layers[0].Digest)
	}
}

// TestPutIntoRegistry quarantines into another repository of the same registry: the copy
// is tagged, its ledger kept on disk, and restore brings it back from there.
func TestPutIntoRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	repo, qrepo := "team/app", "quarantine/team-app"
	b := registrytest.PushBuild(t, host, repo, "v1", registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}})
	src := storage(t, host, repo)
	g := readGraph(t, src, resolve(t, src, b.Index))
	ledgers := t.TempDir()
	opts := quarantine.Options{
		Repository: func(h, r string) (oras.Target, error) { return storage(t, h, r), nil },
		LedgerDir:  ledgers,
		Now:        fixedNow,
	}
	if quarantine.IsDirectory(host + "/" + qrepo) {
		t.Fatalf("IsDirectory(%s) = true", host+"/"+qrepo)
	}
	q := open(t, host+"/"+qrepo, opts)
	if got, want := q.String(), host+"/"+qrepo; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if _, err := q.Put(ctx, src, quarantine.Entry{Run: "r0", Host: host, Repository: qrepo, Digest: b.Index}); err == nil {
		t.Error("Put() of a manifest of the quarantine repository itself = nil, want an error")
	}
	e := put(t, q, src, "20261130T041502Z-3f9a", host, repo, b.Index, "v1")
	if !e.Blobs || e.Bytes != sizeOf(g.all()) {
		t.Errorf("Put() Blobs, Bytes = %v, %d, want true, %d: a registry holds the layers", e.Blobs, e.Bytes, sizeOf(g.all()))
	}

	dst := storage(t, host, qrepo)
	tag := "shipshape-20261130T041502Z-3f9a-" + digest.Digest(b.Index).Encoded()[:12]
	if got, err := dst.Resolve(ctx, tag); err != nil || got.Digest.String() != b.Index {
		t.Fatalf("Resolve(%s) in the quarantine = %v, %v, want %s", tag, got.Digest, err, b.Index)
	}
	for _, d := range g.all() {
		if ok, err := dst.Exists(ctx, d); err != nil || !ok {
			t.Errorf("%s in the quarantine repository: %v, %v", d.Digest, ok, err)
		}
	}
	ledger := filepath.Join(ledgers, strings.ReplaceAll(host, ":", "_"), "quarantine", "team-app.jsonl")
	if lines := ledgerLines(t, ledger); len(lines) != 1 || lines[0]["put"] == nil {
		t.Errorf("ledger %s = %v, want one put", ledger, lines)
	}

	deleteGraph(t, src, g)
	res, err := q.Restore(ctx, src, quarantine.Selection{Host: host, Repository: repo, Tag: "v1"}, quarantine.RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore() = %v", err)
	}
	if len(res) != 1 || res[0].Outcome != quarantine.OutcomeRestored || !slices.Equal(res[0].Tags, []string{"v1"}) {
		t.Fatalf("Restore() = %+v, want the index restored and tagged v1", res)
	}
	checkGraph(t, src, g)
	if got, err := src.Resolve(ctx, "v1"); err != nil || got.Digest.String() != b.Index {
		t.Errorf("Resolve(v1) = %v, %v, want %s", got.Digest, err, b.Index)
	}

	n, freed, err := q.Prune(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 || freed != sizeOf(g.all()) {
		t.Fatalf("Prune() = %d, %d, %v, want 1, %d, nil", n, freed, err, sizeOf(g.all()))
	}
	for _, d := range g.manifests {
		if ok, err := dst.Exists(ctx, d); err != nil || ok {
			t.Errorf("%s in the quarantine repository after Prune: %v, %v", d.Digest, ok, err)
		}
	}
	if _, err := dst.Resolve(ctx, tag); err == nil {
		t.Errorf("tag %s is still in the quarantine repository after Prune", tag)
	}
}

// deleteGraph deletes the manifests of g from r, the index first.
func deleteGraph(t *testing.T, r *remote.Repository, g graph) {
	t.Helper()
	for _, d := range g.manifests {
		if err := r.Delete(context.Background(), d); err != nil {
			t.Fatalf("deleting %s: %v", d.Digest, err)
		}
	}
}

// checkGraph reads every node of g back from r by digest.
func checkGraph(t *testing.T, r *remote.Repository, g graph) {
	t.Helper()
	for _, d := range g.all() {
		if _, err := content.FetchAll(context.Background(), r, d); err != nil {
			t.Errorf("reading %s (%s) back from the registry: %v", d.Digest, d.MediaType, err)
		}
	}
}

// TestLedger checks how Open reads a ledger a crash or a person left behind, and what
// directories it refuses.
func TestLedger(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	img := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{})
	img2 := registrytest.PushImage(t, host, repo, "v2", registrytest.ImageOptions{})
	src := storage(t, host, repo)

	// quarantined returns a quarantine holding img, closed.
	quarantined := func(t *testing.T) (dir, ledger string) {
		dir = t.TempDir()
		q, err := quarantine.Open(context.Background(), dir, quarantine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		put(t, q, src, "r1", host, repo, img, "v1")
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		return dir, filepath.Join(dir, "shipshape-ledger.jsonl")
	}
	appendTo := func(t *testing.T, path, s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("torn last line", func(t *testing.T) {
		t.Parallel()
		dir, ledger := quarantined(t)
		before, err := os.ReadFile(ledger)
		if err != nil {
			t.Fatal(err)
		}
		appendTo(t, ledger, `{"put":{"run":"r2","host":"`+host+`","repo`)
		q := open(t, dir, quarantine.Options{})
		if entries, err := q.Entries(); err != nil || len(entries) != 1 {
			t.Fatalf("Entries() = %v, %v, want the one whole line", entries, err)
		}
		after, err := os.ReadFile(ledger)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("the torn line was not cut off: ledger is %q", after)
		}
		put(t, q, src, "r2", host, repo, img2, "v2")
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		q = open(t, dir, quarantine.Options{})
		if entries, err := q.Entries(); err != nil || len(entries) != 2 {
			t.Errorf("Entries() after another Put = %v, %v, want 2 entries", entries, err)
		}
	})

	t.Run("corrupt line", func(t *testing.T) {
		t.Parallel()
		dir, ledger := quarantined(t)
		b, err := os.ReadFile(ledger)
		if err != nil {
			t.Fatal(err)
		}
		appendTo(t, ledger, "{\"put\":{\"run\":\n"+string(b))
		_, err = quarantine.Open(context.Background(), dir, quarantine.Options{})
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("Open() = %v, want an error about line 2", err)
		}
	})

	t.Run("unknown record", func(t *testing.T) {
		t.Parallel()
		dir, ledger := quarantined(t)
		appendTo(t, ledger, `{"restored":{"digest":"`+img+`"}}`+"\n")
		if _, err := quarantine.Open(context.Background(), dir, quarantine.Options{}); err == nil {
			t.Error("Open() = nil, want an error: a line it does not understand")
		}
	})

	t.Run("in use", func(t *testing.T) {
		t.Parallel()
		dir, _ := quarantined(t)
		open(t, dir, quarantine.Options{})
		if _, err := quarantine.Open(context.Background(), dir, quarantine.Options{}); !errors.Is(err, quarantine.ErrBusy) {
			t.Errorf("second Open() = %v, want ErrBusy", err)
		}
	})

	t.Run("unrelated directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := quarantine.Open(context.Background(), dir, quarantine.Options{}); !errors.Is(err, quarantine.ErrNotQuarantine) {
			t.Errorf("Open() = %v, want ErrNotQuarantine", err)
		}
		if names, _ := os.ReadDir(dir); len(names) != 1 {
			t.Errorf("Open() wrote into the directory: %v", names)
		}
	})

	t.Run("someone else's layout", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		store, err := orasoci.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		desc := resolve(t, src, img)
		if err := store.Push(context.Background(), desc, bytes.NewReader(fetch(t, src, desc))); err != nil {
			t.Fatal(err)
		}
		if err := store.Tag(context.Background(), desc, "latest"); err != nil {
			t.Fatal(err)
		}
		if _, err := quarantine.Open(context.Background(), dir, quarantine.Options{}); !errors.Is(err, quarantine.ErrNotQuarantine) {
			t.Errorf("Open() = %v, want ErrNotQuarantine", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "shipshape-ledger.jsonl")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open() created a ledger in someone else's layout: %v", err)
		}
	})

	t.Run("empty layout", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		q := open(t, dir, quarantine.Options{})
		put(t, q, src, "r1", host, repo, img)
	})
}

func fetch(t *testing.T, f content.Fetcher, desc ocispec.Descriptor) []byte {
	t.Helper()
	b, err := content.FetchAll(context.Background(), f, desc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrentPuts quarantines eight builds sharing a base layer from eight goroutines.
func TestConcurrentPuts(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := "team/app"
	src := storage(t, host, repo)
	var builds []registrytest.Build
	for i := range 8 {
		builds = append(builds, registrytest.PushBuild(t, host, repo, "v"+string(rune('0'+i)), registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}, Base: "debian"}))
	}
	dir := t.TempDir()
	q := open(t, dir, quarantine.Options{Blobs: true})
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	for i, b := range builds {
		wg.Go(func() {
			_, errs[i] = q.Put(context.Background(), src, quarantine.Entry{Run: "r1", Host: host, Repository: repo, Digest: b.Index, Tags: []string{"v" + string(rune('0'+i))}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put(%d) = %v", i, err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if lines := ledgerLines(t, filepath.Join(dir, "shipshape-ledger.jsonl")); len(lines) != len(builds) {
		t.Errorf("ledger has %d lines, want %d", len(lines), len(builds))
	}
	if m := readIndex(t, dir).Manifests; len(m) != len(builds) {
		t.Errorf("index.json lists %d manifests, want %d", len(m), len(builds))
	}
	for _, b := range builds {
		for _, d := range readGraph(t, src, resolve(t, src, b.Index)).all() {
			f, err := os.ReadFile(blobFile(dir, d.Digest))
			if err != nil {
				t.Errorf("%s: %v", d.Digest, err)
				continue
			}
			if digest.FromBytes(f) != d.Digest {
				t.Errorf("%s: the file hashes to %s", d.Digest, digest.FromBytes(f))
			}
		}
	}
}

// TestOpenExisting: restore and prune open only a quarantine that exists; a mistyped
// destination is an error, and nothing is created there.
func TestOpenExisting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "typo")
	if _, err := quarantine.Open(ctx, dir, quarantine.Options{Existing: true}); !errors.Is(err, quarantine.ErrNoQuarantine) {
		t.Errorf("Open(missing, Existing) = %v, want ErrNoQuarantine", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing, Existing) created %s (%v)", dir, err)
	}
	ledgers := t.TempDir()
	repoOpened := false
	_, err := quarantine.Open(ctx, "registry.example.com/quarantine/app", quarantine.Options{Existing: true, LedgerDir: ledgers,
		Repository: func(host, repo string) (oras.Target, error) { repoOpened = true; return nil, nil }})
	if !errors.Is(err, quarantine.ErrNoQuarantine) || !repoOpened {
		t.Errorf("Open(repository without a ledger, Existing) = %v, want ErrNoQuarantine", err)
	}
	q := open(t, dir, quarantine.Options{})
	q.Close()
	again := open(t, dir, quarantine.Options{Existing: true})
	if entries, err := again.Entries(); err != nil || len(entries) != 0 {
		t.Errorf("Entries() of a new quarantine = %v, %v", entries, err)
	}
}

// TestRegistryDestinationIsDedicated: a repository that holds images of its own is refused
// as a quarantine; and one tagged by someone else after the fact keeps what that tag reaches
// through a prune, since pruning deletes by digest.
func TestRegistryDestinationIsDedicated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	opts := quarantine.Options{
		Repository: func(h, r string) (oras.Target, error) { return storage(t, h, r), nil },
		LedgerDir:  t.TempDir(),
		Now:        fixedNow,
	}
	registrytest.PushImage(t, host, "shared/images", "v1", registrytest.ImageOptions{})
	if _, err := quarantine.Open(ctx, host+"/shared/images", opts); !errors.Is(err, quarantine.ErrNotQuarantine) || !strings.Contains(err.Error(), "v1") {
		t.Errorf("Open(a repository with a tag v1) = %v, want ErrNotQuarantine naming v1", err)
	}

	b := registrytest.PushBuild(t, host, "team/app", "sha-1", registrytest.BuildOptions{})
	src := storage(t, host, "team/app")
	q := open(t, host+"/quarantine/app", opts)
	put(t, q, src, "r1", host, "team/app", b.Index, "sha-1")
	dst := storage(t, host, "quarantine/app")
	root := resolve(t, dst, b.Index)
	if err := dst.Tag(ctx, root, "keep-me"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Prune(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatalf("Prune() = %v", err)
	}
	if got, err := dst.Resolve(ctx, "keep-me"); err != nil || got.Digest.String() != b.Index {
		t.Errorf("after Prune, keep-me resolves to %v (%v), want %s: a tag that is not shipshape's keeps its image", got.Digest, err, b.Index)
	}
}

// TestRegistryLedgerTravels: a registry quarantine carries each run's ledger as an artifact,
// so that a machine without the local ledger (a fresh CI job) sees what it holds and
// restores from it; pruning a run away removes its artifact too.
func TestRegistryLedgerTravels(t *testing.T) {
	t.Parallel()
	for name, start := range map[string]func(testing.TB) string{"in-process": registrytest.NewInProcess, "distribution": registrytest.StartDistribution} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ledgerTravels(t, start(t))
		})
	}
}

func ledgerTravels(t *testing.T, host string) {
	ctx := context.Background()
	opener := func(h, r string) (oras.Target, error) { return storage(t, h, r), nil }
	b1 := registrytest.PushBuild(t, host, "team/app", "sha-1", registrytest.BuildOptions{})
	b2 := registrytest.PushBuild(t, host, "team/app", "sha-2", registrytest.BuildOptions{})
	src := storage(t, host, "team/app")
	dest := host + "/quarantine/app"

	ci1 := open(t, dest, quarantine.Options{Repository: opener, LedgerDir: t.TempDir(), Now: fixedNow})
	put(t, ci1, src, "run-1", host, "team/app", b1.Index, "sha-1")
	put(t, ci1, src, "run-1", host, "team/app", b2.Index, "sha-2")
	if err := ci1.Close(); err != nil {
		t.Fatal(err)
	}
	g1 := readGraph(t, src, resolve(t, src, b1.Index))
	deleteGraph(t, src, g1)

	// Another machine, with no ledger of its own.
	ci2, err := quarantine.Open(ctx, dest, quarantine.Options{Repository: opener, LedgerDir: t.TempDir(), Existing: true})
	if err != nil {
		t.Fatalf("Open() on a machine without the ledger = %v", err)
	}
	defer ci2.Close()
	entries, err := ci2.Entries()
	if err != nil || len(entries) != 2 || entries[0].Digest != b1.Index || !slices.Equal(entries[0].Tags, []string{"sha-1"}) || entries[0].Run != "run-1" {
		t.Fatalf("Entries() on the other machine = %+v, %v; want the two of run-1", entries, err)
	}
	res, err := ci2.Restore(ctx, src, quarantine.Selection{Host: host, Repository: "team/app", Tag: "sha-1"}, quarantine.RestoreOptions{})
	if err != nil || len(res) != 1 || res[0].Outcome != quarantine.OutcomeRestored {
		t.Fatalf("Restore() on the other machine = %+v, %v", res, err)
	}
	checkGraph(t, src, g1)

	// Pruning the run away removes its ledger artifact: a third machine finds nothing.
	if n, _, err := ci2.Prune(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("Prune() = %d, %v; want 2", n, err)
	}
	dst := storage(t, host, "quarantine/app")
	if _, err := dst.Resolve(ctx, quarantine.LedgerTagPrefix+"run-1"); err == nil {
		t.Errorf("the ledger artifact of run-1 is still there after its entries were pruned")
	}
	if _, err := quarantine.Open(ctx, dest, quarantine.Options{Repository: opener, LedgerDir: t.TempDir(), Existing: true}); !errors.Is(err, quarantine.ErrNoQuarantine) {
		t.Errorf("Open() after everything was pruned = %v, want ErrNoQuarantine", err)
	}
}

// TestUnreadableRemoteLedger: a ledger artifact that is not one shipshape wrote makes Open
// fail, rather than show the quarantine as holding less than it does.
func TestUnreadableRemoteLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	registrytest.PushImage(t, host, "quarantine/app", quarantine.LedgerTagPrefix+"run-1", registrytest.ImageOptions{})
	_, err := quarantine.Open(ctx, host+"/quarantine/app", quarantine.Options{
		Repository: func(h, r string) (oras.Target, error) { return storage(t, h, r), nil }, LedgerDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "run-1") {
		t.Errorf("Open() with an unreadable ledger artifact = %v, want an error naming run-1", err)
	}
}
