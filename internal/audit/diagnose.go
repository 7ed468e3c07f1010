package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/report"
)

// Diagnosis codes, in the order diagnoses of the same severity are reported.
const (
	CodeBrokenIndexes              = "broken-indexes"
	CodeSinglePlatformAttestations = "single-platform-attestations"
	CodeSupersededUntagged         = "superseded-untagged"
	CodeOrphanedAttestations       = "orphaned-attestations"
	CodeOrphanedReferrers          = "orphaned-referrers"
	CodeOrphanedTagSignatures      = "orphaned-tag-signatures"
	CodeUnknownPushTime            = "unknown-push-time"
	CodeTagSignatures              = "tag-signatures"
	CodeUnknownChildren            = "unknown-children"
	CodeUnknownLayers              = "unknown-layers"
	CodeInUseWouldExpire           = "in-use-would-expire"
)

// Thresholds: a diagnosis is reported from this many affected manifests on.
const (
	// minBrokenIndexes: a single index with a missing child already fails some pull.
	minBrokenIndexes = 1
	// minAttestationHabit: a few single-platform indexes with provenance may be deliberate
	// (a release built by hand); this many are a build default nobody chose.
	minAttestationHabit = 10
	// minSuperseded: an untagged rule that expires a day after the push still leaves the
	// last day's superseded builds, a handful in a busy repository; more are leftovers.
	minSuperseded = 10
	// minOrphans: every orphan is storage that nothing can use.
	minOrphans = 1
	// minUnknownPushTime: every such image escapes age rules.
	minUnknownPushTime = 1
	// minTagSignatures: one signature under a tag is enough to be left behind.
	minTagSignatures = 1
)

// untaggedRule is the lifecycle rule selection that removes leftovers a day after their push.
const untaggedRule = `{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}`

// diagnose turns the counts into findings, warnings first, each kind at most once.
func (a *auditor) diagnose(r *Report) []Diagnosis {
	c := &r.Counts
	ds := []Diagnosis{}
	add := func(code string, sev Severity, fix, format string, args ...any) {
		ds = append(ds, Diagnosis{Code: code, Severity: sev, Message: fmt.Sprintf(format, args...), Fix: fix})
	}

	if n := len(a.inUseExpired); n > 0 {
		named := strings.Join(a.inUseExpired[:min(n, 3)], ", ")
		if n > 3 {
			named += fmt.Sprintf(" and %d more", n-3)
		}
		add(CodeInUseWouldExpire, Warning,
			"add a higher-priority rule that keeps the tags you deploy (or pin the digests with shipshape pin set); shipshape's plans keep what runs, but ECR's native lifecycle policy knows nothing of it and would delete these images",
			"the policy would expire %s that %s: %s",
			counted(n, "image", "images"), pick(n, "runs", "run"), named)
	}

	if c.IndexesWithMissingChildren >= minBrokenIndexes {
		add(CodeBrokenIndexes, Warning,
			"push those images again, or delete the broken indexes; delete untagged images only with rules that respect index references (ECR lifecycle policies and shipshape plans do, scripts that delete every untagged digest do not)",
			"%s %s that %s not in the repository: pulling or verifying %s fails with \"manifest unknown\"",
			counted(c.IndexesWithMissingChildren, "index lists", "indexes list"), counted(c.MissingChildren, "manifest", "manifests"),
			pick(c.MissingChildren, "is", "are"), pick(c.MissingChildren, "it", "them"))
	}

	if c.SinglePlatformWithAttestation >= minAttestationHabit {
		add(CodeSinglePlatformAttestations, Warning,
			"build with --provenance=false (or --attest type=provenance,mode=min only where you need provenance), or export attestations as OCI referrers (--output type=image,push=true,oci-artifact=true) so cleanup can follow their subject",
			"%s pushed as an index plus an untagged attestation manifest (%s)",
			counted(c.SinglePlatformWithAttestation, "single-platform image is", "single-platform images are"),
			counted(a.extraManifests, "extra manifest", "extra manifests"))
	}

	if c.Superseded >= minSuperseded {
		a.diagnoseSuperseded(c, add)
	}

	if c.OrphanedAttestations >= minOrphans {
		add(CodeOrphanedAttestations, Warning,
			"expire untagged images with a rule such as "+untaggedRule+"; delete an index through a lifecycle policy or together with its children, never on its own",
			"%s (%s) %s",
			counted(c.OrphanedAttestations, "untagged manifest", "untagged manifests"), report.Bytes(a.sizes.Only(a.orphanAtt)),
			pick(c.OrphanedAttestations,
				"looks like a buildx attestation manifest whose index was deleted: no index lists it, so nothing pulls or verifies it",
				"look like buildx attestation manifests whose index was deleted: no index lists them, so nothing pulls or verifies them"))
	}

	if c.OrphanedReferrers >= minOrphans {
		orphans := make([]bool, len(a.images))
		for i := range a.images {
			if s := a.images[i].Subject; s != "" {
				j, ok := a.g.Index(s)
				orphans[i] = !ok || j == i
			}
		}
		add(CodeOrphanedReferrers, Warning,
			"expire referrers without a subject with an untagged rule such as "+untaggedRule+" (with their subject gone they are ordinary images to it), and remove subjects together with their referrers",
			"%s (%s) %s a subject that is no longer in the repository, so %s nothing",
			counted(c.OrphanedReferrers, "referrer", "referrers"), report.Bytes(a.sizes.Only(orphans)),
			pick(c.OrphanedReferrers, "names", "name"), pick(c.OrphanedReferrers, "it signs or describes", "they sign or describe"))
	}

	if c.OrphanedTagSignatures >= minOrphans {
		add(CodeOrphanedTagSignatures, Warning,
			"delete such signatures by hand, since lifecycle rules cannot tell them from the signatures of live images; sign with OCI 1.1 referrers (cosign sign --registry-referrers-mode=oci-1-1) so that signatures follow their image",
			"%s under cosign's tag scheme (sha256-<digest>.sig, .att, .sbom) %s an image that is no longer in the repository",
			counted(c.OrphanedTagSignatures, "signature", "signatures"), pick(c.OrphanedTagSignatures, "names", "name"))
	}

	if c.UnknownPushTime >= minUnknownPushTime {
		add(CodeUnknownPushTime, Warning,
			"record a creation time at build time: --label org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ) for images (docker/metadata-action sets it) and --annotation index:org.opencontainers.image.created=… for multi-platform indexes",
			"%s no push time (the registry records none and %s no org.opencontainers.image.created): age rules never select %s, and count rules rank %s as the newest",
			counted(c.UnknownPushTime, "image has", "images have"), pick(c.UnknownPushTime, "it carries", "they carry"),
			pick(c.UnknownPushTime, "it", "them"), pick(c.UnknownPushTime, "it", "them"))
	}

	if c.TagSignatures >= minTagSignatures {
		add(CodeTagSignatures, Info,
			"sign with OCI 1.1 referrers (cosign sign --registry-referrers-mode=oci-1-1) so that signatures follow their image",
			"%s stored under cosign's tag scheme (sha256-<digest>.sig, .att, .sbom): when a policy expires %s image, %s behind",
			counted(c.TagSignatures, "signature is", "signatures are"), pick(c.TagSignatures, "its", "their"),
			pick(c.TagSignatures, "the signature stays", "the signatures stay"))
	}

	if c.IndexesWithUnknownChildren > 0 {
		what := "so their platform images and attestation manifests are not counted"
		if c.Unattributed > 0 {
			what = fmt.Sprintf("so %s be their platform images and attestation manifests rather than leftovers",
				counted(c.Unattributed, "untagged image may", "untagged images may"))
		}
		add(CodeUnknownChildren, Info,
			"audit a shipshape snapshot, which records the children of every index, for exact counts",
			"%s no list of children (describe-images output does not carry one), %s",
			counted(c.IndexesWithUnknownChildren, "index has", "indexes have"), what)
	}

	if n := a.withoutBlobs(); n > 0 {
		add(CodeUnknownLayers, Info,
			"audit a shipshape snapshot, which records every image's layers, for deduplicated sizes",
			"%s no list of layers (describe-images output does not carry one), so a layer that several images share is counted once for each of them and the stored size is an upper bound",
			counted(n, "image has", "images have"))
	}

	// Warnings first; the order above within a severity.
	slices.SortStableFunc(ds, func(x, y Diagnosis) int {
		return severityRank(x.Severity) - severityRank(y.Severity)
	})
	return ds
}

// diagnoseSuperseded reports untagged manifests that nothing reaches, with what they hold
// together with the manifests under them, and what the policy, if any, does about them.
func (a *auditor) diagnoseSuperseded(c *Counts, add func(string, Severity, string, string, ...any)) {
	var roots []int
	for i, s := range a.superseded {
		if s {
			roots = append(roots, i)
		}
	}
	under := a.reach(roots, a.live)
	held := a.sizes.Only(under)
	below := -len(roots)
	for _, u := range under {
		if u {
			below++
		}
	}
	msg := fmt.Sprintf("%s reachable from no tag, index or referrer",
		counted(c.Superseded, "untagged image is", "untagged images are"))
	switch {
	case held == 0: // sizes unknown, as for indexes in describe-images output
	case below > 0:
		msg += fmt.Sprintf("; with the %s under them they hold %s", counted(below, "manifest", "manifests"), report.Bytes(held))
	default:
		msg += fmt.Sprintf("; they hold %s", report.Bytes(held))
	}
	sev := Warning
	fix := "expire untagged images with a rule such as " + untaggedRule + "; ECR removes an expired index's children in a later run"
	if a.expired != nil {
		expired := 0
		for _, i := range roots {
			if a.expired[i] {
				expired++
			}
		}
		switch expired {
		case 0:
			msg += "; the policy expires none of them"
		case len(roots):
			msg += "; the policy expires all of them"
		default:
			msg += fmt.Sprintf("; the policy expires %s of them", thousands(expired))
		}
		if len(roots)-expired < minSuperseded {
			sev = Info
			fix = "none needed: the policy expires them, and ECR removes an expired index's children in a later run"
			if expired < len(roots) {
				fix = "none needed: the policy expires most of them, and the rest are too few to matter"
			}
		}
	}
	add(CodeSupersededUntagged, sev, fix, "%s", msg)
}

// withoutBlobs counts the image manifests whose size is the registry's figure rather than
// their blobs'.
func (a *auditor) withoutBlobs() int {
	n := 0
	for i := range a.images {
		img := &a.images[i]
		if !img.IsIndex() && img.Config == nil && len(img.Layers) == 0 && img.SizeBytes > 0 {
			n++
		}
	}
	return n
}

func severityRank(s Severity) int {
	if s == Warning {
		return 0
	}
	return 1
}

// counted writes n with the singular or plural phrase that follows it: "1 index has",
// "1,024 indexes have".
func counted(n int, one, many string) string {
	return thousands(n) + " " + pick(n, one, many)
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands formats n with thousands separators: 1,183.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
