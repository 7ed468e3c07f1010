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
	// ErrNoCatalog: the registry does not list its repositories (it has no catalog, or
	// keeps it from these credentials, as GHCR and Docker Hub do); the caller must name
	// them.
	ErrNoCatalog = errors.New("the registry does not list its repositories")
)

// Registry is one registry backend. Repositories are named as in image references without
// the host ("team/app"). Implementations are safe for concurrent use.
type Registry interface {
	// Inventory reads everything the backend can learn about repo: every manifest it can
	// find, tagged or not, with tags, times, sizes, the index → child and subject →
	// referrer edges, and blob sizes. What the registry cannot show goes in Notes. A
	// manifest the registry says exists but that cannot be read completely goes in
	// Unreadable, never silently left out: anything may depend on it.
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

// Optional capabilities. A backend offers them by implementing these interfaces; callers
// find them with a type assertion.

// Cataloger lists the repositories of a registry (OCI Distribution: GET /v2/_catalog; ECR:
// DescribeRepositories).
type Cataloger interface {
	// Repositories returns the name of every repository the registry lists, sorted, each
	// once. Where the registry does not list them, the error wraps ErrNoCatalog.
	Repositories(ctx context.Context) ([]string, error)
}

// BatchDeleter deletes many manifests in few calls (ECR: BatchDeleteImage, 100 a call).
type BatchDeleter interface {
	// DeleteBatch deletes digests from repo. failed maps each digest that was not deleted
	// to why (wrapping ErrNotFound when it was already gone, ErrReferenced when an index
	// still lists it); err reports a failure of the whole call, after which nothing more
	// can be expected to work (access denied, repository gone).
	DeleteBatch(ctx context.Context, repo string, digests []string) (failed map[string]error, err error)
}

// Transitioner moves images between storage classes (ECR: UpdateImageStorageClass).
type Transitioner interface {
	// Archive moves the image digest to archive storage.
	Archive(ctx context.Context, repo, digest string) error
}

// LifecyclePolicies reads and writes a repository's native lifecycle policy (ECR).
type LifecyclePolicies interface {
	// LifecyclePolicy returns the policy text set on repo; an error wrapping ErrNotFound
	// when none is set.
	LifecyclePolicy(ctx context.Context, repo string) (string, error)
	// PutLifecyclePolicy sets repo's policy to text.
	PutLifecyclePolicy(ctx context.Context, repo, text string) error
}

// Previewer runs the registry's own evaluation of a lifecycle policy (ECR:
// StartLifecyclePolicyPreview and GetLifecyclePolicyPreview).
type Previewer interface {
	// PreviewLifecyclePolicy returns what the registry would do to repo under the policy
	// text: one result per image it would act on.
	PreviewLifecyclePolicy(ctx context.Context, repo, text string) ([]PreviewResult, error)
}

// PreviewResult is one image a registry's own preview would act on.
type PreviewResult struct {
	Digest string
	Tags   []string
	// Action is "expire" or "transition", as in policy JSON.
	Action       string
	RulePriority int
	// StorageClass is "standard" or "archive".
	StorageClass string
}

// TagResolver lists a repository's tags without resolving them, and resolves only the
// references a caller asks about. Where Tags costs a request per tag (OCI Distribution: a
// tag list, then a HEAD for each tag), a caller that already knows most tags' digests (apply,
// between two re-checks) lists the names and resolves the few whose answer can change what it
// does.
type TagResolver interface {
	// TagNames returns the name of every tag of repo, each once. A listing that cannot be
	// read completely is an error, never a shorter list.
	TagNames(ctx context.Context, repo string) ([]string, error)
	// Resolve returns the digest each of refs (tags or digests) points at now. A reference
	// the registry says does not exist is left out; any other failure is an error.
	Resolve(ctx context.Context, repo string, refs []string) (map[string]string, error)
}

// KnownDeleter deletes a manifest the caller has already read, without reading it again:
// Delete must learn the media type and subject of what it deletes (a HEAD and a GET on an
// OCI registry), and an inventory already knows them.
type KnownDeleter interface {
	// DeleteKnown deletes img.Digest from repo as Delete does (its tags with it; a referrer
	// also from its subject's referrers, wherever the registry keeps them), taking the
	// media type, subject and tags from img. A manifest already gone is an error wrapping
	// ErrNotFound; one the registry refuses to delete because an index still lists it, an
	// error wrapping ErrReferenced.
	DeleteKnown(ctx context.Context, repo string, img inventory.Image) error
}

// Lister lists the digests a repository holds without reading any manifest. Where reading
// a manifest has a side effect (ECR records it as a pull), callers that only need to know
// what exists use this instead of Manifest.
type Lister interface {
	// Digests returns every digest in repo.
	Digests(ctx context.Context, repo string) (map[string]bool, error)
}
