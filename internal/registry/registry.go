// Package registry is the contract between shipshape and a registry backend (any OCI
// Distribution registry, Amazon ECR), and the errors every backend maps its own onto.
package registry

import (
	"context"
	"errors"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Errors every backend maps its native errors onto; callers test them with errors.Is.
var (
	// ErrNotFound: the repository, manifest or tag does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the credentials were refused, or none were found.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrDenied: the credentials are valid but may not do this.
	ErrDenied = errors.New("denied")
	// ErrUnsupported: the registry does not offer the operation (e.g. deletion is disabled).
	ErrUnsupported = errors.New("unsupported by the registry")
	// ErrReferenced: the registry refuses to delete a manifest an index still references.
	ErrReferenced = errors.New("referenced by an index")
)

// Registry is one registry backend. Repositories are named as in image references without
// the host ("team/app"). Implementations are safe for concurrent use.
type Registry interface {
	// Inventory reads everything the backend can learn about repo: every manifest it can
	// find, tagged or not, with tags, times, sizes, the index → child and subject →
	// referrer edges, and blob sizes. What the registry cannot show goes in Notes.
	Inventory(ctx context.Context, repo string) (*inventory.Inventory, error)
	// Tags returns repo's tags now, each with the digest it points at.
	Tags(ctx context.Context, repo string) (map[string]string, error)
	// Manifest describes the manifest digest as Inventory would: media type, children,
	// subject, blobs. Tags and times are left empty.
	Manifest(ctx context.Context, repo, digest string) (inventory.Image, error)
	// Delete removes the manifest digest, and with it every tag that points at it. Deleting
	// a referrer also removes it from its subject's referrers, wherever the registry keeps
	// them. Deleting a manifest that is already gone returns an error wrapping ErrNotFound.
	Delete(ctx context.Context, repo, digest string) error
}
