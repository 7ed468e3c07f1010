package oci

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Media types and annotations read from manifests and configs, beyond those the inventory
// package names.
const (
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaTypeArtifact       = "application/vnd.oci.artifact.manifest.v1+json"
	annotationCreated       = ocispec.AnnotationCreated // org.opencontainers.image.created
	labelPrefix             = "org.opencontainers.image."
	referrersTagSchemaRegex = `^sha256-[0-9a-f]{64}$`
)

// referrersTag matches the tags of the referrers tag schema ("sha256-<hex>"), under which
// registries without the referrers API keep an index of a manifest's referrers. Cosign's
// "sha256-<hex>.sig" and ".att" tags are ordinary tags and do not match.
var referrersTag = regexp.MustCompile(referrersTagSchemaRegex)

// unknownTimeBefore is the instant before which a creation time means "unknown":
// reproducible builds stamp 1970-01-01 (SOURCE_DATE_EPOCH=0) or 1980-01-01 (the zip epoch).
var unknownTimeBefore = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// manifest is the union of the manifest formats shipshape reads: OCI image manifests and
// indexes, Docker schema 2 manifests and manifest lists, and OCI artifact manifests.
type manifest struct {
	MediaType    string               `json:"mediaType"`
	ArtifactType string               `json:"artifactType"`
	Config       *ocispec.Descriptor  `json:"config"`
	Layers       []ocispec.Descriptor `json:"layers"`
	Blobs        []ocispec.Descriptor `json:"blobs"` // artifact manifests
	Manifests    []ocispec.Descriptor `json:"manifests"`
	Subject      *ocispec.Descriptor  `json:"subject"`
	Annotations  map[string]string    `json:"annotations"`
}

// imageConfig is the part of an image config blob shipshape reads.
type imageConfig struct {
	Created string          `json:"created"`
	Config  containerConfig `json:"config"`
}

// containerConfig is the part of an image config's "config" object shipshape reads.
type containerConfig struct {
	Labels map[string]string `json:"Labels"`
}

// parseManifest decodes raw, whose media type the registry reported as mediaType (empty
// when unknown), and returns it with the media type settled.
func parseManifest(raw []byte, mediaType string) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	if isKnownManifestType(mediaType) || (mediaType != "" && m.MediaType == "") {
		m.MediaType = mediaType
	}
	if m.MediaType == "" {
		// The mediaType field is optional in OCI manifests: tell the kinds apart by shape.
		if m.Manifests != nil {
			m.MediaType = inventory.MediaTypeOCIIndex
		} else {
			m.MediaType = inventory.MediaTypeOCIManifest
		}
	}
	if m.MediaType == mediaTypeArtifact {
		m.Layers = m.Blobs
	}
	return &m, nil
}

func isKnownManifestType(mt string) bool {
	switch mt {
	case inventory.MediaTypeOCIIndex, inventory.MediaTypeDockerList,
		inventory.MediaTypeOCIManifest, inventory.MediaTypeDockerV2, mediaTypeArtifact:
		return true
	}
	return false
}

func (m *manifest) isIndex() bool {
	return m.MediaType == inventory.MediaTypeOCIIndex || m.MediaType == inventory.MediaTypeDockerList
}

// isImageConfig reports whether mt is the config of a container image (as opposed to the
// config of an artifact).
func isImageConfig(mt string) bool {
	return mt == ocispec.MediaTypeImageConfig || mt == mediaTypeDockerConfig
}

// artifactType is the manifest's OCI artifact type: its artifactType field, else its config
// media type unless that is a container image config (as ECR reports artifactMediaType).
func (m *manifest) artifactType() string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	if m.Config != nil && m.Config.MediaType != "" && !isImageConfig(m.Config.MediaType) {
		return m.Config.MediaType
	}
	return ""
}

// wantsConfig reports whether the manifest's config is an image config worth reading for
// labels and a creation time.
func (m *manifest) wantsConfig() bool {
	return !m.isIndex() && m.Config != nil && isImageConfig(m.Config.MediaType) && m.Config.Size <= MaxConfigBytes
}

func parseConfig(raw []byte) (*imageConfig, error) {
	var c imageConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decoding image config: %w", err)
	}
	return &c, nil
}

// describe returns the image the manifest is, without tags, times, or (for an index) size,
// which depend on other manifests.
func describe(dgst string, m *manifest, cfg *imageConfig) inventory.Image {
	img := inventory.Image{
		Digest:       dgst,
		MediaType:    m.MediaType,
		ArtifactType: m.artifactType(),
	}
	if m.Subject != nil {
		img.Subject = m.Subject.Digest.String()
	}
	if m.isIndex() {
		img.Children = make([]inventory.Child, 0, len(m.Manifests))
		for _, d := range m.Manifests {
			img.Children = append(img.Children, inventory.Child{
				Digest:      d.Digest.String(),
				MediaType:   d.MediaType,
				Platform:    platform(d.Platform),
				Annotations: maps.Clone(d.Annotations),
			})
		}
	} else if m.Config != nil || m.Layers != nil {
		if m.Config != nil {
			img.Config = &inventory.Blob{Digest: m.Config.Digest.String(), Size: m.Config.Size}
		}
		img.Layers = make([]inventory.Blob, 0, len(m.Layers))
		for _, l := range m.Layers {
			img.Layers = append(img.Layers, inventory.Blob{Digest: l.Digest.String(), Size: l.Size})
			img.SizeBytes = inventory.AddSize(img.SizeBytes, max(l.Size, 0))
		}
		// ECR counts the config of an image but not of an artifact.
		if img.Config != nil && img.ArtifactType == "" {
			img.SizeBytes = inventory.AddSize(img.SizeBytes, max(img.Config.Size, 0))
		}
	}
	labels := make(map[string]string)
	if cfg != nil {
		for k, v := range cfg.Config.Labels {
			if strings.HasPrefix(k, labelPrefix) {
				labels[k] = v
			}
		}
	}
	for k, v := range m.Annotations {
		if strings.HasPrefix(k, labelPrefix) {
			labels[k] = v
		}
	}
	if len(labels) > 0 {
		img.Labels = labels
	}
	return img
}

// platform formats p as "os/arch[/variant]", or "" when absent.
func platform(p *ocispec.Platform) string {
	if p == nil || (p.OS == "" && p.Architecture == "") {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// parseTime returns the time s gives, or zero when s is empty, malformed, or before
// unknownTimeBefore.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Before(unknownTimeBefore) {
		return time.Time{}
	}
	return t.UTC()
}

// annotatedTime is the manifest's org.opencontainers.image.created annotation, if usable.
func (m *manifest) annotatedTime() time.Time {
	return parseTime(m.Annotations[annotationCreated])
}

// configTime is the creation time the image config gives: its
// org.opencontainers.image.created label, else its created field.
func (c *imageConfig) configTime() time.Time {
	if c == nil {
		return time.Time{}
	}
	if t := parseTime(c.Config.Labels[annotationCreated]); !t.IsZero() {
		return t
	}
	return parseTime(c.Created)
}
