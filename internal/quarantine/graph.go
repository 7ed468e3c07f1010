package quarantine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// Bounds on the graphs read.
const (
	// maxManifestBytes bounds a manifest: the distribution spec asks registries to accept
	// manifests of at least 4 MiB, and no real image comes near it.
	maxManifestBytes = 4 << 20
	// maxGraphDepth bounds how deep a graph is followed: real graphs are three or four
	// levels deep (index, image, signature, signature of the signature).
	maxGraphDepth = 32
)

// Media types of manifests, beside the OCI ones.
const (
	mediaTypeDockerManifest   = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList       = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeArtifactManifest = "application/vnd.oci.artifact.manifest.v1+json"
)

// foreignLayers are the media types of layers registries do not hold (they are fetched from
// elsewhere): never copied, never looked for.
var foreignLayers = []string{
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
}

// isManifest reports whether mediaType is that of a manifest or an index.
func isManifest(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		mediaTypeDockerManifest, mediaTypeDockerList, mediaTypeArtifactManifest:
		return true
	}
	return false
}

// role is what a node is to the node that points at it.
type role int

const (
	roleRoot    role = iota
	roleChild        // a manifest an index lists
	roleSubject      // the subject of a referrer
	roleConfig       // an image config
	roleLayer        // a layer, or a blob of an artifact manifest
)

// node is a node of a graph, with its role.
type node struct {
	ocispec.Descriptor
	role role
}

// graphNode is a node of a copied graph, as the ledger records it.
type graphNode struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	// Depth is the length of the longest path from the root.
	Depth int  `json:"depth"`
	role  role // not recorded
}

// successors returns the nodes desc points at that a copy holds: an index's subject and
// manifests; an image manifest's subject, config and, with layers, its layers; an
// artifact manifest's subject and, with layers, its blobs. Foreign layers are left out.
// Anything else has none.
func successors(ctx context.Context, f content.Fetcher, desc ocispec.Descriptor, layers bool) ([]node, error) {
	if !isManifest(desc.MediaType) {
		return nil, nil
	}
	b, err := fetchManifest(ctx, f, desc)
	if err != nil {
		return nil, err
	}
	var m struct {
		Subject   *ocispec.Descriptor  `json:"subject"`
		Config    *ocispec.Descriptor  `json:"config"`
		Layers    []ocispec.Descriptor `json:"layers"`
		Manifests []ocispec.Descriptor `json:"manifests"`
		Blobs     []ocispec.Descriptor `json:"blobs"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", desc.Digest, err)
	}
	var out []node
	if m.Subject != nil {
		out = append(out, node{*m.Subject, roleSubject})
	}
	var blobs []ocispec.Descriptor
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, mediaTypeDockerList:
		for _, c := range m.Manifests {
			out = append(out, node{c, roleChild})
		}
		return out, nil
	case mediaTypeArtifactManifest:
		blobs = m.Blobs
	default:
		if m.Config == nil {
			return nil, fmt.Errorf("manifest %s has no config", desc.Digest)
		}
		out = append(out, node{*m.Config, roleConfig})
		blobs = m.Layers
	}
	if layers {
		for _, l := range blobs {
			if !slices.Contains(foreignLayers, l.MediaType) {
				out = append(out, node{l, roleLayer})
			}
		}
	}
	return out, nil
}

// fetchManifest reads the manifest desc from f, checking its size and digest.
func fetchManifest(ctx context.Context, f content.Fetcher, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxManifestBytes {
		return nil, fmt.Errorf("manifest %s: %d bytes, more than the %d read", desc.Digest, desc.Size, maxManifestBytes)
	}
	b, err := content.FetchAll(ctx, f, desc)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", desc.Digest, err)
	}
	return b, nil
}

// walk visits the graph rooted at root, reading its manifests from f (layers: following
// layers too). enter is called once per node before its successors are read, and says
// whether to follow them (false: its sub-graph is known, or is not there). walk returns
// the nodes entered in topological order (each after every node entered that points at
// it), with their depths.
func walk(ctx context.Context, f content.Fetcher, root ocispec.Descriptor, layers bool, enter func(context.Context, node) (bool, error)) ([]graphNode, error) {
	seen := make(map[digest.Digest]bool)
	edges := make(map[digest.Digest][]digest.Digest)
	var post []node
	var visit func(n node, depth int) error
	visit = func(n node, depth int) error {
		if seen[n.Digest] {
			return nil
		}
		if depth > maxGraphDepth {
			return fmt.Errorf("graph of %s: deeper than %d levels", root.Digest, maxGraphDepth)
		}
		seen[n.Digest] = true
		follow, err := enter(ctx, n)
		if err != nil {
			return err
		}
		if follow {
			succ, err := successors(ctx, f, n.Descriptor, layers)
			if err != nil {
				return err
			}
			for _, s := range succ {
				edges[n.Digest] = append(edges[n.Digest], s.Digest)
				if err := visit(s, depth+1); err != nil {
					return err
				}
			}
		}
		post = append(post, n)
		return nil
	}
	if err := visit(node{root, roleRoot}, 0); err != nil {
		return nil, err
	}
	slices.Reverse(post)
	depth := make(map[digest.Digest]int, len(post))
	for _, n := range post {
		for _, s := range edges[n.Digest] {
			depth[s] = max(depth[s], depth[n.Digest]+1)
		}
	}
	out := make([]graphNode, len(post))
	for i, n := range post {
		out[i] = graphNode{MediaType: n.MediaType, Digest: n.Digest, Size: n.Size, Depth: depth[n.Digest], role: n.role}
	}
	return out, nil
}

// graphBytes is the size of a graph's nodes.
func graphBytes(g []graphNode) int64 {
	var n int64
	for _, x := range g {
		n += x.Size
	}
	return n
}
