package oci

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	)
	for _, tc := range []struct {
		name      string
		raw       string
		mediaType string // as the registry reported it
		config    *imageConfig
		want      inventory.Image
	}{
		{
			name:      "OCI index",
			raw:       `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d1 + `","size":10,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d2 + `","size":10,"platform":{"os":"unknown","architecture":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"` + d1 + `"}}],"annotations":{"org.opencontainers.image.created":"2026-01-02T03:04:05Z","com.example":"x"}}`,
			mediaType: inventory.MediaTypeOCIIndex,
			want: inventory.Image{
				Digest: d3, MediaType: inventory.MediaTypeOCIIndex,
				Children: []inventory.Child{
					{Digest: d1, MediaType: inventory.MediaTypeOCIManifest, Platform: "linux/arm64/v8"},
					{Digest: d2, MediaType: inventory.MediaTypeOCIManifest, Platform: "unknown/unknown", Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d1}},
				},
				Labels: map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z"},
			},
		},
		{
			name:      "Docker manifest list",
			raw:       `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"` + d1 + `","size":10,"platform":{"os":"linux","architecture":"amd64"}}]}`,
			mediaType: inventory.MediaTypeDockerList,
			want: inventory.Image{Digest: d3, MediaType: inventory.MediaTypeDockerList,
				Children: []inventory.Child{{Digest: d1, MediaType: inventory.MediaTypeDockerV2, Platform: "linux/amd64"}}},
		},
		{
			name:      "empty index",
			raw:       `{"schemaVersion":2,"manifests":[]}`,
			mediaType: "",
			want:      inventory.Image{Digest: d3, MediaType: inventory.MediaTypeOCIIndex, Children: []inventory.Child{}},
		},
		{
			name:      "image: config and layers",
			raw:       `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + d1 + `","size":100},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + d2 + `","size":1000}]}`,
			mediaType: "",
			config:    &imageConfig{Config: containerConfig{Labels: map[string]string{"org.opencontainers.image.revision": "abc", "maintainer": "x"}}},
			want: inventory.Image{Digest: d3, MediaType: inventory.MediaTypeOCIManifest, SizeBytes: 1100,
				Config: &inventory.Blob{Digest: d1, Size: 100}, Layers: []inventory.Blob{{Digest: d2, Size: 1000}},
				Labels: map[string]string{"org.opencontainers.image.revision": "abc"}},
		},
		{
			name:      "image: a manifest annotation wins over the config label of its name",
			raw:       `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + d1 + `","size":100},"layers":[],"annotations":{"org.opencontainers.image.revision":"from-annotation"}}`,
			mediaType: inventory.MediaTypeOCIManifest,
			config:    &imageConfig{Config: containerConfig{Labels: map[string]string{"org.opencontainers.image.revision": "from-label", "org.opencontainers.image.source": "https://example.com/app"}}},
			want: inventory.Image{Digest: d3, MediaType: inventory.MediaTypeOCIManifest, SizeBytes: 100,
				Config: &inventory.Blob{Digest: d1, Size: 100}, Layers: []inventory.Blob{},
				Labels: map[string]string{"org.opencontainers.image.revision": "from-annotation", "org.opencontainers.image.source": "https://example.com/app"}},
		},
		{
			name:      "Docker image",
			raw:       `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"` + d1 + `","size":7},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"` + d2 + `","size":3}]}`,
			mediaType: inventory.MediaTypeDockerV2,
			want: inventory.Image{Digest: d3, MediaType: inventory.MediaTypeDockerV2, SizeBytes: 10,
				Config: &inventory.Blob{Digest: d1, Size: 7}, Layers: []inventory.Blob{{Digest: d2, Size: 3}}},
		},
		{
			name:      "artifact: its layers only, and its subject",
			raw:       `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + d1 + `","size":2},"layers":[{"mediaType":"application/spdx+json","digest":"` + d2 + `","size":500}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d1 + `","size":9}}`,
			mediaType: inventory.MediaTypeOCIManifest,
			want: inventory.Image{Digest: d3, MediaType: inventory.MediaTypeOCIManifest, ArtifactType: "application/spdx+json", Subject: d1, SizeBytes: 500,
				Config: &inventory.Blob{Digest: d1, Size: 2}, Layers: []inventory.Blob{{Digest: d2, Size: 500}}},
		},
		{
			name:      "artifact type from the config media type",
			raw:       `{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"` + d1 + `","size":2},"layers":[]}`,
			mediaType: inventory.MediaTypeOCIManifest,
			want: inventory.Image{Digest: d3, MediaType: inventory.MediaTypeOCIManifest, ArtifactType: "application/vnd.cncf.helm.config.v1+json",
				Config: &inventory.Blob{Digest: d1, Size: 2}, Layers: []inventory.Blob{}},
		},
		{
			name:      "OCI artifact manifest (withdrawn from the spec): blobs as layers",
			raw:       `{"mediaType":"application/vnd.oci.artifact.manifest.v1+json","artifactType":"application/vnd.example","blobs":[{"mediaType":"application/octet-stream","digest":"` + d2 + `","size":40}]}`,
			mediaType: "",
			want: inventory.Image{Digest: d3, MediaType: "application/vnd.oci.artifact.manifest.v1+json", ArtifactType: "application/vnd.example", SizeBytes: 40,
				Layers: []inventory.Blob{{Digest: d2, Size: 40}}},
		},
		{
			name:      "Docker schema 1: media type only",
			raw:       `{"schemaVersion":1,"name":"app","tag":"v1","fsLayers":[{"blobSum":"` + d2 + `"}]}`,
			mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws",
			want:      inventory.Image{Digest: d3, MediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := parseManifest([]byte(tc.raw), tc.mediaType)
			if err != nil {
				t.Fatalf("parseManifest() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, describe(d3, m, tc.config)); diff != "" {
				t.Errorf("describe() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-03-01T10:00:00Z", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-03-01T12:00:00.5+02:00", time.Date(2026, 3, 1, 10, 0, 0, 5e8, time.UTC)},
		{"1990-01-01T00:00:00Z", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1970-01-01T00:00:00Z", time.Time{}}, // SOURCE_DATE_EPOCH=0
		{"1980-01-01T00:00:01Z", time.Time{}}, // the zip epoch
		{"0001-01-01T00:00:00Z", time.Time{}}, // Go's zero time, as some tools write it
		{"yesterday", time.Time{}},
		{"", time.Time{}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := parseTime(tc.in); !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("parseTime(%q) = %v, want %v in UTC", tc.in, got, tc.want)
			}
		})
	}
}
