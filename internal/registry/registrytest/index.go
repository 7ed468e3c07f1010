package registrytest

import (
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PushIndex pushes an OCI index, tagged tag, that lists manifests already in repo (for
// example an image another build pushed), and returns its digest.
func PushIndex(t testing.TB, host, repo, tag string, manifests ...string) string {
	t.Helper()
	p := newPusher(t, host, repo)
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, d := range manifests {
		desc := p.head(d)
		desc.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
		index.Manifests = append(index.Manifests, desc)
	}
	return p.manifest(index, index.MediaType, tag).Digest.String()
}
