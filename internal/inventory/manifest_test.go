package inventory_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// manifestCase is a manifest as a registry serves it, and what DecodeManifest makes of it.
type manifestCase struct {
	name      string
	raw       string // short digests "sha256:a" … expand (see long)
	mediaType string // as the registry reported it
	want      inventory.Image
}

// The digest of every manifest decoded in these tests.
const manifestDigest = digestF

var manifestCases = []manifestCase{
	{
		name: "OCI index: platforms, a buildx attestation, labels from annotations",
		raw: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
			{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":10,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
			{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":10,"platform":{"os":"unknown","architecture":"unknown"},
			 "annotations":{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"sha256:a"}},
			{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:c","size":10}],
			"annotations":{"org.opencontainers.image.created":"2026-01-02T03:04:05Z","com.example":"x"}}`,
		mediaType: inventory.MediaTypeOCIIndex,
		want: inventory.Image{
			Digest: manifestDigest, MediaType: inventory.MediaTypeOCIIndex,
			Children: []inventory.Child{
				{Digest: digestA, MediaType: inventory.MediaTypeOCIManifest, Platform: "linux/arm64/v8"},
				{Digest: digestB, MediaType: inventory.MediaTypeOCIManifest, Platform: inventory.PlatformUnknownUnknown,
					Annotations: map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation, inventory.AnnotationRefDigest: digestA}},
				{Digest: digestC, MediaType: inventory.MediaTypeOCIManifest},
			},
			Labels: map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z"},
		},
	},
	{
		name:      "Docker manifest list",
		raw:       `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:a","size":10,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		mediaType: inventory.MediaTypeDockerList,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeDockerList,
			Children: []inventory.Child{{Digest: digestA, MediaType: inventory.MediaTypeDockerV2, Platform: "linux/amd64"}}},
	},
	{
		name: "index without a media type anywhere: told by its manifests list, empty but known",
		raw:  `{"schemaVersion":2,"manifests":[]}`,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIIndex, Children: []inventory.Child{}},
	},
	{
		name: "OCI image without a media type anywhere: config and layers, both counted",
		raw:  `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:a","size":100},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:b","size":1000},{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:c","size":10}]}`,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIManifest, SizeBytes: 1110,
			Config: &inventory.Blob{Digest: digestA, Size: 100}, Layers: []inventory.Blob{{Digest: digestB, Size: 1000}, {Digest: digestC, Size: 10}}},
	},
	{
		name:      "Docker schema 2 image",
		raw:       `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:a","size":7},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:b","size":3}]}`,
		mediaType: inventory.MediaTypeDockerV2,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeDockerV2, SizeBytes: 10,
			Config: &inventory.Blob{Digest: digestA, Size: 7}, Layers: []inventory.Blob{{Digest: digestB, Size: 3}}},
	},
	{
		name:      "OCI artifact in an image manifest: its artifact type, subject and layers; its config not counted",
		raw:       `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:a","size":2},"layers":[{"mediaType":"application/spdx+json","digest":"sha256:b","size":500}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:c","size":9},"annotations":{"org.opencontainers.image.created":"2026-01-02T03:04:05Z"}}`,
		mediaType: inventory.MediaTypeOCIManifest,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIManifest, ArtifactType: "application/spdx+json", Subject: digestC, SizeBytes: 500,
			Config: &inventory.Blob{Digest: digestA, Size: 2}, Layers: []inventory.Blob{{Digest: digestB, Size: 500}},
			Labels: map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z"}},
	},
	{
		name:      "artifact type from the config media type (a Helm chart)",
		raw:       `{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:a","size":2},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"sha256:b","size":30}]}`,
		mediaType: inventory.MediaTypeOCIManifest,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIManifest, ArtifactType: "application/vnd.cncf.helm.config.v1+json", SizeBytes: 30,
			Config: &inventory.Blob{Digest: digestA, Size: 2}, Layers: []inventory.Blob{{Digest: digestB, Size: 30}}},
	},
	{
		name:      "buildx attestation manifest: an image config makes no artifact type",
		raw:       `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:a","size":167},"layers":[{"mediaType":"application/vnd.in-toto+json","digest":"sha256:b","size":1500,"annotations":{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}}]}`,
		mediaType: inventory.MediaTypeOCIManifest,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIManifest, SizeBytes: 1667,
			Config: &inventory.Blob{Digest: digestA, Size: 167}, Layers: []inventory.Blob{{Digest: digestB, Size: 1500}}},
	},
	{
		name: "OCI artifact manifest (withdrawn from the spec): blobs as layers, subject",
		raw:  `{"mediaType":"application/vnd.oci.artifact.manifest.v1+json","artifactType":"application/vnd.example","blobs":[{"mediaType":"application/octet-stream","digest":"sha256:b","size":40},{"mediaType":"application/octet-stream","digest":"sha256:c","size":2}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":9}}`,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIArtifact, ArtifactType: "application/vnd.example", Subject: digestA, SizeBytes: 42,
			Layers: []inventory.Blob{{Digest: digestB, Size: 40}, {Digest: digestC, Size: 2}}},
	},
	{
		name:      "a known media type reported wins over the manifest's",
		raw:       `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[{"digest":"sha256:a"}]}`,
		mediaType: inventory.MediaTypeOCIIndex,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIIndex,
			Children: []inventory.Child{{Digest: digestA}}},
	},
	{
		name:      "an unknown media type reported yields to the manifest's",
		raw:       `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[]}`,
		mediaType: "application/octet-stream",
		want:      inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeDockerV2, Layers: []inventory.Blob{}},
	},
	{
		name:      "an unknown media type reported, the manifest naming none: kept, described by its blobs",
		raw:       `{"schemaVersion":2,"layers":[{"digest":"sha256:a","size":5}]}`,
		mediaType: "application/vnd.example.manifest.v1+json",
		want: inventory.Image{Digest: manifestDigest, MediaType: "application/vnd.example.manifest.v1+json", SizeBytes: 5,
			Layers: []inventory.Blob{{Digest: digestA, Size: 5}}},
	},
	{
		name:      "sizes that overflow int64 saturate",
		raw:       `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:a","size":9223372036854775807},"layers":[{"digest":"sha256:b","size":9223372036854775807},{"digest":"sha256:c","size":1}]}`,
		mediaType: inventory.MediaTypeOCIManifest,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIManifest, SizeBytes: math.MaxInt64,
			Config: &inventory.Blob{Digest: digestA, Size: math.MaxInt64}, Layers: []inventory.Blob{{Digest: digestB, Size: math.MaxInt64}, {Digest: digestC, Size: 1}}},
	},
	{
		name:      "negative sizes count as 0, and are kept as given",
		raw:       `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:a","size":-9223372036854775808},"layers":[{"digest":"sha256:b","size":-5},{"digest":"sha256:c","size":7}]}`,
		mediaType: inventory.MediaTypeOCIManifest,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIManifest, SizeBytes: 7,
			Config: &inventory.Blob{Digest: digestA, Size: math.MinInt64}, Layers: []inventory.Blob{{Digest: digestB, Size: -5}, {Digest: digestC, Size: 7}}},
	},
	{
		name: "neither config nor layers: no blobs known",
		raw:  `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`,
		want: inventory.Image{Digest: manifestDigest, MediaType: inventory.MediaTypeOCIManifest},
	},
}

func TestDecodeManifest(t *testing.T) {
	t.Parallel()
	for _, tc := range manifestCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := inventory.DecodeManifest(manifestDigest, []byte(long(tc.raw)), tc.mediaType)
			if err != nil {
				t.Fatalf("DecodeManifest() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecodeManifest() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeManifestRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw, mediaType string
		schema1              bool   // the error wraps ErrSchema1
		want                 string // in the error
	}{
		{
			name:    "Docker schema 1, by its schemaVersion",
			raw:     `{"schemaVersion":1,"name":"app","tag":"v1","architecture":"amd64","fsLayers":[{"blobSum":"sha256:a"}],"history":[{"v1Compatibility":"{}"}]}`,
			schema1: true, want: "schema 1",
		},
		{
			name:      "Docker schema 1, by the media type reported",
			raw:       `{"name":"app","tag":"v1","fsLayers":[{"blobSum":"sha256:a"}],"signatures":[]}`,
			mediaType: inventory.MediaTypeDockerV1Signed,
			schema1:   true, want: "schema 1",
		},
		{
			name:    "Docker schema 1, by the media type it names",
			raw:     `{"mediaType":"application/vnd.docker.distribution.manifest.v1+json","fsLayers":[]}`,
			schema1: true, want: "schema 1",
		},
		{name: "invalid JSON", raw: `{"schemaVersion":2,"layers":[`, want: "decoding manifest"},
		{name: "not JSON", raw: "\x00\xff", want: "decoding manifest"},
		{name: "not an object", raw: `["sha256:a"]`, want: "decoding manifest"},
		{name: "a size that is not a number", raw: `{"layers":[{"digest":"sha256:a","size":"10"}]}`, want: "decoding manifest"},
		{name: "a size beyond int64", raw: `{"layers":[{"digest":"sha256:a","size":9223372036854775808}]}`, want: "decoding manifest"},
		{
			name:      "an index entry without a digest: the children are unknown",
			raw:       `{"schemaVersion":2,"manifests":[{"digest":"sha256:a"},{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10}]}`,
			mediaType: inventory.MediaTypeOCIIndex,
			want:      "manifests[1] has no digest",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := inventory.DecodeManifest(manifestDigest, []byte(long(tc.raw)), tc.mediaType)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, inventory.ErrSchema1) != tc.schema1 {
				t.Fatalf("DecodeManifest() = %+v, %v; want an error containing %q (ErrSchema1: %t)", img, err, tc.want, tc.schema1)
			}
		})
	}
}

// TestManifestImageSharesNothing: an Image outlives the manifest it came from, and callers
// change both (oci adds config labels), so no map may be shared.
func TestManifestImageSharesNothing(t *testing.T) {
	t.Parallel()
	m, err := inventory.ParseManifest([]byte(long(manifestCases[0].raw)), "")
	if err != nil {
		t.Fatal(err)
	}
	img := m.Image(manifestDigest)
	img.Labels["org.opencontainers.image.title"] = "changed"
	img.Children[1].Annotations[inventory.AnnotationRefType] = "changed"
	if diff := cmp.Diff(manifestCases[0].want, m.Image(manifestDigest)); diff != "" {
		t.Errorf("Image() after changing an earlier Image (-want +got):\n%s", diff)
	}
}

// FuzzDecodeManifest feeds arbitrary manifests to DecodeManifest. It must never panic; what
// it accepts names every child, and describes an index by its children and anything else by
// its blobs, with a size that is never negative.
func FuzzDecodeManifest(f *testing.F) {
	for _, tc := range manifestCases {
		f.Add([]byte(long(tc.raw)), tc.mediaType)
	}
	f.Add([]byte(`{"schemaVersion":1,"fsLayers":[]}`), "")
	f.Add([]byte(`null`), "")
	f.Add([]byte(`{"manifests":[{"size":1}]}`), inventory.MediaTypeDockerList)
	f.Add([]byte(`{"mediaType":"application/vnd.oci.artifact.manifest.v1+json","blobs":[{"digest":"x","size":-1}],"layers":[{"digest":"y","size":9}]}`), "")
	f.Fuzz(func(t *testing.T, raw []byte, mediaType string) {
		img, err := inventory.DecodeManifest(manifestDigest, raw, mediaType)
		if err != nil {
			if img.Digest != "" {
				t.Fatalf("DecodeManifest() = %+v with error %v, want a zero Image", img, err)
			}
			return
		}
		if img.Digest != manifestDigest || img.MediaType == "" {
			t.Fatalf("DecodeManifest() = digest %q, media type %q", img.Digest, img.MediaType)
		}
		for n, c := range img.Children {
			if c.Digest == "" {
				t.Fatalf("DecodeManifest() child %d has no digest: %+v", n, img.Children)
			}
		}
		if img.IsIndex() != (img.Children != nil) || (img.IsIndex() && (img.Config != nil || img.Layers != nil)) {
			t.Fatalf("DecodeManifest() = index %t with children %v, config %v, layers %v", img.IsIndex(), img.Children, img.Config, img.Layers)
		}
		if img.SizeBytes < 0 {
			t.Fatalf("DecodeManifest() SizeBytes = %d", img.SizeBytes)
		}
	})
}
