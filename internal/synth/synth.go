// Package synth generates realistic, deterministic repository inventories for examples, tests and benchmarks.
package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Media types and digests of the artifacts the generator pushes besides images.
const (
	// ArtifactTypeCosignSignature is the artifact type of a cosign signature stored as an
	// OCI 1.1 referrer.
	ArtifactTypeCosignSignature = "application/vnd.dev.cosign.artifact.sig.v1+json"
	// emptyConfigDigest is the digest of "{}", the OCI empty descriptor.
	emptyConfigDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
)

// CIParams describes a repository that continuous integration pushes to. Every field is
// taken literally: a zero value means none (no pull-request builds, no releases, ...).
type CIParams struct {
	// Seed selects one of the possible histories; the same params give the same inventory.
	Seed int64
	// Repository names the repository, e.g. "123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app".
	Repository string
	// Source is the org.opencontainers.image.source label of each build; empty leaves it out.
	Source string
	// Now is when the inventory is captured. Builds are spread over the Days days before it.
	Now  time.Time
	Days int
	// BuildsPerDay is the average number of builds a day; the history has
	// round(Days×BuildsPerDay) builds.
	BuildsPerDay float64
	// PRShare is the fraction of builds that come from pull-request branches. They are tagged
	// pr-<number>, a tag that moves to the branch's newest build.
	PRShare float64
	// ReleaseEveryDays is the average number of days between releases: builds on main that
	// also get a tag vMAJOR.MINOR.PATCH.
	ReleaseEveryDays float64
	// Attestations makes every build an OCI image index holding the image and a provenance
	// attestation manifest, as `docker buildx build --push` does by default. Without, every
	// build is a single image manifest.
	Attestations bool
	// SignReleases gives every release a cosign signature, an OCI 1.1 referrer of the release.
	SignReleases bool
	// LegacyImages is the number of untagged, unreferenced Docker v2 images left from before
	// the repository was built by buildx. They predate the Days of history.
	LegacyImages int
}

// CIRepository generates the history of a repository built by CI with docker buildx.
//
// Each build pushes, one second apart, its linux/amd64 image manifest and (with Attestations)
// its attestation manifest, then the index listing both, tagged sha-<commit> (or pr-<number>
// on pull-request branches). Builds on main move the tags main and latest to themselves, and
// about every ReleaseEveryDays days one is also tagged as a release. The layers are shared as
// in a real repository: a base OS layer (about 30 MB) that changes monthly, a dependencies
// layer (about 120 MB) that changes weekly, and an application layer (about 15 MB) of each
// build. Recent builds and releases have been pulled; old builds have not.
//
// Sizes follow ECR: an image manifest's size is its config and layers, an attestation's its
// layers, an index's its largest child.
func CIRepository(p CIParams) *inventory.Inventory {
	builds := max(0, int(math.Round(float64(p.Days)*p.BuildsPerDay)))
	g := newGenerator(p, builds*3+max(p.LegacyImages, 0))
	g.legacy(p.LegacyImages)
	g.builds(builds)
	g.pulls()
	return g.inventory()
}

// Large generates a repository of exactly n images quickly, for benchmarks: a CI history like
// CIRepository's, with about a third of the images indexes with two children each, tagged
// sha-, pr- and release tags, topped up with legacy images to make n.
func Large(n int, seed int64, now time.Time) *inventory.Inventory {
	n = max(n, 0)
	builds := n * 99 / 300
	p := CIParams{
		Seed:             seed,
		Repository:       "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench/app",
		Source:           "https://github.com/acme/app",
		Now:              now,
		Days:             max(1, (builds+39)/40),
		PRShare:          0.3,
		ReleaseEveryDays: 10,
		Attestations:     true,
		// Signatures would overflow n when there are only a few builds.
		SignReleases: n >= 1000,
	}
	p.BuildsPerDay = float64(builds) / float64(p.Days)
	g := newGenerator(p, n)
	g.builds(builds)
	g.legacy(n - len(g.images))
	g.pulls()
	return g.inventory()
}

// build records where one build's images are in generator.images; -1 when absent.
type build struct {
	index, image, attestation, signature int
	release                              bool
}

type generator struct {
	p       CIParams
	rnd     rng
	buf     []byte
	images  []inventory.Image
	history []build
	// tagged maps each tag to the image carrying it, so that moving a tag removes it there.
	tagged map[string]int
	// shared caches blobs that several images reference.
	shared map[string]inventory.Blob
}

func newGenerator(p CIParams, size int) *generator {
	return &generator{
		p:      p,
		rnd:    rng{uint64(p.Seed)*0x9e3779b97f4a7c15 + 0x2545f4914f6cdd1d},
		buf:    make([]byte, 0, 64),
		images: make([]inventory.Image, 0, size),
		tagged: make(map[string]int),
		shared: make(map[string]inventory.Blob),
	}
}

func (g *generator) inventory() *inventory.Inventory {
	return &inventory.Inventory{Repository: g.p.Repository, CapturedAt: g.p.Now, Images: g.images}
}

// legacy adds n untagged Docker v2 images pushed between about 14 months and 5 weeks before
// the history starts, when the repository was still built with docker build.
func (g *generator) legacy(n int) {
	if n <= 0 {
		return
	}
	start := g.p.Now.AddDate(0, 0, -g.p.Days)
	first := start.AddDate(0, 0, -420)
	slot := start.AddDate(0, 0, -35).Sub(first) / time.Duration(n)
	for i := range n {
		t := first.Add(slot*time.Duration(i) + jitter(&g.rnd, slot)).Truncate(time.Second)
		config := g.blob("legacy-config", i, 3_000, 6_000)
		layers := []inventory.Blob{
			g.sharedBlob("legacy-base", int(t.Unix()/(60*86400)), 40_000_000, 48_000_000),
			g.sharedBlob("legacy-deps", int(t.Unix()/(30*86400)), 140_000_000, 160_000_000),
			g.blob("legacy-app", i, 10_000_000, 14_000_000),
		}
		g.images = append(g.images, inventory.Image{
			Digest:    g.digest("legacy", i),
			MediaType: inventory.MediaTypeDockerV2,
			PushedAt:  t,
			SizeBytes: size(&config, layers),
			Config:    &config,
			Layers:    layers,
		})
	}
}

// builds adds n builds spread over the history.
func (g *generator) builds(n int) {
	if n <= 0 {
		return
	}
	p := &g.p
	start := p.Now.AddDate(0, 0, -p.Days)
	slot := p.Now.Add(-time.Minute).Sub(start) / time.Duration(n)
	nextRelease := time.Time{}
	if p.ReleaseEveryDays > 0 {
		nextRelease = start.Add(days(p.ReleaseEveryDays * (0.3 + 0.7*g.rnd.float())))
	}
	major, minor, patch := 1, 2+g.rnd.intn(6), 0
	nextPR := 100 + g.rnd.intn(400)
	var openPRs []int
	var prev time.Time
	for i := range n {
		t := start.Add(slot*time.Duration(i) + jitter(&g.rnd, slot)).Truncate(time.Second)
		if !t.After(prev) {
			t = prev.Add(time.Minute)
		}
		prev = t

		var tags []string
		pr := g.rnd.float() < p.PRShare
		revision := g.hex("commit", i, 40)
		release := false
		if pr {
			// Half the pull-request builds update a recent branch, the others open one.
			if len(openPRs) > 0 && g.rnd.float() < 0.5 {
				tags = append(tags, "pr-"+strconv.Itoa(openPRs[g.rnd.intn(len(openPRs))]))
			} else {
				openPRs = append(openPRs, nextPR)
				if len(openPRs) > 4 {
					openPRs = openPRs[1:]
				}
				tags = append(tags, "pr-"+strconv.Itoa(nextPR))
				nextPR += 1 + g.rnd.intn(3)
			}
		} else {
			tags = append(tags, "sha-"+revision[:7], "main", "latest")
			if !nextRelease.IsZero() && !t.Before(nextRelease) {
				release = true
				if g.rnd.float() < 0.3 {
					minor, patch = minor+1, 0
				} else {
					patch++
				}
				tags = append(tags, "v"+strconv.Itoa(major)+"."+strconv.Itoa(minor)+"."+strconv.Itoa(patch))
				nextRelease = t.Add(days(p.ReleaseEveryDays * (0.7 + 0.6*g.rnd.float())))
			}
		}
		g.build(i, t, revision, tags, release)
	}
}

// build adds the images one build pushes at t.
func (g *generator) build(i int, t time.Time, revision string, tags []string, release bool) {
	b := build{index: -1, image: -1, attestation: -1, signature: -1, release: release}
	config := g.blob("config", i, 4_500, 5_500)
	layers := []inventory.Blob{
		g.sharedBlob("base", t.Year()*12+int(t.Month()), 29_000_000, 32_000_000),
		g.sharedBlob("deps", int(t.Unix()/(7*86400)), 110_000_000, 130_000_000),
		g.blob("app", i, 14_000_000, 16_000_000),
	}
	labels := map[string]string{
		"org.opencontainers.image.revision": revision,
		"org.opencontainers.image.created":  t.Add(-time.Duration(180+g.rnd.intn(300)) * time.Second).UTC().Format(time.RFC3339),
	}
	if g.p.Source != "" {
		labels["org.opencontainers.image.source"] = g.p.Source
	}
	image := inventory.Image{
		Digest:    g.digest("image", i),
		MediaType: inventory.MediaTypeOCIManifest,
		PushedAt:  t,
		SizeBytes: size(&config, layers),
		Config:    &config,
		Layers:    layers,
		Labels:    labels,
	}
	subject := image.Digest
	if !g.p.Attestations {
		image.Tags = tags
		b.image = g.push(image)
	} else {
		image.PushedAt = t.Add(-time.Second)
		attConfig := g.blob("attestation-config", i, 200, 280)
		attLayers := []inventory.Blob{g.blob("provenance", i, 18_000, 22_000)}
		att := inventory.Image{
			Digest:    g.digest("attestation", i),
			MediaType: inventory.MediaTypeOCIManifest,
			PushedAt:  t.Add(-time.Second),
			SizeBytes: size(nil, attLayers),
			Config:    &attConfig,
			Layers:    attLayers,
		}
		index := inventory.Image{
			Digest:    g.digest("index", i),
			Tags:      tags,
			MediaType: inventory.MediaTypeOCIIndex,
			PushedAt:  t,
			SizeBytes: max(image.SizeBytes, att.SizeBytes),
			Children: []inventory.Child{
				{Digest: image.Digest, MediaType: image.MediaType, Platform: "linux/amd64"},
				{
					Digest:    att.Digest,
					MediaType: att.MediaType,
					Platform:  inventory.PlatformUnknownUnknown,
					Annotations: map[string]string{
						inventory.AnnotationRefType:   inventory.RefTypeAttestation,
						inventory.AnnotationRefDigest: image.Digest,
					},
				},
			},
		}
		subject = index.Digest
		b.image = g.push(image)
		b.attestation = g.push(att)
		b.index = g.push(index)
	}
	if release && g.p.SignReleases {
		layers := []inventory.Blob{g.blob("signature-layer", i, 240, 320)}
		config := inventory.Blob{Digest: emptyConfigDigest, Size: 2}
		b.signature = g.push(inventory.Image{
			Digest:       g.digest("signature", i),
			MediaType:    inventory.MediaTypeOCIManifest,
			ArtifactType: ArtifactTypeCosignSignature,
			PushedAt:     t.Add(time.Duration(20+g.rnd.intn(100)) * time.Second),
			SizeBytes:    size(&config, layers),
			Subject:      subject,
			Config:       &config,
			Layers:       layers,
		})
	}
	g.history = append(g.history, b)
}

// push appends img, moving its tags away from the images that carried them, and returns its
// position.
func (g *generator) push(img inventory.Image) int {
	n := len(g.images)
	for _, tag := range img.Tags {
		if prev, ok := g.tagged[tag]; ok {
			g.images[prev].Tags = slices.DeleteFunc(g.images[prev].Tags, func(t string) bool { return t == tag })
			if len(g.images[prev].Tags) == 0 {
				g.images[prev].Tags = nil
			}
		}
		g.tagged[tag] = n
	}
	g.images = append(g.images, img)
	return n
}

// pulls sets pull times: the builds of the last two weeks were pulled after their push (by
// tests and deployments), the latest release and what main points at are in use now, and
// every release was pulled for a while after it was published. Attestations are not pulled
// by docker pull; signatures are pulled when their release is verified.
func (g *generator) pulls() {
	now := g.p.Now
	recent := now.AddDate(0, 0, -14)
	releases := 0
	for n := len(g.history) - 1; n >= 0; n-- {
		b := g.history[n]
		top := b.index
		if top < 0 {
			top = b.image
		}
		pushed := g.images[top].PushedAt
		var pulled time.Time
		switch {
		case b.release && releases < 3:
			releases++
			pulled = now.Add(-time.Duration(g.rnd.intn(3*86400)) * time.Second)
		case b.release:
			releases++
			pulled = pushed.Add(days(1 + 20*g.rnd.float()))
		case g.isTagged(top, "main"):
			pulled = now.Add(-time.Duration(g.rnd.intn(6*3600)) * time.Second)
		case pushed.After(recent):
			pulled = pushed.Add(time.Duration(600+g.rnd.intn(36*3600)) * time.Second)
		default:
			continue
		}
		pulled = pulled.Truncate(time.Second)
		if pulled.After(now) {
			pulled = now.Add(-time.Minute)
		}
		if pulled.Before(pushed) {
			pulled = pushed.Add(time.Minute)
		}
		for _, at := range []int{b.index, b.image, b.signature} {
			if at >= 0 {
				g.images[at].LastPulledAt = pulled
			}
		}
	}
}

func (g *generator) isTagged(at int, tag string) bool {
	n, ok := g.tagged[tag]
	return ok && n == at
}

// hash returns the sha256 of "<seed>/<kind>/<n>".
func (g *generator) hash(kind string, n int) [sha256.Size]byte {
	g.buf = strconv.AppendInt(g.buf[:0], g.p.Seed, 10)
	g.buf = append(g.buf, '/')
	g.buf = append(g.buf, kind...)
	g.buf = append(g.buf, '/')
	g.buf = strconv.AppendInt(g.buf, int64(n), 10)
	return sha256.Sum256(g.buf)
}

// digest returns a sha256 digest for the n-th object of a kind.
func (g *generator) digest(kind string, n int) string {
	sum := g.hash(kind, n)
	return digestOf(sum)
}

// hex returns digits hex digits derived from the n-th object of a kind.
func (g *generator) hex(kind string, n, digits int) string {
	sum := g.hash(kind, n)
	return hex.EncodeToString(sum[:])[:digits]
}

// blob returns the n-th blob of a kind, its size between lo and hi bytes.
func (g *generator) blob(kind string, n int, lo, hi int64) inventory.Blob {
	sum := g.hash(kind, n)
	return inventory.Blob{
		Digest: digestOf(sum),
		Size:   lo + int64(binary.BigEndian.Uint64(sum[24:])%uint64(hi-lo+1)),
	}
}

// sharedBlob is blob for blobs that many images share.
func (g *generator) sharedBlob(kind string, n int, lo, hi int64) inventory.Blob {
	key := kind + "/" + strconv.Itoa(n)
	if b, ok := g.shared[key]; ok {
		return b
	}
	b := g.blob(kind, n, lo, hi)
	g.shared[key] = b
	return b
}

func digestOf(sum [sha256.Size]byte) string {
	var b [len("sha256:") + 2*sha256.Size]byte
	copy(b[:], "sha256:")
	hex.Encode(b[len("sha256:"):], sum[:])
	return string(b[:])
}

// size is an image manifest's size as ECR reports it: its config and layers.
func size(config *inventory.Blob, layers []inventory.Blob) int64 {
	var n int64
	if config != nil {
		n = config.Size
	}
	for _, l := range layers {
		n += l.Size
	}
	return n
}

func days(d float64) time.Duration {
	return time.Duration(d * 24 * float64(time.Hour))
}

// jitter returns a random offset within the central 80% of a slot.
func jitter(r *rng, slot time.Duration) time.Duration {
	return time.Duration((0.1 + 0.8*r.float()) * float64(slot))
}

// rng is SplitMix64: small, fast, and fixed forever, so that the generated inventories (and
// the example files made from them) never change with the Go release.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// Example returns the parameters of the repository in examples/, modelled on a real registry:
// three months of buildx builds with default provenance, about four a day, signed releases
// every ten days or so, and the leftovers of the docker build era.
func Example() CIParams {
	return CIParams{
		Seed:             1,
		Repository:       "123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app",
		Source:           "https://github.com/acme/app",
		Now:              time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Days:             90,
		BuildsPerDay:     4.28,
		PRShare:          0.3,
		ReleaseEveryDays: 10,
		Attestations:     true,
		SignReleases:     true,
		LegacyImages:     20,
	}
}
