package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Manifest media types beyond those of indexes and image manifests.
const (
	// MediaTypeOCIArtifact is the OCI artifact manifest of the image-spec 1.1 release
	// candidates, withdrawn before 1.1.0 but still stored by registries that took it.
	MediaTypeOCIArtifact = "application/vnd.oci.artifact.manifest.v1+json"
	// MediaTypeDockerV1 and MediaTypeDockerV1Signed are Docker image manifest schema 1,
	// which DecodeManifest refuses.
	MediaTypeDockerV1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerV1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// labelPrefix selects the annotations and config labels an Image keeps as Labels.
const labelPrefix = "org.opencontainers.image."

// ErrSchema1 is the error DecodeManifest and ParseManifest wrap for a Docker schema 1
// manifest, which names its layers but neither their sizes nor a config. A caller that
// lists such manifests without reading them tests for it with errors.Is.
var ErrSchema1 = errors.New("docker schema 1 manifest, which shipshape does not read")

// Manifest is what shipshape reads of a manifest, whichever of the kinds DecodeManifest
// accepts it is: the union of their fields, as the JSON spells them.
type Manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *Descriptor       `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Blobs         []Descriptor      `json:"blobs"`     // OCI artifact manifests
	Manifests     []Descriptor      `json:"manifests"` // indexes and manifest lists
	Subject       *Descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// Descriptor is the part of an OCI content descriptor shipshape reads.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform"`
	Annotations map[string]string `json:"annotations"`
}

// Platform is the part of an index entry's platform shipshape reads.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
}

// DecodeManifest describes the manifest raw, stored under digest, whose media type the
// registry reported as mediaType ("" when unknown): ParseManifest, then Manifest.Image. It
// does no I/O, so it cannot know the tags, times or status of the image, the size of an
// index (its children's), or the labels of an image config.
//
// It accepts Docker image manifests (schema 2) and manifest lists, OCI image manifests and
// indexes, and OCI artifact manifests. It refuses Docker schema 1 manifests (ErrSchema1),
// JSON that does not decode as a manifest (not an object, or a field read of the wrong
// type), and an index entry without a digest. Fields it does not read are ignored, and
// unknown media types are not refused: a manifest of an unknown media type with layers is
// described by them. The caller bounds the size of raw.
func DecodeManifest(digest string, raw []byte, mediaType string) (Image, error) {
	m, err := ParseManifest(raw, mediaType)
	if err != nil {
		return Image{}, err
	}
	return m.Image(digest), nil
}

// ParseManifest decodes raw, whose media type the registry reported as mediaType ("" when
// unknown), with its media type settled: the one reported if it is a manifest type
// shipshape knows, or if the manifest names none; else the one the manifest names; else,
// for a manifest silent on it (the field is optional in OCI manifests), an OCI index if it
// has a manifests list and an OCI image manifest otherwise. It refuses what DecodeManifest
// refuses. It is DecodeManifest for callers that need more of the manifest than its Image:
// the descriptors of its config and children, to fetch them, and its annotations.
func ParseManifest(raw []byte, mediaType string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	if isManifestType(mediaType) || (mediaType != "" && m.MediaType == "") {
		m.MediaType = mediaType
	}
	if m.MediaType == "" {
		if m.Manifests != nil {
			m.MediaType = MediaTypeOCIIndex
		} else {
			m.MediaType = MediaTypeOCIManifest
		}
	}
	if m.SchemaVersion == 1 || m.MediaType == MediaTypeDockerV1 || m.MediaType == MediaTypeDockerV1Signed {
		return nil, ErrSchema1
	}
	if m.IsIndex() {
		for n, d := range m.Manifests {
			if d.Digest == "" {
				// An entry nobody can name leaves the index's children unknown.
				return nil, fmt.Errorf("decoding manifest: manifests[%d] has no digest", n)
			}
		}
	}
	return &m, nil
}

// isManifestType reports whether mt is a media type of a manifest DecodeManifest accepts.
func isManifestType(mt string) bool {
	switch mt {
	case MediaTypeOCIIndex, MediaTypeDockerList, MediaTypeOCIManifest, MediaTypeDockerV2, MediaTypeOCIArtifact:
		return true
	}
	return false
}

// IsIndex reports whether the manifest is an image index or manifest list.
func (m *Manifest) IsIndex() bool {
	return m.MediaType == MediaTypeOCIIndex || m.MediaType == MediaTypeDockerList
}

// IsImageConfig reports whether mt is the media type of a container image config, as
// opposed to the config of an artifact.
func IsImageConfig(mt string) bool {
	return mt == mediaTypeOCIConfig || mt == mediaTypeDockerConfig
}

// artifactType is the manifest's artifact type: its artifactType field, else,
// as the OCI image spec has the referrers API do, its config's media type, unless that is
// a container image config (which ECR reports as artifactMediaType of every image).
func (m *Manifest) artifactType() string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	if m.Config != nil && m.Config.MediaType != "" && !IsImageConfig(m.Config.MediaType) {
		return m.Config.MediaType
	}
	return ""
}

// Image describes the manifest stored under digest. It sets:
//   - MediaType; ArtifactType: the artifactType field, else, as the OCI image spec has the
//     referrers API do, the config's media type unless IsImageConfig; and Subject;
//   - for an index, Children, with each entry's platform as "os/arch[/variant]" and a copy
//     of its annotations (buildx marks attestation manifests there);
//   - for a manifest with a config or layers (the blobs of an OCI artifact manifest), Config
//     and Layers, and SizeBytes: the sum of the layers' sizes and, unless the manifest is an
//     artifact, the config's, as ECR counts imageSizeInBytes. Negative sizes count as 0, and
//     the sum saturates (AddSize);
//   - Labels: the manifest's org.opencontainers.image.* annotations.
//
// The Image shares no map or slice with m.
func (m *Manifest) Image(digest string) Image {
	img := Image{
		Digest:       digest,
		MediaType:    m.MediaType,
		ArtifactType: m.artifactType(),
	}
	if m.Subject != nil {
		img.Subject = m.Subject.Digest
	}
	layers := m.Layers
	if m.MediaType == MediaTypeOCIArtifact {
		layers = m.Blobs
	}
	switch {
	case m.IsIndex():
		img.Children = make([]Child, 0, len(m.Manifests))
		for _, d := range m.Manifests {
			img.Children = append(img.Children, Child{
				Digest:      d.Digest,
				MediaType:   d.MediaType,
				Platform:    d.Platform.String(),
				Annotations: maps.Clone(d.Annotations),
			})
		}
	case m.Config != nil || layers != nil:
		if m.Config != nil {
			img.Config = &Blob{Digest: m.Config.Digest, Size: m.Config.Size}
		}
		img.Layers = make([]Blob, 0, len(layers))
		for _, l := range layers {
			img.Layers = append(img.Layers, Blob{Digest: l.Digest, Size: l.Size})
			img.SizeBytes = AddSize(img.SizeBytes, max(l.Size, 0))
		}
		// ECR counts the config of an image but not of an artifact.
		if img.Config != nil && img.ArtifactType == "" {
			img.SizeBytes = AddSize(img.SizeBytes, max(img.Config.Size, 0))
		}
	}
	for k, v := range m.Annotations {
		if strings.HasPrefix(k, labelPrefix) {
			if img.Labels == nil {
				img.Labels = make(map[string]string)
			}
			img.Labels[k] = v
		}
	}
	return img
}

// String formats the platform as "os/arch[/variant]", or "" when p is nil or names neither
// an OS nor an architecture.
func (p *Platform) String() string {
	if p == nil || (p.OS == "" && p.Architecture == "") {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
