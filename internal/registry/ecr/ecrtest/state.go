package ecrtest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Repo is a repository's settings, as CreateRepository sets them and Repository reads them.
type Repo struct {
	// Mutability is MUTABLE (the default), IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or
	// MUTABLE_WITH_EXCLUSION; ExclusionFilters are the wildcard filters of the last two.
	Mutability       string
	ExclusionFilters []string
	// ScanOnPush is the repository-level scanning setting (PutImageScanningConfiguration).
	ScanOnPush bool
	// EncryptionType is AES256 (the default), KMS or KMS_DSSE; KMSKey the key of the last two.
	EncryptionType, KMSKey string
	// LifecyclePolicy is the policy text as it was put; empty when none is set.
	LifecyclePolicy string
	// LastEvaluatedAt is when ECR last ran the lifecycle policy; zero for never, and then
	// GetLifecyclePolicy does not report it.
	LastEvaluatedAt time.Time
}

// Image is a manifest to store with PutImage.
type Image struct {
	// Manifest is the manifest's bytes; the image's digest is their SHA-256.
	Manifest []byte
	// MediaType is the manifest's media type; empty takes the manifest's mediaType field,
	// else an OCI index or manifest by its shape.
	MediaType string
	Tags      []string
	// PushedAt defaults to the server's time. The other times are zero when they never
	// happened.
	PushedAt, LastPulledAt, LastArchivedAt, LastActivatedAt time.Time
	// Status is ACTIVE (the default), ARCHIVED or ACTIVATING.
	Status string
	// Size overrides the imageSizeInBytes the server derives from the manifest: the sum of
	// config and layer sizes (layers only for an artifact), or for an index the largest of
	// its children in the repository.
	Size int64
}

// ImageState is an image as the server holds it.
type ImageState struct {
	Digest    string
	Tags      []string // sorted
	MediaType string
	// Status is ACTIVE, ARCHIVED or ACTIVATING; StorageClass STANDARD for an ACTIVE image
	// and ARCHIVE otherwise (an image being restored is still archived).
	Status, StorageClass                                    string
	PushedAt, LastPulledAt, LastArchivedAt, LastActivatedAt time.Time
	// Size is imageSizeInBytes as DescribeImages reports it.
	Size int64
	// Subject is the manifest's subject digest; Children the digests an index lists.
	Subject  string
	Children []string
}

// ScanningConfig is the registry's scanning configuration.
type ScanningConfig struct {
	// ScanType is BASIC or ENHANCED.
	ScanType string
	Rules    []ScanningRule
}

// ScanningRule is one rule of the registry's scanning configuration.
type ScanningRule struct {
	// ScanFrequency is SCAN_ON_PUSH, CONTINUOUS_SCAN or MANUAL.
	ScanFrequency string
	// Filters are the rule's WILDCARD repository filters.
	Filters []string
}

// Build is what PushBuild pushed: the digests of the index, its platform image and its
// attestation manifest.
type Build struct {
	Index, Image, Attestation string
}

// Image statuses and storage classes, as the API spells them.
const (
	statusActive     = "ACTIVE"
	statusArchived   = "ARCHIVED"
	statusActivating = "ACTIVATING"
	classStandard    = "STANDARD"
	classArchive     = "ARCHIVE"
)

type repository struct {
	account       string // the registry ID of the server holding it
	name          string
	created       time.Time
	mutability    string
	filters       []string
	scanOnPush    bool
	encType       string
	kmsKey        string
	policy        string
	lastEvaluated time.Time
	images        map[string]*image // by digest
	tags          map[string]string // tag → digest
	preview       *preview
	script        []PreviewResult // what previews report (SetPreview), by digest
	holdPreviews  bool            // previews stay IN_PROGRESS (HoldPreviews)
}

type image struct {
	digest    string
	manifest  []byte
	mediaType string
	parsed    manifest
	tags      []string // sorted
	pushed    time.Time
	pulled    time.Time
	archived  time.Time
	activated time.Time
	status    string
	size      int64 // explicit size, or 0
	// restoreSeen is set once a listing has reported the image ACTIVATING; the next
	// listing finds it restored.
	restoreSeen bool
}

// manifest is the part of a manifest or index the server reads.
type manifest struct {
	MediaType    string       `json:"mediaType"`
	ArtifactType string       `json:"artifactType"`
	Config       *descriptor  `json:"config"`
	Layers       []descriptor `json:"layers"`
	Manifests    []descriptor `json:"manifests"`
	Subject      *descriptor  `json:"subject"`
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// Config media types of container images: ECR reports them as artifactMediaType, and
// counts the config in imageSizeInBytes.
const (
	mediaTypeOCIConfig    = "application/vnd.oci.image.config.v1+json"
	mediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"
)

func (m *manifest) isIndex() bool {
	return m.MediaType == inventory.MediaTypeOCIIndex || m.MediaType == inventory.MediaTypeDockerList
}

// artifactMediaType is what DescribeImages reports as artifactMediaType: the artifact type,
// else the config's media type.
func (m *manifest) artifactMediaType() string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	if m.Config != nil {
		return m.Config.MediaType
	}
	return ""
}

func (img *image) storageClass() string {
	if img.status == statusActive {
		return classStandard
	}
	return classArchive
}

// CreateRepository creates a repository with the settings r, as CreateRepository would
// (with MUTABLE and AES256 by default) but without validating them, and sets its lifecycle
// policy text as given. It fails the test if the repository exists.
func (s *Server) CreateRepository(name string, r Repo) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[name]; ok {
		s.t.Fatalf("ecrtest: repository %s already exists", name)
	}
	if r.Mutability == "" {
		r.Mutability = "MUTABLE"
	}
	if r.EncryptionType == "" {
		r.EncryptionType = "AES256"
	}
	s.repos[name] = &repository{
		account:       s.account,
		name:          name,
		created:       s.now(),
		mutability:    r.Mutability,
		filters:       slices.Clone(r.ExclusionFilters),
		scanOnPush:    r.ScanOnPush,
		encType:       r.EncryptionType,
		kmsKey:        r.KMSKey,
		policy:        r.LifecyclePolicy,
		lastEvaluated: r.LastEvaluatedAt,
		images:        make(map[string]*image),
		tags:          make(map[string]string),
	}
}

// PutImage stores a manifest in repo and returns its digest, the SHA-256 of the manifest.
// Each tag moves to it from whatever image held it; an image left without tags stays, untagged,
// as in ECR. Pushing a manifest already stored adds the tags and overwrites the times,
// status and size given (non-zero). Tag immutability is not enforced. PutImage fails the
// test if repo does not exist or the manifest is not JSON.
func (s *Server) PutImage(repo string, img Image) string {
	s.t.Helper()
	var m manifest
	if err := json.Unmarshal(img.Manifest, &m); err != nil {
		s.t.Fatalf("ecrtest: PutImage(%s): manifest: %v", repo, err)
	}
	if img.MediaType != "" {
		m.MediaType = img.MediaType
	}
	if m.MediaType == "" {
		m.MediaType = inventory.MediaTypeOCIManifest
		if m.Manifests != nil {
			m.MediaType = inventory.MediaTypeOCIIndex
		}
	}
	switch img.Status {
	case "", statusActive, statusArchived, statusActivating:
	default:
		s.t.Fatalf("ecrtest: PutImage(%s): unknown status %q", repo, img.Status)
	}
	sum := sha256.Sum256(img.Manifest)
	dgst := "sha256:" + hex.EncodeToString(sum[:])

	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repo]
	if !ok {
		s.t.Fatalf("ecrtest: PutImage: no repository %s", repo)
	}
	stored, ok := r.images[dgst]
	if !ok {
		stored = &image{
			digest:    dgst,
			manifest:  slices.Clone(img.Manifest),
			mediaType: m.MediaType,
			parsed:    m,
			pushed:    s.now(),
			status:    statusActive,
		}
		r.images[dgst] = stored
	}
	set := func(dst *time.Time, t time.Time) {
		if !t.IsZero() {
			*dst = t.UTC()
		}
	}
	set(&stored.pushed, img.PushedAt)
	set(&stored.pulled, img.LastPulledAt)
	set(&stored.archived, img.LastArchivedAt)
	set(&stored.activated, img.LastActivatedAt)
	if img.Status != "" {
		stored.status = img.Status
	}
	if img.Size != 0 {
		stored.size = img.Size
	}
	for _, tag := range img.Tags {
		r.tag(stored, tag)
	}
	return dgst
}

// tag points tag at img, taking it from the image that held it.
func (r *repository) tag(img *image, tag string) {
	if old, ok := r.tags[tag]; ok {
		if old == img.digest {
			return
		}
		prev := r.images[old]
		prev.tags = slices.DeleteFunc(prev.tags, func(t string) bool { return t == tag })
	}
	r.tags[tag] = img.digest
	i, _ := slices.BinarySearch(img.tags, tag)
	img.tags = slices.Insert(img.tags, i, tag)
}

// untag removes tag from img.
func (r *repository) untag(img *image, tag string) {
	delete(r.tags, tag)
	img.tags = slices.DeleteFunc(img.tags, func(t string) bool { return t == tag })
}

// remove deletes img and its tags.
func (r *repository) remove(img *image) {
	for _, t := range img.tags {
		delete(r.tags, t)
	}
	delete(r.images, img.digest)
}

// Layer sizes of PushBuild's images: a shared Debian base layer and an application layer
// of a few megabytes, compressed, as a small service's image has.
const (
	baseLayerSize   = 29_153_729
	minAppLayerSize = 2 << 20
	appLayerRange   = 18 << 20
)

// PushBuild pushes what `docker buildx build --push -t repo:tag` pushes for one
// linux/amd64 build with provenance (buildx's default): an OCI index, tagged, listing the
// image manifest (a config and two layers, the first shared by every build) and an
// attestation manifest (platform unknown/unknown, annotated
// vnd.docker.reference.type=attestation-manifest), all pushed at pushed. Every build of a
// different repo, tag or push time has a different image.
func (s *Server) PushBuild(repo, tag string, pushed time.Time) Build {
	s.t.Helper()
	seed := sha256.Sum256([]byte(repo + "\x00" + tag + "\x00" + pushed.UTC().Format(time.RFC3339Nano)))
	config := fmt.Sprintf(`{"architecture":"amd64","os":"linux","created":%q,"config":{"Cmd":["/app"]},"rootfs":{"type":"layers"}}`, pushed.UTC().Format(time.RFC3339))
	appSize := minAppLayerSize + int64(binary.BigEndian.Uint32(seed[:4])%appLayerRange)
	img := manifest{
		MediaType: inventory.MediaTypeOCIManifest,
		Config:    &descriptor{MediaType: mediaTypeOCIConfig, Digest: blobDigest(config), Size: int64(len(config))},
		Layers: []descriptor{
			{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: blobDigest("debian:bookworm-slim base layer"), Size: baseLayerSize},
			{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: blobDigest("application layer " + hex.EncodeToString(seed[:])), Size: appSize},
		},
	}
	imgRaw := marshalManifest(img)
	imgDigest := s.PutImage(repo, Image{Manifest: imgRaw, PushedAt: pushed})

	attConfig := `{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}`
	provenance := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":%q}}]}`, strings.TrimPrefix(imgDigest, "sha256:"))
	att := manifest{
		MediaType: inventory.MediaTypeOCIManifest,
		Config:    &descriptor{MediaType: mediaTypeOCIConfig, Digest: blobDigest(attConfig), Size: int64(len(attConfig))},
		Layers: []descriptor{{
			MediaType:   "application/vnd.in-toto+json",
			Digest:      blobDigest(provenance),
			Size:        int64(len(provenance)),
			Annotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
		}},
	}
	attRaw := marshalManifest(att)
	attDigest := s.PutImage(repo, Image{Manifest: attRaw, PushedAt: pushed})

	index := manifest{
		MediaType: inventory.MediaTypeOCIIndex,
		Manifests: []descriptor{
			{MediaType: inventory.MediaTypeOCIManifest, Digest: imgDigest, Size: int64(len(imgRaw)), Platform: &platform{Architecture: "amd64", OS: "linux"}},
			{
				MediaType: inventory.MediaTypeOCIManifest, Digest: attDigest, Size: int64(len(attRaw)),
				Annotations: map[string]string{inventory.AnnotationRefDigest: imgDigest, inventory.AnnotationRefType: inventory.RefTypeAttestation},
				Platform:    &platform{Architecture: "unknown", OS: "unknown"},
			},
		},
	}
	idxDigest := s.PutImage(repo, Image{Manifest: marshalManifest(index), Tags: []string{tag}, PushedAt: pushed})
	return Build{Index: idxDigest, Image: imgDigest, Attestation: attDigest}
}

func blobDigest(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// marshalManifest encodes m as a registry stores it, with schemaVersion 2.
func marshalManifest(m manifest) []byte {
	type wire struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        *descriptor  `json:"config,omitempty"`
		Layers        []descriptor `json:"layers,omitempty"`
		Manifests     []descriptor `json:"manifests,omitempty"`
	}
	b, _ := json.Marshal(wire{2, m.MediaType, m.Config, m.Layers, m.Manifests})
	return b
}

// Repository returns the settings of the repository name, and whether it exists.
func (s *Server) Repository(name string) (Repo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[name]
	if !ok {
		return Repo{}, false
	}
	return Repo{
		Mutability:       r.mutability,
		ExclusionFilters: slices.Clone(r.filters),
		ScanOnPush:       r.scanOnPush,
		EncryptionType:   r.encType,
		KMSKey:           r.kmsKey,
		LifecyclePolicy:  r.policy,
		LastEvaluatedAt:  r.lastEvaluated,
	}, true
}

// Images returns the images of repo, ordered by digest; nil when repo does not exist.
func (s *Server) Images(repo string) []ImageState {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repo]
	if !ok {
		return nil
	}
	out := make([]ImageState, 0, len(r.images))
	for _, d := range slices.Sorted(maps.Keys(r.images)) {
		img := r.images[d]
		st := ImageState{
			Digest:          d,
			Tags:            slices.Clone(img.tags),
			MediaType:       img.mediaType,
			Status:          img.status,
			StorageClass:    img.storageClass(),
			PushedAt:        img.pushed,
			LastPulledAt:    img.pulled,
			LastArchivedAt:  img.archived,
			LastActivatedAt: img.activated,
			Size:            r.sizeOf(img),
		}
		if img.parsed.Subject != nil {
			st.Subject = img.parsed.Subject.Digest
		}
		for _, c := range img.parsed.Manifests {
			st.Children = append(st.Children, c.Digest)
		}
		out = append(out, st)
	}
	return out
}

// RegistryScanning returns the registry's scanning configuration.
func (s *Server) RegistryScanning() ScanningConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := ScanningConfig{ScanType: s.scanning.ScanType}
	for _, r := range s.scanning.Rules {
		c.Rules = append(c.Rules, ScanningRule{ScanFrequency: r.ScanFrequency, Filters: slices.Clone(r.Filters)})
	}
	return c
}

// sizeOf is imageSizeInBytes: the explicit size, else for an index the largest of its
// children present, else config and layers (layers only for an artifact, whose config is
// not a container image config).
func (r *repository) sizeOf(img *image) int64 {
	if img.size != 0 {
		return img.size
	}
	m := &img.parsed
	var n int64
	if m.isIndex() {
		for _, c := range m.Manifests {
			if child, ok := r.images[c.Digest]; ok && child != img && !child.parsed.isIndex() {
				n = max(n, r.sizeOf(child))
			}
		}
		return n
	}
	for _, l := range m.Layers {
		n += l.Size
	}
	if m.Config != nil && m.ArtifactType == "" && (m.Config.MediaType == mediaTypeOCIConfig || m.Config.MediaType == mediaTypeDockerConfig) {
		n += m.Config.Size
	}
	return n
}

// parents returns the indexes in r that list digest.
func (r *repository) parents(digest string) []string {
	var out []string
	for d, img := range r.images {
		for _, c := range img.parsed.Manifests {
			if c.Digest == digest && d != digest {
				out = append(out, d)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}
