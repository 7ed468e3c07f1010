package oci

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Annotations and labels read from manifests and configs.
const (
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
// when unknown), with inventory.ParseManifest. A Docker schema 1 manifest, which that
// refuses, is kept as an image known by its media type alone: it exists, it lists no
// other manifest, and its blobs are not read.
func parseManifest(raw []byte, mediaType string) (*inventory.Manifest, error) {
	m, err := inventory.ParseManifest(raw, mediaType)
	if errors.Is(err, inventory.ErrSchema1) {
		return &inventory.Manifest{MediaType: cmp.Or(mediaType, inventory.MediaTypeDockerV1)}, nil
	}
	return m, err
}

// wantsConfig reports whether the manifest's config is an image config worth reading for
// labels and a creation time.
func wantsConfig(m *inventory.Manifest) bool {
	return !m.IsIndex() && m.Config != nil && inventory.IsImageConfig(m.Config.MediaType) && m.Config.Size <= MaxConfigBytes
}

// needsConfig reports whether Inventory reads the image config of the manifest m, one that
// wantsConfig: unless m's own org.opencontainers.image.created annotation gives its
// creation time. The config's time would then not be used (see pushTimes), and its labels
// would add to those m has already (that annotation is one): nothing a plan or an audit
// reads changes, while a config is the most expensive request on many registries (a blob
// GET). A time from an index's annotation is not enough: a child without annotations of
// its own would lose the labels that tell an image from an attestation manifest.
func needsConfig(m *inventory.Manifest) bool {
	return annotatedTime(m).IsZero()
}

// descriptor converts a descriptor read by inventory.ParseManifest for oras.
func descriptor(d inventory.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: digest.Digest(d.Digest), Size: d.Size}
}

func parseConfig(raw []byte) (*imageConfig, error) {
	var c imageConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decoding image config: %w", err)
	}
	return &c, nil
}

// describe returns the image the manifest is, without tags, times, or (for an index) size,
// which depend on other manifests: inventory's description of the manifest, with the
// org.opencontainers.image.* labels of its image config, if read, under the manifest's
// annotations of the same names.
func describe(dgst string, m *inventory.Manifest, cfg *imageConfig) inventory.Image {
	img := m.Image(dgst)
	if cfg == nil {
		return img
	}
	for k, v := range cfg.Config.Labels {
		if _, annotated := img.Labels[k]; annotated || !strings.HasPrefix(k, labelPrefix) {
			continue
		}
		if img.Labels == nil {
			img.Labels = make(map[string]string)
		}
		img.Labels[k] = v
	}
	return img
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
func annotatedTime(m *inventory.Manifest) time.Time {
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
