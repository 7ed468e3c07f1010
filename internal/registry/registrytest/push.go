package registrytest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types and annotations of what build tools push.
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaTypeInToto         = "application/vnd.in-toto+json"
	mediaTypeCosignSig      = "application/vnd.dev.cosign.simplesigning.v1+json"

	// AnnotationRefType and AnnotationRefDigest mark a buildx attestation manifest in its
	// index: RefTypeAttestation, and the digest of the image it describes.
	AnnotationRefType   = "vnd.docker.reference.type"
	AnnotationRefDigest = "vnd.docker.reference.digest"
	RefTypeAttestation  = "attestation-manifest"
)

// baseLayerSize and uniqueLayerSize are the sizes of the layers of pushed images: small,
// as tests push thousands.
const (
	baseLayerSize   = 2048
	uniqueLayerSize = 512
)

// ImageOptions describe an image for PushImage.
type ImageOptions struct {
	// Platform is "os/arch[/variant]"; "" means linux/amd64.
	Platform string
	// Created is the config's created field and the manifest's
	// org.opencontainers.image.created annotation; zero leaves both out.
	Created time.Time
	// Labels are the config's labels.
	Labels map[string]string
	// Annotations are added to the manifest's annotations.
	Annotations map[string]string
	// Base names a base layer: images with the same Base share its blob, as images built
	// from the same base image do. "" means no base layer.
	Base string
	// Docker pushes a Docker schema 2 manifest instead of an OCI one.
	Docker bool
}

// BuildOptions describe what PushBuild pushes.
type BuildOptions struct {
	// Platforms are the platforms built, "os/arch[/variant]"; none means linux/amd64.
	Platforms []string
	// NoAttestations leaves out the provenance attestation manifests buildx adds by
	// default (--provenance=false).
	NoAttestations bool
	// Created is each image config's created field and the index's
	// org.opencontainers.image.created annotation (docker buildx build
	// --annotation index:org.opencontainers.image.created=…); zero leaves both out.
	Created time.Time
	// Labels are each image config's labels.
	Labels map[string]string
	// Base names a base layer shared by every image with the same Base; "" means none.
	Base string
	// Docker pushes a Docker manifest list of Docker schema 2 images, without
	// attestations, as buildx does with oci-mediatypes=false.
	Docker bool
}

// Build is what PushBuild pushed, by digest.
type Build struct {
	// Index is the tagged index (or manifest list).
	Index string
	// Images maps each platform to its image manifest.
	Images map[string]string
	// Attestations maps each platform to the attestation manifest of its image.
	Attestations map[string]string
}

// PushBuild pushes what docker buildx build --push pushes: an index, tagged tag, listing
// one image manifest per platform and, unless opt.NoAttestations, one attestation manifest
// per image (platform unknown/unknown, annotated with the digest of the image it
// describes). The images and attestations are untagged.
func PushBuild(t testing.TB, host, repo, tag string, opt BuildOptions) Build {
	t.Helper()
	p := newPusher(t, host, repo)
	platforms := opt.Platforms
	if len(platforms) == 0 {
		platforms = []string{"linux/amd64"}
	}
	b := Build{Images: make(map[string]string), Attestations: make(map[string]string)}
	index := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
	}
	if opt.Docker {
		index.MediaType = mediaTypeDockerList
	}
	var attestations []ocispec.Descriptor
	for _, pl := range platforms {
		img := p.image(ImageOptions{Platform: pl, Created: opt.Created, Labels: opt.Labels, Base: opt.Base, Docker: opt.Docker}, false)
		desc := p.manifest(img, img.MediaType, "")
		desc.Platform = parsePlatform(pl)
		index.Manifests = append(index.Manifests, desc)
		b.Images[pl] = desc.Digest.String()
		if opt.NoAttestations || opt.Docker {
			continue
		}
		att := p.attestation(desc)
		attDesc := p.manifest(att, att.MediaType, "")
		attDesc.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
		attDesc.Annotations = map[string]string{
			AnnotationRefType:   RefTypeAttestation,
			AnnotationRefDigest: desc.Digest.String(),
		}
		attestations = append(attestations, attDesc)
		b.Attestations[pl] = attDesc.Digest.String()
	}
	index.Manifests = append(index.Manifests, attestations...)
	if !opt.Created.IsZero() && !opt.Docker {
		index.Annotations = map[string]string{ocispec.AnnotationCreated: opt.Created.UTC().Format(time.RFC3339)}
	}
	b.Index = p.manifest(index, index.MediaType, tag).Digest.String()
	return b
}

// PushImage pushes a single-platform image manifest, tagged tag, or untagged when tag is
// "", and returns its digest.
func PushImage(t testing.TB, host, repo, tag string, opt ImageOptions) string {
	t.Helper()
	p := newPusher(t, host, repo)
	img := p.image(opt, true)
	return p.manifest(img, img.MediaType, tag).Digest.String()
}

// PushReferrer pushes an OCI 1.1 artifact of artifactType whose subject is subjectDigest,
// and returns its digest. On a registry without the referrers API, it also updates the
// subject's referrers index, tagged sha256-<hex> (the referrers tag schema).
func PushReferrer(t testing.TB, host, repo, subjectDigest, artifactType string) string {
	t.Helper()
	p := newPusher(t, host, repo)
	subject := p.head(subjectDigest)
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       p.blob([]byte("{}"), ocispec.MediaTypeEmptyJSON),
		Layers:       []ocispec.Descriptor{p.blob(randomBytes(t, uniqueLayerSize), "application/octet-stream")},
		Subject:      &subject,
	}
	m.Config.Data = []byte("{}")
	return p.manifest(m, m.MediaType, "").Digest.String()
}

// PushCosignSignature pushes what cosign sign pushes by default: an ordinary image
// manifest, with no subject, tagged sha256-<hex>.sig after the digest it signs. It returns
// the signature's digest.
func PushCosignSignature(t testing.TB, host, repo, subjectDigest string) string {
	t.Helper()
	p := newPusher(t, host, repo)
	payload := []byte(`{"critical":{"identity":{"docker-reference":"` + host + "/" + repo + `"},"image":{"docker-manifest-digest":"` + subjectDigest + `"},"type":"cosign container image signature"},"optional":null}`)
	layer := p.blob(payload, mediaTypeCosignSig)
	layer.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQ" + strings.Repeat("A", 90)}
	config, _ := json.Marshal(map[string]any{
		"architecture": "", "os": "", "created": "0001-01-01T00:00:00Z", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layer.Digest.String()}},
	})
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    p.blob(config, ocispec.MediaTypeImageConfig),
		Layers:    []ocispec.Descriptor{layer},
	}
	tag := strings.Replace(subjectDigest, ":", "-", 1) + ".sig"
	return p.manifest(m, m.MediaType, tag).Digest.String()
}

// Tag points each of tags at the manifest dgst of repo.
func Tag(t testing.TB, host, repo, dgst string, tags ...string) {
	t.Helper()
	p := newPusher(t, host, repo)
	desc, err := remote.Get(p.repo.Digest(dgst), p.opts...)
	if err != nil {
		t.Fatalf("reading %s: %v", dgst, err)
	}
	for _, tag := range tags {
		if err := remote.Put(p.repo.Tag(tag), desc, p.opts...); err != nil {
			t.Fatalf("tagging %s as %s: %v", dgst, tag, err)
		}
	}
}

// pusher pushes blobs and manifests to one repository, failing the test on any error.
type pusher struct {
	t    testing.TB
	repo name.Repository
	opts []remote.Option
}

func newPusher(t testing.TB, host, repo string) *pusher {
	t.Helper()
	r, err := name.NewRepository(host+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatalf("repository %s/%s: %v", host, repo, err)
	}
	ctx := context.Background()
	p, err := remote.NewPusher(remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("creating a pusher: %v", err)
	}
	return &pusher{t: t, repo: r, opts: []remote.Option{remote.WithContext(ctx), remote.Reuse(p)}}
}

// blob uploads b and returns its descriptor.
func (p *pusher) blob(b []byte, mediaType string) ocispec.Descriptor {
	p.t.Helper()
	if err := remote.WriteLayer(p.repo, static.NewLayer(b, types.MediaType(mediaType)), p.opts...); err != nil {
		p.t.Fatalf("uploading a blob to %s: %v", p.repo, err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

// manifest pushes v, marshalled, as a manifest of mediaType, tagged tag or by digest when
// tag is "", and returns its descriptor.
func (p *pusher) manifest(v any, mediaType, tag string) ocispec.Descriptor {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatalf("encoding a manifest: %v", err)
	}
	d := digest.FromBytes(b)
	var ref name.Reference = p.repo.Digest(d.String())
	if tag != "" {
		ref = p.repo.Tag(tag)
	}
	if err := remote.Put(ref, rawManifest{b: b, mediaType: mediaType}, p.opts...); err != nil {
		p.t.Fatalf("pushing manifest %s to %s: %v", d, ref, err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// head returns the descriptor of the manifest dgst.
func (p *pusher) head(dgst string) ocispec.Descriptor {
	p.t.Helper()
	desc, err := remote.Head(p.repo.Digest(dgst), p.opts...)
	if err != nil {
		p.t.Fatalf("reading %s in %s: %v", dgst, p.repo, err)
	}
	return ocispec.Descriptor{MediaType: string(desc.MediaType), Digest: digest.Digest(desc.Digest.String()), Size: desc.Size}
}

// image uploads the blobs of an image and returns its manifest, with the created
// annotation when annotate is set.
func (p *pusher) image(opt ImageOptions, annotate bool) ocispec.Manifest {
	p.t.Helper()
	configType, layerType, manifestType := ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageManifest
	if opt.Docker {
		configType, layerType, manifestType = mediaTypeDockerConfig, mediaTypeDockerLayer, mediaTypeDockerManifest
	}
	var layers []ocispec.Descriptor
	if opt.Base != "" {
		layers = append(layers, p.blob(baseLayer(opt.Base), layerType))
	}
	layers = append(layers, p.blob(randomBytes(p.t, uniqueLayerSize), layerType))

	pl := parsePlatform(opt.Platform)
	cfg := map[string]any{
		"architecture": pl.Architecture,
		"os":           pl.OS,
		"config":       map[string]any{},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": digests(layers)},
	}
	if pl.Variant != "" {
		cfg["variant"] = pl.Variant
	}
	if !opt.Created.IsZero() {
		cfg["created"] = opt.Created.UTC().Format(time.RFC3339Nano)
	}
	if len(opt.Labels) > 0 {
		cfg["config"] = map[string]any{"Labels": opt.Labels}
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		p.t.Fatalf("encoding an image config: %v", err)
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: manifestType,
		Config:    p.blob(config, configType),
		Layers:    layers,
	}
	if !opt.Docker {
		anns := maps.Clone(opt.Annotations)
		if annotate && !opt.Created.IsZero() {
			if anns == nil {
				anns = make(map[string]string)
			}
			anns[ocispec.AnnotationCreated] = opt.Created.UTC().Format(time.RFC3339)
		}
		m.Annotations = anns
	}
	return m
}

// attestation uploads the blobs of a buildx provenance attestation of the image subject
// and returns its manifest.
func (p *pusher) attestation(subject ocispec.Descriptor) ocispec.Manifest {
	p.t.Helper()
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"` + p.repo.String() + `","digest":{"sha256":"` + subject.Digest.Encoded() + `"}}],"predicate":{"builder":{"id":""},"buildType":"https://mobyproject.org/buildkit@v1"}}`)
	layer := p.blob(statement, mediaTypeInToto)
	layer.Annotations = map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}
	config, _ := json.Marshal(map[string]any{
		"architecture": "unknown", "os": "unknown", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layer.Digest.String()}},
	})
	return ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    p.blob(config, ocispec.MediaTypeImageConfig),
		Layers:    []ocispec.Descriptor{layer},
	}
}

// rawManifest is a manifest to push as it is.
type rawManifest struct {
	b         []byte
	mediaType string
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.MediaType(m.mediaType), nil }

// parsePlatform parses "os/arch[/variant]"; "" is linux/amd64.
func parsePlatform(s string) *ocispec.Platform {
	if s == "" {
		s = "linux/amd64"
	}
	parts := strings.SplitN(s, "/", 3)
	p := &ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p
}

// baseLayer returns the content of the base layer called name: the same bytes for the
// same name.
func baseLayer(name string) []byte {
	b := make([]byte, 0, baseLayerSize)
	sum := sha256.Sum256([]byte(name))
	for len(b) < baseLayerSize {
		b = append(b, sum[:]...)
		sum = sha256.Sum256(sum[:])
	}
	return b[:baseLayerSize]
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		t.Fatalf("reading random bytes: %v", err)
	}
	return b
}

func digests(descs []ocispec.Descriptor) []string {
	out := make([]string, len(descs))
	for i, d := range descs {
		out[i] = d.Digest.String()
	}
	return out
}
