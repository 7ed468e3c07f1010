// Package audit sizes up a repository: what it holds, what that costs, what a lifecycle
// policy would reclaim, and what to change, as diagnoses that each carry their fix.
package audit

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// bytesPerGB is the gigabyte storage is billed in (2^30 bytes), as in plan.
const bytesPerGB = 1 << 30

// Options tune an audit. The zero value audits without a policy at the default price.
type Options struct {
	// PricePerGBMonth prices storage; 0 means plan.DefaultPricePerGBMonth.
	PricePerGBMonth float64
	// Safety is applied when a Policy is planned (pinned digests and the like).
	Safety plan.Safety
	// Policy, when set, is planned over the repository to report what it would reclaim.
	Policy *policy.Policy
	// Now is when the policy is evaluated; it matters only with Policy.
	Now time.Time
}

// Report is the audit of one repository. Its JSON form is documented in the README and is
// stable.
type Report struct {
	Repository string `json:"repository"`
	// CapturedAt is when the inventory was taken; omitted when unknown.
	CapturedAt *time.Time `json:"capturedAt,omitempty"`
	Counts     Counts     `json:"counts"`
	Storage    Storage    `json:"storage"`
	// Policy is what the policy would do; omitted when the audit had none.
	Policy *Reclaim `json:"policy,omitempty"`
	// Diagnoses are ordered warnings first, then by code as listed in diagnose.go.
	Diagnoses []Diagnosis `json:"diagnoses"`
	// Notes say what the inventory's source could not see, as the source wrote them.
	Notes []string `json:"notes,omitempty"`
}

// Counts classifies the manifests of a repository. One manifest may count in several
// fields (an untagged index is both an index and superseded), but the leftover classes
// (Superseded, Unattributed, OrphanedAttestations, OrphanedReferrers) exclude each other.
type Counts struct {
	// Images counts manifests of every kind: images, indexes, artifacts.
	Images   int `json:"images"`
	Tagged   int `json:"tagged"`
	Untagged int `json:"untagged"`
	// InUse counts the images that run where the in-use sources looked; omitted without
	// any in-use source.
	InUse int `json:"inUse,omitempty"`

	// Indexes counts image indexes and manifest lists.
	Indexes int `json:"indexes"`
	// IndexesWithUnknownChildren have no list of children (describe-images output).
	IndexesWithUnknownChildren int `json:"indexesWithUnknownChildren"`
	// IndexesWithMissingChildren list manifests that are not in the repository;
	// MissingChildren counts those entries.
	IndexesWithMissingChildren int `json:"indexesWithMissingChildren"`
	MissingChildren            int `json:"missingChildren"`
	// SinglePlatformIndexes list exactly one entry that is not an attestation manifest;
	// SinglePlatformWithAttestation counts those that also list an attestation manifest.
	SinglePlatformIndexes         int `json:"singlePlatformIndexes"`
	SinglePlatformWithAttestation int `json:"singlePlatformWithAttestation"`

	// PlatformImages are image manifests an index lists for a platform.
	PlatformImages int `json:"platformImages"`
	// AttestationManifests are manifests an index lists as buildx attestation manifests
	// (vnd.docker.reference.type: attestation-manifest).
	AttestationManifests int `json:"attestationManifests"`

	// Referrers are manifests whose subject is in the repository and that no index lists,
	// by artifact type: Signatures (cosign, Notation, Sigstore bundles), SBOMs (SPDX,
	// CycloneDX, Syft) and OtherReferrers.
	Referrers      int `json:"referrers"`
	Signatures     int `json:"signatures"`
	SBOMs          int `json:"sboms"`
	OtherReferrers int `json:"otherReferrers"`
	// TagSignatures are manifests tagged in cosign's tag scheme, sha256-<hex>.sig, .att or
	// .sbom, whose image is in the repository.
	TagSignatures int `json:"tagSignatures"`

	// Superseded are untagged manifests that no index lists and that refer to nothing:
	// builds whose tag moved on, and their indexes. See OrphanedAttestations and
	// Unattributed for the untagged manifests this excludes.
	Superseded int `json:"superseded"`
	// Unattributed are untagged, unlisted image manifests that may be the children of an
	// index whose children are unknown, and so cannot be told from superseded images.
	Unattributed int `json:"unattributed"`
	// OrphanedAttestations are untagged, unlisted manifests that look like buildx
	// attestation manifests (see looksLikeAttestation): their index was deleted without them.
	OrphanedAttestations int `json:"orphanedAttestations"`
	// OrphanedReferrers name a subject that is not in the repository.
	OrphanedReferrers int `json:"orphanedReferrers"`
	// OrphanedTagSignatures are tagged in cosign's tag scheme for an image that is not in
	// the repository.
	OrphanedTagSignatures int `json:"orphanedTagSignatures"`

	// UnknownPushTime counts manifests without a push time that rules decide on their own
	// (index children and referrers follow their index or subject instead).
	UnknownPushTime int `json:"unknownPushTime"`
}

// Storage is what the repository stores, deduplicated: each blob once, however many
// manifests reference it. Manifests without blob information (describe-images input) count
// their own size figure, except indexes, whose figure repeats their largest child's.
type Storage struct {
	StoredBytes int64 `json:"storedBytes"`
	// UnreachableBytes are held only by manifests that no tag reaches, directly or through
	// an index or a subject: what removing every leftover frees.
	UnreachableBytes int64 `json:"unreachableBytes"`
	// AttestationBytes are held only by attestation manifests, listed or orphaned.
	AttestationBytes int64   `json:"attestationBytes"`
	MonthlyCostUSD   float64 `json:"monthlyCostUSD"`
	PricePerGBMonth  float64 `json:"pricePerGBMonth"`
}

// Reclaim is what the policy would do, from the plan's summary.
type Reclaim struct {
	Now               time.Time `json:"now"`
	Expire            int       `json:"expire"`
	Transition        int       `json:"transition"`
	Keep              int       `json:"keep"`
	ReclaimedBytes    int64     `json:"reclaimedBytes"`
	TransitionedBytes int64     `json:"transitionedBytes"`
	MonthlySavingsUSD float64   `json:"monthlySavingsUSD"`
}

// Severity grades a diagnosis.
type Severity string

// Severities: a warning costs money or breaks something; info is worth knowing.
const (
	Info    Severity = "info"
	Warning Severity = "warning"
)

// Diagnosis is one finding, with what to do about it.
type Diagnosis struct {
	// Code names the finding, e.g. "single-platform-attestations"; codes are stable.
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
}

// role is what an index makes of a manifest it lists.
type role uint8

const (
	roleNone role = iota
	rolePlatform
	roleAttestation
)

// Limits of what a buildx attestation manifest looks like once its index is gone. Its
// config is a stub ({"architecture":"unknown","os":"unknown",…}: about 170 bytes plus 72 a
// layer) and its layers are in-toto statements. A runnable image's config carries history
// and environment, well over the config limit, and some layer over the layer limit; an
// attestation with a large SBOM exceeds the layer limit too and is then not called an
// orphan, which errs on the side of saying less.
const (
	attestationConfigMax = 512
	attestationLayerMax  = 1 << 20
)

// auditor holds the facts Audit derives, shared by the counting, sizing and diagnoses.
type auditor struct {
	inv    *inventory.Inventory
	images []inventory.Image
	g      *inventory.Graph
	opts   Options
	price  float64

	role       []role
	superseded []bool
	orphanAtt  []bool
	// live marks manifests a tag reaches (and, conservatively, unattributed ones).
	live []bool
	// extraManifests counts the indexes and attestation manifests of single-platform
	// indexes with an attestation: what a plain push would not have stored.
	extraManifests int
	sizes          *inventory.Storage
	// expired marks the manifests the policy's plan expires; nil without a policy.
	expired []bool
	// inUseExpired lists the images in use (Safety.InUse) that the policy alone would
	// expire, with where they run.
	inUseExpired []string
}

// Audit reports on inv. It does no I/O and reads no clock: the policy, if any, is evaluated
// at opts.Now.
func Audit(inv *inventory.Inventory, opts Options) Report {
	a := &auditor{inv: inv, images: inv.Images, g: inventory.NewGraph(inv.Images), opts: opts, price: opts.PricePerGBMonth}
	if a.price == 0 {
		a.price = plan.DefaultPricePerGBMonth
	}
	r := Report{Repository: inv.Repository, Notes: slices.Clone(inv.Notes)}
	if !inv.CapturedAt.IsZero() {
		t := inv.CapturedAt.UTC()
		r.CapturedAt = &t
	}
	r.Counts = a.count()
	for i := range a.images {
		if _, ok := opts.Safety.InUse[a.images[i].Digest]; ok {
			r.Counts.InUse++
		}
	}
	a.sizes = inventory.NewStorage(a.images)
	r.Storage = a.storage()
	if opts.Policy != nil {
		r.Policy = a.reclaim()
	}
	r.Diagnoses = a.diagnose(&r)
	return r
}

// count classifies every manifest.
func (a *auditor) count() Counts {
	var c Counts
	n := len(a.images)
	a.role = make([]role, n)
	a.superseded = make([]bool, n)
	a.orphanAtt = make([]bool, n)
	c.Images = n
	for i := range a.images {
		img := &a.images[i]
		if len(img.Tags) > 0 {
			c.Tagged++
		} else {
			c.Untagged++
		}
		if !img.IsIndex() {
			continue
		}
		c.Indexes++
		if img.Children == nil {
			c.IndexesWithUnknownChildren++
			continue
		}
		platforms, attestations, missing := 0, 0, 0
		for _, ch := range img.Children {
			if ch.IsAttestation() {
				attestations++
			} else {
				platforms++
			}
			j, ok := a.g.Index(ch.Digest)
			switch {
			case !ok:
				missing++
			case j == i: // an index that lists itself; the graph ignores the edge too
			case ch.IsAttestation():
				a.role[j] = roleAttestation
			case a.role[j] == roleNone && !a.images[j].IsIndex():
				a.role[j] = rolePlatform
			}
		}
		if platforms == 1 {
			c.SinglePlatformIndexes++
			if attestations > 0 {
				c.SinglePlatformWithAttestation++
				a.extraManifests += 1 + attestations
			}
		}
		if missing > 0 {
			c.IndexesWithMissingChildren++
			c.MissingChildren += missing
		}
	}

	var roots []int // tagged and unattributed manifests
	for i := range a.images {
		img := &a.images[i]
		switch a.role[i] {
		case rolePlatform:
			c.PlatformImages++
		case roleAttestation:
			c.AttestationManifests++
		}
		listed := len(a.g.Parents(i)) > 0
		follows := false // decided by its index or subject rather than on its own
		if img.Subject != "" {
			if j, ok := a.g.Index(img.Subject); ok && j != i {
				follows = true
				if !listed {
					c.Referrers++
					switch referrerKind(img.ArtifactType) {
					case kindSignature:
						c.Signatures++
					case kindSBOM:
						c.SBOMs++
					default:
						c.OtherReferrers++
					}
				}
			} else {
				c.OrphanedReferrers++
			}
		}
		if subjects := tagSignatureSubjects(img.Tags); len(subjects) > 0 {
			if slices.ContainsFunc(subjects, func(d string) bool { _, ok := a.g.Index(d); return ok }) {
				c.TagSignatures++
			} else {
				c.OrphanedTagSignatures++
			}
		}
		if img.PushedAt.IsZero() && !listed && !follows {
			c.UnknownPushTime++
		}
		if len(img.Tags) > 0 {
			roots = append(roots, i)
		}
		if len(img.Tags) > 0 || listed || img.Subject != "" {
			continue
		}
		switch {
		case c.IndexesWithUnknownChildren > 0 && !img.IsIndex():
			c.Unattributed++
			roots = append(roots, i)
		case looksLikeAttestation(img):
			a.orphanAtt[i] = true
			c.OrphanedAttestations++
		default:
			a.superseded[i] = true
			c.Superseded++
		}
	}

	// A manifest is live when a tag reaches it through index children and referrers.
	// Unattributed manifests may belong to an index whose children are unknown, so they
	// count as live: the audit never calls waste what it cannot tell.
	a.live = a.reach(roots, nil)
	return c
}

// reach marks the manifests reachable from roots through index children and referrers,
// not entering those marked in stop.
func (a *auditor) reach(roots []int, stop []bool) []bool {
	seen := make([]bool, len(a.images))
	queue := make([]int, 0, len(roots))
	visit := func(i int) {
		if !seen[i] && (stop == nil || !stop[i]) {
			seen[i] = true
			queue = append(queue, i)
		}
	}
	for _, i := range roots {
		visit(i)
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, ch := range a.images[i].Children {
			if j, ok := a.g.Index(ch.Digest); ok {
				visit(j)
			}
		}
		for _, j := range a.g.Referrers(i) {
			visit(j)
		}
	}
	return seen
}

func (a *auditor) storage() Storage {
	s := Storage{StoredBytes: a.sizes.Total(), PricePerGBMonth: a.price}
	dead := make([]bool, len(a.images))
	att := make([]bool, len(a.images))
	for i := range a.images {
		dead[i] = !a.live[i]
		att[i] = a.role[i] == roleAttestation || a.orphanAtt[i]
	}
	s.UnreachableBytes = a.sizes.Only(dead)
	s.AttestationBytes = a.sizes.Only(att)
	s.MonthlyCostUSD = dollars(s.StoredBytes, a.price)
	return s
}

// reclaim plans the policy over the repository and keeps the plan's summary.
func (a *auditor) reclaim() *Reclaim {
	pl := plan.Build(a.opts.Policy, a.inv, a.opts.Now, plan.Options{PricePerGBMonth: a.price, Safety: a.opts.Safety})
	a.expired = make([]bool, len(a.images))
	for _, it := range pl.Images {
		if it.Action == policy.Expire {
			if i, ok := a.g.Index(it.Digest); ok {
				a.expired[i] = true
			}
		}
	}
	if len(a.opts.Safety.InUse) > 0 {
		// What the policy alone does to what runs: ECR's native lifecycle knows nothing of
		// shipshape's safety layer.
		bare := a.opts.Safety
		bare.InUse = nil
		for _, it := range plan.Build(a.opts.Policy, a.inv, a.opts.Now, plan.Options{PricePerGBMonth: a.price, Safety: bare}).Images {
			if where, ok := a.opts.Safety.InUse[it.Digest]; ok && it.Action == policy.Expire {
				a.inUseExpired = append(a.inUseExpired, inventory.ShortDigest(it.Digest)+" ("+where+")")
			}
		}
		slices.Sort(a.inUseExpired)
	}
	s := pl.Summary
	return &Reclaim{
		Now:               a.opts.Now.UTC(),
		Expire:            s.Expire,
		Transition:        s.Transition,
		Keep:              s.Keep,
		ReclaimedBytes:    s.ReclaimedBytes,
		TransitionedBytes: s.TransitionedBytes,
		MonthlySavingsUSD: s.MonthlySavingsUSD,
	}
}

// dollars prices bytes for a month, rounded to cents.
func dollars(n int64, price float64) float64 {
	return math.Round(float64(n)/bytesPerGB*price*100) / 100
}

// looksLikeAttestation reports whether a manifest has the shape of a buildx attestation
// manifest: an OCI image manifest without artifact type or labels, whose config is a stub
// and whose layers are all small. Only snapshots carry blobs, so describe-images input never
// matches.
func looksLikeAttestation(img *inventory.Image) bool {
	if img.IsIndex() || img.MediaType != inventory.MediaTypeOCIManifest || img.ArtifactType != "" ||
		len(img.Labels) > 0 || img.Config == nil || img.Config.Size > attestationConfigMax || len(img.Layers) == 0 {
		return false
	}
	for _, l := range img.Layers {
		if l.Size > attestationLayerMax {
			return false
		}
	}
	return true
}

type kind uint8

const (
	kindOther kind = iota
	kindSignature
	kindSBOM
)

// signatureTypes are the artifact types of signatures stored as OCI referrers.
var signatureTypes = []string{
	"application/vnd.dev.cosign.artifact.sig.v1+json",
	"application/vnd.cncf.notary.signature",
	"application/vnd.dev.sigstore.bundle.v0.3+json",
	"application/vnd.dev.sigstore.bundle+json;version=0.3",
}

// sbomMarkers identify SBOM artifact types: SPDX, CycloneDX, Syft and cosign's SBOM type,
// in their JSON, XML and text spellings.
var sbomMarkers = []string{"spdx", "cyclonedx", "syft", "cosign.artifact.sbom"}

func referrerKind(artifactType string) kind {
	t := strings.ToLower(artifactType)
	if slices.Contains(signatureTypes, t) {
		return kindSignature
	}
	for _, m := range sbomMarkers {
		if strings.Contains(t, m) {
			return kindSBOM
		}
	}
	return kindOther
}

// tagSignatureSubjects returns the digests that cosign tag-scheme tags
// (sha256-<64 hex>.sig, .att or .sbom) name.
func tagSignatureSubjects(tags []string) []string {
	var out []string
	for _, t := range tags {
		hex, ok := strings.CutPrefix(t, "sha256-")
		if !ok {
			continue
		}
		dot := strings.IndexByte(hex, '.')
		if dot != 64 || !isHex(hex[:64]) {
			continue
		}
		switch hex[dot:] {
		case ".sig", ".att", ".sbom":
			out = append(out, "sha256:"+hex[:64])
		}
	}
	return out
}

func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
