// Command fill pushes a CI-like repository of buildx-style image indexes to a registry for benchmarks.
//
//	go run ./bench/fill -registry 127.0.0.1:5000 -repo bench/app [-builds 1500] [-seed 1] [-concurrency 16]
//
// Every build is an OCI image index, as `docker buildx build --push` makes it: a linux/amd64
// image manifest and an attestation manifest (platform unknown/unknown, annotated with
// vnd.docker.reference.type=attestation-manifest and the image's digest). Each build is tagged
// sha-<7 hex>; every third build also gets a pr-N tag, or a vX.Y.Z tag for every fourth of
// those, so 1,500 builds make 2,000 tags and 4,500 manifests. Images share a base layer and
// add a small random layer of their own; indexes, manifests and configs carry creation times
// 40 to 100 minutes apart, the newest at -now. The registry is spoken to over plain HTTP.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

const (
	annotationCreated  = "org.opencontainers.image.created"
	annotationRevision = "org.opencontainers.image.revision"
	inTotoMediaType    = "application/vnd.in-toto+json"
)

type options struct {
	registry    string
	repo        string
	builds      int
	seed        uint64
	concurrency int
	now         time.Time
}

func main() {
	var o options
	now := flag.String("now", "2026-06-01T12:00:00Z", "creation time of the newest build (RFC 3339)")
	flag.StringVar(&o.registry, "registry", "127.0.0.1:5000", "registry `HOST:PORT`")
	flag.StringVar(&o.repo, "repo", "bench/app", "repository `NAME`")
	flag.IntVar(&o.builds, "builds", 1500, "number of builds (image indexes) to push")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated history")
	flag.IntVar(&o.concurrency, "concurrency", 16, "builds pushed at once")
	flag.Parse()
	if flag.NArg() != 0 || o.builds < 1 || o.concurrency < 1 {
		flag.Usage()
		os.Exit(2)
	}
	t, err := time.Parse(time.RFC3339, *now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill: -now:", err)
		os.Exit(2)
	}
	o.now = t.UTC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

// blob is a piece of content with its descriptor.
type blob struct {
	desc ocispec.Descriptor
	data []byte
}

// build is one CI build: the blobs and manifests to push, children first, and its tags.
type build struct {
	blobs     []blob
	manifests []blob // the image, the attestation, then the index
	tags      []string
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	repo, err := remote.NewRepository(o.registry + "/" + o.repo)
	if err != nil {
		return fmt.Errorf("parsing the repository: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2 * o.concurrency
	repo.Client = &http.Client{Transport: tr, Timeout: time.Minute}
	repo.PlainHTTP = true

	base, builds, err := generate(o)
	if err != nil {
		return err
	}
	if err := repo.Push(ctx, base.desc, bytes.NewReader(base.data)); err != nil {
		return fmt.Errorf("pushing the base layer: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency)
	for _, b := range builds {
		g.Go(func() error { return push(ctx, repo, b) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	tags, blobs := 0, 1
	for _, b := range builds {
		tags += len(b.tags)
		blobs += len(b.blobs)
	}
	fmt.Printf("pushed %s: %d builds, %d tags, %d manifests (%d indexes, %d images, %d attestations), %d blobs in %.1f s\n",
		repo.Reference, len(builds), tags, 3*len(builds), len(builds), len(builds), len(builds),
		blobs, time.Since(start).Seconds())
	return nil
}

// push uploads one build: blobs, then the child manifests by digest, then the index under each tag.
func push(ctx context.Context, repo *remote.Repository, b build) error {
	for _, bl := range b.blobs {
		if err := repo.Push(ctx, bl.desc, bytes.NewReader(bl.data)); err != nil {
			return fmt.Errorf("pushing blob %s: %w", bl.desc.Digest, err)
		}
	}
	last := len(b.manifests) - 1
	for _, m := range b.manifests[:last] {
		if err := repo.Push(ctx, m.desc, bytes.NewReader(m.data)); err != nil {
			return fmt.Errorf("pushing manifest %s: %w", m.desc.Digest, err)
		}
	}
	idx := b.manifests[last]
	for _, tag := range b.tags {
		if err := repo.PushReference(ctx, idx.desc, bytes.NewReader(idx.data), tag); err != nil {
			return fmt.Errorf("pushing %s: %w", tag, err)
		}
	}
	return nil
}

// generate makes the shared base layer and the builds, oldest first, deterministically from the seed.
func generate(o options) (blob, []build, error) {
	rng := rand.New(rand.NewPCG(o.seed, 0x5eed))
	base, baseDiff, err := tarLayer("etc/os-release", randomBytes(rng, 4096))
	if err != nil {
		return blob{}, nil, err
	}
	times := make([]time.Time, o.builds)
	t := o.now
	for i := o.builds - 1; i >= 0; i-- {
		times[i] = t
		t = t.Add(-time.Duration(40+rng.IntN(61)) * time.Minute)
	}
	seen := make(map[string]bool, o.builds)
	builds := make([]build, 0, o.builds)
	pr, minor, patch := 100, 0, 0
	for i := range o.builds {
		commit := hex.EncodeToString(randomBytes(rng, 20))
		for seen[commit[:7]] {
			commit = hex.EncodeToString(randomBytes(rng, 20))
		}
		seen[commit[:7]] = true
		b, err := newBuild(rng, base, baseDiff, commit, times[i])
		if err != nil {
			return blob{}, nil, fmt.Errorf("build %d: %w", i, err)
		}
		b.tags = []string{"sha-" + commit[:7]}
		switch {
		case i%12 == 11:
			patch++
			if patch == 10 {
				minor, patch = minor+1, 0
			}
			b.tags = append(b.tags, fmt.Sprintf("v1.%d.%d", minor, patch))
		case i%3 == 2:
			pr += 1 + rng.IntN(3)
			b.tags = append(b.tags, fmt.Sprintf("pr-%d", pr))
		}
		builds = append(builds, b)
	}
	return base, builds, nil
}

// newBuild makes the content of one build: an image, its buildx provenance attestation and their index.
func newBuild(rng *rand.Rand, base blob, baseDiff digest.Digest, commit string, created time.Time) (build, error) {
	var b build
	stamp := created.Format(time.RFC3339)
	app, appDiff, err := tarLayer("app/bin", randomBytes(rng, 2048+rng.IntN(6144)))
	if err != nil {
		return b, err
	}
	cfg, err := jsonBlob(ocispec.MediaTypeImageConfig, ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			Entrypoint: []string{"/app/bin"},
			Labels: map[string]string{
				annotationCreated:                 stamp,
				annotationRevision:                commit,
				"org.opencontainers.image.source": "https://example.com/acme/app",
			},
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{baseDiff, appDiff}},
		History: []ocispec.History{
			{Created: &created, CreatedBy: "ADD rootfs.tar.gz /"},
			{Created: &created, CreatedBy: "COPY app /app"},
		},
	})
	if err != nil {
		return b, err
	}
	img, err := jsonBlob(ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      cfg.desc,
		Layers:      []ocispec.Descriptor{base.desc, app.desc},
		Annotations: map[string]string{annotationCreated: stamp},
	})
	if err != nil {
		return b, err
	}

	statement, err := provenance(commit, img.desc.Digest, created)
	if err != nil {
		return b, err
	}
	stmt := blob{desc: content.NewDescriptorFromBytes(inTotoMediaType, statement), data: statement}
	stmt.desc.Annotations = map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}
	attCfg, err := jsonBlob(ocispec.MediaTypeImageConfig, ocispec.Image{
		Platform: ocispec.Platform{Architecture: "unknown", OS: "unknown"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{stmt.desc.Digest}},
	})
	if err != nil {
		return b, err
	}
	att, err := jsonBlob(ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    attCfg.desc,
		Layers:    []ocispec.Descriptor{stmt.desc},
	})
	if err != nil {
		return b, err
	}

	imgRef, attRef := img.desc, att.desc
	imgRef.Platform = &ocispec.Platform{Architecture: "amd64", OS: "linux"}
	attRef.Platform = &ocispec.Platform{Architecture: "unknown", OS: "unknown"}
	attRef.Annotations = map[string]string{
		"vnd.docker.reference.type":   "attestation-manifest",
		"vnd.docker.reference.digest": img.desc.Digest.String(),
	}
	idx, err := jsonBlob(ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageIndex,
		Manifests:   []ocispec.Descriptor{imgRef, attRef},
		Annotations: map[string]string{annotationCreated: stamp},
	})
	if err != nil {
		return b, err
	}
	b.blobs = []blob{cfg, app, attCfg, stmt}
	b.manifests = []blob{img, att, idx}
	return b, nil
}

// provenance returns a small in-toto statement about the image, shaped like buildx's min-mode provenance.
func provenance(commit string, subject digest.Digest, created time.Time) ([]byte, error) {
	statement := map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": "https://slsa.dev/provenance/v0.2",
		"subject": []map[string]any{{
			"name":   "pkg:docker/app@sha-" + commit[:7] + "?platform=linux%2Famd64",
			"digest": map[string]string{subject.Algorithm().String(): subject.Encoded()},
		}},
		"predicate": map[string]any{
			"builder":   map[string]string{"id": "https://example.com/acme/app/actions"},
			"buildType": "https://mobyproject.org/buildkit@v1",
			"invocation": map[string]any{
				"configSource": map[string]string{"entryPoint": "Dockerfile"},
				"parameters":   map[string]string{"frontend": "dockerfile.v0"},
			},
			"metadata": map[string]any{
				"buildStartedOn":  created.Add(-3 * time.Minute).Format(time.RFC3339),
				"buildFinishedOn": created.Format(time.RFC3339),
				"completeness":    map[string]bool{"parameters": false, "environment": true, "materials": false},
			},
			"materials": []map[string]any{{
				"uri":    "https://example.com/acme/app.git",
				"digest": map[string]string{"sha1": commit},
			}},
		},
	}
	b, err := json.Marshal(statement)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	return b, nil
}

// jsonBlob marshals v as content of the given media type.
func jsonBlob(mediaType string, v any) (blob, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return blob{}, fmt.Errorf("encoding %s: %w", mediaType, err)
	}
	return blob{desc: content.NewDescriptorFromBytes(mediaType, data), data: data}, nil
}

// tarLayer returns a gzipped layer holding one file, and the digest of its uncompressed tar.
func tarLayer(path string, data []byte) (blob, digest.Digest, error) {
	var tarBuf, gzBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	hdr := &tar.Header{Name: path, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return blob{}, "", fmt.Errorf("layer: %w", err)
	}
	if _, err := tw.Write(data); err != nil {
		return blob{}, "", fmt.Errorf("layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return blob{}, "", fmt.Errorf("layer: %w", err)
	}
	zw := gzip.NewWriter(&gzBuf)
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return blob{}, "", fmt.Errorf("layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return blob{}, "", fmt.Errorf("layer: %w", err)
	}
	gz := gzBuf.Bytes()
	return blob{desc: content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, gz), data: gz},
		digest.FromBytes(tarBuf.Bytes()), nil
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
