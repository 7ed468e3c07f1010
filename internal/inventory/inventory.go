// Package inventory models the images of one repository as a graph (indexes and their
// children, subjects and their referrers, blobs and their sizes) and reads it from the
// offline formats shipshape accepts.
package inventory

import (
	"strings"
	"time"
)

// Status is an image's ECR image status. Generic registries only have StatusActive.
type Status string

// Image statuses, spelt as the ECR API spells them.
const (
	StatusActive     Status = "ACTIVE"
	StatusArchived   Status = "ARCHIVED"
	StatusActivating Status = "ACTIVATING"
)

// Media types that make a manifest an index.
const (
	MediaTypeOCIIndex      = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerList    = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIManifest   = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeDockerV2      = "application/vnd.docker.distribution.manifest.v2+json"
	AnnotationRefType      = "vnd.docker.reference.type"
	AnnotationRefDigest    = "vnd.docker.reference.digest"
	RefTypeAttestation     = "attestation-manifest"
	PlatformUnknownUnknown = "unknown/unknown"
)

// Inventory is everything known about one repository at one moment.
type Inventory struct {
	// Repository names the repository as a user writes it, e.g. "ghcr.io/org/app".
	Repository string
	// CapturedAt is when the inventory was taken; zero when unknown.
	CapturedAt time.Time
	// Images lists the images; it is nil in a compact inventory, whose images are in Table.
	Images []Image
	// Table holds the images of a compact inventory instead of Images: ReadCompact reads
	// describe-images output into one, in a fifth of the memory. Code that reads Images of
	// an inventory that may be compact asks for Expanded first; List reads either form.
	Table *Table
	// Notes say what the source could not see, e.g. untagged manifests that a generic
	// registry cannot list.
	Notes []string
	// Unreadable lists the manifests the registry says exist but that could not be read
	// completely. Their children and referrers are unknown, so anything in the repository
	// may depend on them: an inventory with any is incomplete, and nothing may be deleted
	// on its account.
	Unreadable []Unreadable
}

// Len returns the number of images, in either form.
func (inv *Inventory) Len() int {
	if inv.Table != nil {
		return inv.Table.Len()
	}
	return len(inv.Images)
}

// Expanded returns inv if it is not compact, and otherwise an ordinary copy of it: Images
// filled from Table, which it leaves out. inv is not changed.
func (inv *Inventory) Expanded() *Inventory {
	t := inv.Table
	if t == nil {
		return inv
	}
	out := *inv
	out.Images = make([]Image, t.Len())
	for i := range out.Images {
		out.Images[i] = t.image(i)
	}
	out.Table = nil
	return &out
}

// Unreadable is a manifest the registry says exists (a tag points at it, or a HEAD of it
// answers 200) but that could not be read completely: its GET answers 404, or its body is
// too large or cannot be parsed. It may be an index, so anything in the repository may
// depend on it.
type Unreadable struct {
	Digest string `json:"digest"`
	// Tags are the tags pointing at it, if any.
	Tags []string `json:"tags,omitempty"`
	// Reason says what went wrong, e.g. "GET answers 404 although HEAD answers 200".
	Reason string `json:"reason"`
}

// Image is one manifest (image, index or artifact) stored in a repository, identified by digest.
//
// Times are zero when unknown. A registry that does not record push time (any generic OCI
// registry) leaves PushedAt zero unless the image carries a creation time.
type Image struct {
	Digest string
	Tags   []string
	// MediaType is the manifest's media type; ArtifactType the OCI artifact type, if any.
	MediaType    string
	ArtifactType string

	PushedAt        time.Time
	LastPulledAt    time.Time
	LastArchivedAt  time.Time
	LastActivatedAt time.Time
	// Status is empty for ACTIVE in inputs that do not say; use ImageStatus.
	Status Status

	// SizeBytes is the registry's own size figure (for an ECR index, the largest child).
	SizeBytes int64

	// Subject is the digest this manifest refers to (OCI 1.1 referrers), or empty.
	Subject string
	// Children lists the manifests an index references. It is nil when the image is an index
	// whose children are unknown (describe-images output does not carry them).
	Children []Child

	// Config and Layers are the blobs an image manifest references; nil when unknown.
	Config *Blob
	Layers []Blob

	// Labels holds the image config labels and manifest annotations worth keeping
	// (org.opencontainers.image.*).
	Labels map[string]string
}

// Child is one entry of an index's manifest list.
type Child struct {
	Digest    string
	MediaType string
	// Platform is "os/arch[/variant]"; "unknown/unknown" marks buildx attestation manifests.
	Platform string
	// Annotations of the descriptor, e.g. vnd.docker.reference.type=attestation-manifest.
	Annotations map[string]string
}

// Blob is a content-addressed blob and its stored (compressed) size.
type Blob struct {
	Digest string
	Size   int64
}

// IsIndex reports whether the image is an image index or manifest list.
func (i *Image) IsIndex() bool {
	return i.MediaType == MediaTypeOCIIndex || i.MediaType == MediaTypeDockerList
}

// ImageStatus returns the status, treating an empty one as ACTIVE.
func (i *Image) ImageStatus() Status {
	if i.Status == "" {
		return StatusActive
	}
	return i.Status
}

// IsAttestation reports whether the index entry is a buildx attestation manifest.
func (c Child) IsAttestation() bool {
	return c.Annotations[AnnotationRefType] == RefTypeAttestation
}

// ShortDigest abbreviates "sha256:0123456789ab…" to its algorithm and first 12 hex digits.
func ShortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}
