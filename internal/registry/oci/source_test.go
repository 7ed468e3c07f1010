package oci

import (
	"context"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestSourceReadsTheCache: after an inventory, a Source serves the manifests and configs it
// read from the cache, by digest and without a request, and every byte matches its digest.
// Layers, and the configs of buildx attestation manifests, which the inventory never reads,
// come from the registry.
func TestSourceReadsTheCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	b := registrytest.PushBuild(t, host, "team/app", "v1", registrytest.BuildOptions{})
	c := newClient(t, host, Options{CacheDir: t.TempDir(), ConfigLabels: true})
	if _, err := c.Inventory(ctx, "team/app"); err != nil {
		t.Fatal(err)
	}
	src, err := c.Source("team/app")
	if err != nil {
		t.Fatal(err)
	}
	before := c.Stats().Total()
	root, err := src.Resolve(ctx, b.Index)
	if err != nil || root.Digest.String() != b.Index || root.Size == 0 || root.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("Resolve(index) = %+v, %v", root, err)
	}
	var layers int
	var walk func(d ocispec.Descriptor)
	walk = func(d ocispec.Descriptor) {
		rc, err := src.Fetch(ctx, d)
		if err != nil {
			t.Fatalf("Fetch(%s) = %v", d.Digest, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || digest.FromBytes(data) != d.Digest {
			t.Fatalf("Fetch(%s) read %d bytes that do not match (%v)", d.Digest, len(data), err)
		}
		if ok, err := src.Exists(ctx, d); !ok || err != nil {
			t.Errorf("Exists(%s) = %v, %v", d.Digest, ok, err)
		}
		next, err := content.Successors(ctx, src, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range next {
			if n.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				continue // the inventory never reads an attestation's config: see below
			}
			if n.MediaType == ocispec.MediaTypeImageLayerGzip || n.MediaType == "application/vnd.oci.image.layer.v1.tar" || n.MediaType == "application/vnd.in-toto+json" {
				layers++
				continue
			}
			walk(n)
		}
	}
	walk(root)
	if n := c.Stats().Total() - before; n != 0 {
		t.Errorf("reading the index, its manifests and configs made %d requests, want 0 (the inventory cached them)", n)
	}
	if layers == 0 {
		t.Fatal("the build has no layers")
	}

	// A Client without a cache reads from the registry.
	bare, err := newClient(t, host, Options{}).Source("team/app")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := bare.Resolve(ctx, b.Index); err != nil || d.Digest.String() != b.Index {
		t.Errorf("Resolve without a cache = %+v, %v", d, err)
	}
}
