// Package verify checks that an image carries the OCI labels of the build that made it:
// org.opencontainers.image.revision equal to the source commit, and
// org.opencontainers.image.source and org.opencontainers.image.created present.
package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
)

// The labels Check requires.
const (
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
)

// Problem is one missing or mismatched label.
type Problem struct {
	Label string `json:"label"`
	// Want is the value the label must have, when one is required.
	Want string `json:"want,omitempty"`
	// Found is the value the image has; "" when the label is missing.
	Found   string `json:"found,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Label + ": " + p.Message }

// Check returns the problems of labels for a build of revision; revision "" only requires
// the revision label to be present. It returns nil when every label is right.
func Check(labels map[string]string, revision string) []Problem {
	var ps []Problem
	switch got, ok := labels[LabelRevision]; {
	case !ok || got == "":
		ps = append(ps, Problem{Label: LabelRevision, Want: revision, Message: "missing" + want(revision)})
	case revision != "" && !strings.EqualFold(got, revision):
		ps = append(ps, Problem{Label: LabelRevision, Want: revision, Found: got,
			Message: fmt.Sprintf("is %s, want %s", got, revision)})
	}
	if labels[LabelSource] == "" {
		ps = append(ps, Problem{Label: LabelSource, Message: "missing"})
	}
	switch got := labels[LabelCreated]; {
	case got == "":
		ps = append(ps, Problem{Label: LabelCreated, Message: "missing"})
	default:
		if _, err := time.Parse(time.RFC3339Nano, got); err != nil {
			ps = append(ps, Problem{Label: LabelCreated, Found: got,
				Message: fmt.Sprintf("is %q, not an RFC 3339 time", got)})
		}
	}
	return ps
}

func want(revision string) string {
	if revision == "" {
		return ""
	}
	return ", want " + revision
}

// Registry is what a Verifier reads images through: the OCI backend's Client is one.
type Registry interface {
	Manifest(ctx context.Context, repo, digest string) (inventory.Image, error)
}

// tagLister resolves tags; the OCI backend's Client is one.
type tagLister interface {
	Tags(ctx context.Context, repo string) (map[string]string, error)
}

// Verifier reads image labels from registries, one client per host. It is safe for
// concurrent use.
type Verifier struct {
	open func(host string) (Registry, error)

	mu      sync.Mutex
	clients map[string]Registry
}

// New returns a Verifier that reaches the registry of host through open(host).
func New(open func(host string) (Registry, error)) *Verifier {
	return &Verifier{open: open, clients: make(map[string]Registry)}
}

// NewOCI returns a Verifier over the OCI Distribution API, with opts for every host.
func NewOCI(opts oci.Options) *Verifier {
	return New(func(host string) (Registry, error) { return oci.New(host, opts) })
}

func (v *Verifier) client(repository string) (Registry, string, error) {
	host, repo, err := registry.ParseReference(repository)
	if err != nil {
		return nil, "", err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.clients[host]
	if !ok {
		if c, err = v.open(host); err != nil {
			return nil, "", err
		}
		v.clients[host] = c
	}
	return c, repo, nil
}

// Labels returns the org.opencontainers.image.* labels of the image digest in repository:
// the image config's labels and the manifest's annotations. For an index they are those of
// its linux/amd64 image (or, without one, its first platform image), over the index's own
// annotations. checked is the digest of the image the labels come from.
func (v *Verifier) Labels(ctx context.Context, repository, digest string) (labels map[string]string, checked string, err error) {
	c, repo, err := v.client(repository)
	if err != nil {
		return nil, "", err
	}
	img, err := c.Manifest(ctx, repo, digest)
	if err != nil {
		return nil, "", err
	}
	labels = make(map[string]string)
	for k, val := range img.Labels {
		labels[k] = val
	}
	if img.Children == nil {
		return labels, digest, nil
	}
	child := platformChild(img.Children)
	if child == "" {
		return labels, digest, nil
	}
	ci, err := c.Manifest(ctx, repo, child)
	if err != nil {
		return nil, "", fmt.Errorf("reading image %s of index %s: %w", child, digest, err)
	}
	for k, val := range ci.Labels {
		labels[k] = val
	}
	return labels, child, nil
}

// platformChild picks the child of an index whose labels stand for it: linux/amd64, else
// the first child with a platform that is not an attestation's unknown/unknown.
func platformChild(children []inventory.Child) string {
	first := ""
	for _, c := range children {
		switch {
		case c.Platform == "linux/amd64":
			return c.Digest
		case first == "" && c.Platform != "" && c.Platform != "unknown/unknown":
			first = c.Digest
		}
	}
	return first
}

// Verify implements the server's Verifier: the image digest in repository verifies when
// Check finds no problem with sourceSHA. An image that is not there does not verify; err
// means the registry could not be read.
func (v *Verifier) Verify(ctx context.Context, repository, digest, sourceSHA string) (bool, string, error) {
	labels, checked, err := v.Labels(ctx, repository, digest)
	if errors.Is(err, registry.ErrNotFound) {
		return false, fmt.Sprintf("image %s not found in %s", digest, repository), nil
	}
	if err != nil {
		return false, "", err
	}
	ps := Check(labels, sourceSHA)
	if len(ps) == 0 {
		return true, "", nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.String()
	}
	reason := strings.Join(msgs, "; ")
	if checked != digest {
		reason = "image " + checked + ": " + reason
	}
	return false, reason, nil
}

// Resolve returns the digest tag points at in repository.
func (v *Verifier) Resolve(ctx context.Context, repository, tag string) (string, error) {
	c, repo, err := v.client(repository)
	if err != nil {
		return "", err
	}
	tl, ok := c.(tagLister)
	if !ok {
		return "", fmt.Errorf("resolving tag %s: the registry client cannot list tags", tag)
	}
	tags, err := tl.Tags(ctx, repo)
	if err != nil {
		return "", fmt.Errorf("listing tags of %s: %w", repository, err)
	}
	d, ok := tags[tag]
	if !ok {
		return "", fmt.Errorf("tag %s of %s: %w", tag, repository, registry.ErrNotFound)
	}
	return d, nil
}

// SplitImage splits an image reference written as for docker pull into its repository and
// its digest or tag: "ghcr.io/org/app@sha256:…" gives the repository and the digest,
// "ghcr.io/org/app:v1" the repository and the tag, and a bare repository the tag latest.
func SplitImage(image string) (repository, tag, digest string) {
	if repo, d, ok := strings.Cut(image, "@"); ok {
		return repo, "", d
	}
	slash := strings.LastIndexByte(image, '/')
	if i := strings.LastIndexByte(image, ':'); i > slash {
		return image[:i], image[i+1:], ""
	}
	return image, "latest", ""
}

// ParseCheck checks the arguments of a label check: an image as for docker pull (see
// SplitImage) and the commit it must be built from ("" for any, any case). It returns the
// image's parts and the revision in lowercase.
func ParseCheck(image, revision string) (repository, tag, digest, rev string, err error) {
	rev = strings.ToLower(revision)
	if rev != "" && !pins.ValidSourceSHA(rev) {
		return "", "", "", "", fmt.Errorf("--revision %q: want a full commit SHA, 40 hex digits", revision)
	}
	repository, tag, digest = SplitImage(image)
	if _, _, err := registry.ParseReference(repository); err != nil {
		return "", "", "", "", err
	}
	if digest != "" && !pins.ValidDigest(digest) {
		return "", "", "", "", fmt.Errorf("image digest %q: want sha256: and 64 lowercase hex digits", digest)
	}
	return repository, tag, digest, rev, nil
}
