package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Source is what a copy of a repository's content reads from (apply's quarantine): the
// manifests and configs the Client's cache holds, verified by digest, without a request;
// everything else from the registry. Content is addressed by digest, so a cached copy is
// the registry's.
type Source struct {
	remote *remote.Repository
	c      *Client
}

// Source returns the Source of repo. Without a cache directory it reads everything from the
// registry.
func (c *Client) Source(repo string) (*Source, error) {
	r, err := c.Storage(repo)
	if err != nil {
		return nil, err
	}
	return &Source{remote: r, c: c}, nil
}

// cached returns the cached content of desc: a manifest or an image config the cache holds
// with desc's digest and size.
func (s *Source) cached(desc ocispec.Descriptor) ([]byte, bool) {
	if s.c.cache == nil {
		return nil, false
	}
	kind, limit := kindManifest, int64(MaxManifestBytes)
	if !isManifestType(desc.MediaType) {
		kind, limit = kindConfig, MaxConfigBytes
	}
	b, ok := s.c.cache.get(kind, desc.Digest, limit)
	if !ok || (desc.Size > 0 && int64(len(b)) != desc.Size) {
		return nil, false
	}
	s.c.requests.CacheHit()
	return b, true
}

// Fetch reads desc's content, from the cache when it holds it.
func (s *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if b, ok := s.cached(desc); ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return s.remote.Fetch(ctx, desc)
}

// Exists reports whether the repository has desc, without a request when the cache holds it.
func (s *Source) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if _, ok := s.cached(desc); ok {
		return true, nil
	}
	return s.remote.Exists(ctx, desc)
}

// Resolve returns the descriptor of ref. A digest whose manifest the cache holds, and which
// names its media type, resolves without a request.
func (s *Source) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if d, err := digest.Parse(ref); err == nil && s.c.cache != nil {
		if b, ok := s.c.cache.get(kindManifest, d, MaxManifestBytes); ok {
			var m struct {
				MediaType string `json:"mediaType"`
			}
			if json.Unmarshal(b, &m) == nil && isManifestType(m.MediaType) {
				s.c.requests.CacheHit()
				return ocispec.Descriptor{MediaType: m.MediaType, Digest: d, Size: int64(len(b))}, nil
			}
		}
	}
	return s.remote.Resolve(ctx, ref)
}

// isManifestType reports whether mt is the media type of a manifest (image, index,
// artifact), as opposed to a blob.
func isManifestType(mt string) bool {
	switch mt {
	case inventory.MediaTypeOCIIndex, inventory.MediaTypeDockerList, inventory.MediaTypeOCIManifest, inventory.MediaTypeDockerV2, inventory.MediaTypeOCIArtifact:
		return true
	}
	return false
}
