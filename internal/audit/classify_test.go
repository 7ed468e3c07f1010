package audit

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

func TestTagSignatureSubjects(t *testing.T) {
	t.Parallel()
	hex := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name string
		tags []string
		want []string
	}{
		{"none", nil, nil},
		{"ordinary tags", []string{"v1", "latest", "sha-0123456"}, nil},
		{"signature", []string{"sha256-" + hex + ".sig"}, []string{"sha256:" + hex}},
		{"attestation and sbom", []string{"sha256-" + hex + ".att", "v1", "sha256-" + hex + ".sbom"}, []string{"sha256:" + hex, "sha256:" + hex}},
		{"short digest", []string{"sha256-abc.sig"}, nil},
		{"long digest", []string{"sha256-" + hex + "0.sig"}, nil},
		{"upper-case hex", []string{"sha256-" + strings.ToUpper(hex) + ".sig"}, nil},
		{"other suffix", []string{"sha256-" + hex + ".sig2", "sha256-" + hex + ".txt", "sha256-" + hex}, nil},
		{"other algorithm", []string{"sha512-" + hex + ".sig"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tagSignatureSubjects(tt.tags)); diff != "" {
				t.Errorf("tagSignatureSubjects(%q) mismatch (-want +got):\n%s", tt.tags, diff)
			}
		})
	}
}

func TestReferrerKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		artifactType string
		want         kind
	}{
		{"application/vnd.dev.cosign.artifact.sig.v1+json", kindSignature},
		{"application/vnd.cncf.notary.signature", kindSignature},
		{"application/vnd.dev.sigstore.bundle.v0.3+json", kindSignature},
		{"application/spdx+json", kindSBOM},
		{"text/spdx", kindSBOM},
		{"application/vnd.cyclonedx+json", kindSBOM},
		{"application/vnd.CycloneDX+xml", kindSBOM},
		{"application/vnd.syft+json", kindSBOM},
		{"application/vnd.dev.cosign.artifact.sbom.v1+json", kindSBOM},
		{"application/vnd.in-toto+json", kindOther},
		{"application/vnd.docker.attestation.manifest.v1+json", kindOther},
		{"application/vnd.amazon.soci.index.v1+json", kindOther},
		{"", kindOther},
	}
	for _, tt := range tests {
		t.Run(tt.artifactType, func(t *testing.T) {
			t.Parallel()
			if got := referrerKind(tt.artifactType); got != tt.want {
				t.Errorf("referrerKind(%q) = %v, want %v", tt.artifactType, got, tt.want)
			}
		})
	}
}

func TestLooksLikeAttestation(t *testing.T) {
	t.Parallel()
	attestation := func() inventory.Image {
		return inventory.Image{
			Digest:    "sha256:a",
			MediaType: inventory.MediaTypeOCIManifest,
			Config:    &inventory.Blob{Digest: "sha256:c", Size: 241},
			Layers:    []inventory.Blob{{Digest: "sha256:l", Size: 20_000}},
		}
	}
	tests := []struct {
		name   string
		change func(*inventory.Image)
		want   bool
	}{
		{"buildx attestation manifest", func(*inventory.Image) {}, true},
		{"provenance and SBOM layers", func(i *inventory.Image) {
			i.Layers = append(i.Layers, inventory.Blob{Digest: "sha256:s", Size: attestationLayerMax})
		}, true},
		{"large SBOM", func(i *inventory.Image) { i.Layers[0].Size = attestationLayerMax + 1 }, false},
		{"image config", func(i *inventory.Image) { i.Config.Size = attestationConfigMax + 1 }, false},
		{"labels", func(i *inventory.Image) { i.Labels = map[string]string{"org.opencontainers.image.revision": "x"} }, false},
		{"artifact", func(i *inventory.Image) { i.ArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json" }, false},
		{"docker media type", func(i *inventory.Image) { i.MediaType = inventory.MediaTypeDockerV2 }, false},
		{"index", func(i *inventory.Image) { i.MediaType = inventory.MediaTypeOCIIndex }, false},
		{"no config (describe-images)", func(i *inventory.Image) { i.Config = nil }, false},
		{"no layers", func(i *inventory.Image) { i.Layers = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img := attestation()
			tt.change(&img)
			if got := looksLikeAttestation(&img); got != tt.want {
				t.Errorf("looksLikeAttestation(%+v) = %v, want %v", img, got, tt.want)
			}
		})
	}
}

func TestCounted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want string
	}{
		{0, "0 images"},
		{1, "1 image"},
		{999, "999 images"},
		{1000, "1,000 images"},
		{1234567, "1,234,567 images"},
		{-1500, "-1,500 images"},
	}
	for _, tt := range tests {
		if got := counted(tt.n, "image", "images"); got != tt.want {
			t.Errorf("counted(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
