package synth_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// ci is the repository of examples/: 90 days, 385 builds.
var ci = synth.Example()

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	shaTagRE = regexp.MustCompile(`^sha-[0-9a-f]{7}$`)
)

// checkInventory checks what holds for every generated inventory: valid, unique digests;
// edges that resolve; tags on one image each; sizes as ECR reports them; sane times.
func checkInventory(t *testing.T, inv *inventory.Inventory, now time.Time) {
	t.Helper()
	byDigest := make(map[string]*inventory.Image, len(inv.Images))
	for n := range inv.Images {
		img := &inv.Images[n]
		if !digestRE.MatchString(img.Digest) {
			t.Errorf("image %d has digest %q, want sha256:<64 hex>", n, img.Digest)
		}
		if _, ok := byDigest[img.Digest]; ok {
			t.Errorf("digest %s appears twice", img.Digest)
		}
		byDigest[img.Digest] = img
	}
	attestations := make(map[string]bool)
	for _, img := range inv.Images {
		for _, c := range img.Children {
			if c.IsAttestation() {
				attestations[c.Digest] = true
			}
		}
	}
	tagged := make(map[string]string)
	for n := range inv.Images {
		img := &inv.Images[n]
		for _, tag := range img.Tags {
			if other, ok := tagged[tag]; ok {
				t.Errorf("tag %s is on %s and %s", tag, other, img.Digest)
			}
			tagged[tag] = img.Digest
		}
		if img.PushedAt.IsZero() || img.PushedAt.After(now) {
			t.Errorf("%s pushed at %v, want a time before %v", img.Digest, img.PushedAt, now)
		}
		if p := img.LastPulledAt; !p.IsZero() && (p.Before(img.PushedAt) || p.After(now)) {
			t.Errorf("%s pulled at %v, want between its push at %v and %v", img.Digest, p, img.PushedAt, now)
		}
		if img.Subject != "" {
			if _, ok := byDigest[img.Subject]; !ok {
				t.Errorf("%s has subject %s, which is not in the inventory", img.Digest, img.Subject)
			}
		}
		var largest int64
		for _, c := range img.Children {
			child, ok := byDigest[c.Digest]
			if !ok {
				t.Errorf("index %s lists %s, which is not in the inventory", img.Digest, c.Digest)
				continue
			}
			if !child.PushedAt.Before(img.PushedAt) {
				t.Errorf("child %s pushed at %v, want before its index at %v", c.Digest, child.PushedAt, img.PushedAt)
			}
			largest = max(largest, child.SizeBytes)
		}
		switch {
		case img.IsIndex():
			if img.SizeBytes != largest {
				t.Errorf("index %s has size %d, want its largest child's, %d", img.Digest, img.SizeBytes, largest)
			}
		case img.Config != nil:
			want := img.Config.Size
			for _, l := range img.Layers {
				want += l.Size
			}
			if attestations[img.Digest] {
				want -= img.Config.Size // its layers only
			}
			if img.SizeBytes != want {
				t.Errorf("%s has size %d, want %d", img.Digest, img.SizeBytes, want)
			}
		}
	}
}

// parents maps each digest to the indexes that list it.
func parents(inv *inventory.Inventory) map[string][]string {
	m := make(map[string][]string)
	for _, img := range inv.Images {
		for _, c := range img.Children {
			m[c.Digest] = append(m[c.Digest], img.Digest)
		}
	}
	return m
}

func TestCIRepository(t *testing.T) {
	t.Parallel()
	inv := synth.CIRepository(ci)
	checkInventory(t, inv, now)
	if inv.Repository != ci.Repository || !inv.CapturedAt.Equal(now) {
		t.Errorf("CIRepository() = repository %q captured at %v, want %q at %v", inv.Repository, inv.CapturedAt, ci.Repository, now)
	}

	up := parents(inv)
	byDigest := make(map[string]*inventory.Image)
	for n := range inv.Images {
		byDigest[inv.Images[n].Digest] = &inv.Images[n]
	}
	var indexes, images, attestations, signatures, legacy, pulled int
	var releases []string
	var newestMain *inventory.Image
	for n := range inv.Images {
		img := &inv.Images[n]
		if !img.LastPulledAt.IsZero() {
			pulled++
		}
		switch {
		case img.IsIndex():
			indexes++
			if len(img.Children) != 2 {
				t.Fatalf("index %s has %d children, want 2", img.Digest, len(img.Children))
			}
			image, att := img.Children[0], img.Children[1]
			if image.Platform != "linux/amd64" || image.IsAttestation() {
				t.Errorf("index %s lists %+v first, want the linux/amd64 image", img.Digest, image)
			}
			if att.Platform != inventory.PlatformUnknownUnknown || !att.IsAttestation() || att.Annotations[inventory.AnnotationRefDigest] != image.Digest {
				t.Errorf("index %s lists %+v second, want the attestation of %s", img.Digest, att, image.Digest)
			}
			for _, tag := range img.Tags {
				if strings.HasPrefix(tag, "v") {
					releases = append(releases, tag)
				}
			}
			if slices.Contains(img.Tags, "main") {
				newestMain = img
			}
		case img.ArtifactType == synth.ArtifactTypeCosignSignature:
			signatures++
			if subject := byDigest[img.Subject]; subject == nil || !hasPrefix(subject.Tags, "v") {
				t.Errorf("signature %s signs %s, want a release", img.Digest, img.Subject)
			}
		case img.MediaType == inventory.MediaTypeDockerV2:
			legacy++
			if len(img.Tags) > 0 || len(up[img.Digest]) > 0 || !img.PushedAt.Before(now.AddDate(0, 0, -ci.Days)) {
				t.Errorf("legacy image %s is tagged %v, listed by %v, pushed at %v; want untagged, unreferenced, before the history", img.Digest, img.Tags, up[img.Digest], img.PushedAt)
			}
		case len(img.Labels) > 0:
			images++
		default:
			attestations++
		}
		if !img.IsIndex() && img.Subject == "" && img.MediaType == inventory.MediaTypeOCIManifest {
			if len(img.Tags) > 0 || len(up[img.Digest]) != 1 {
				t.Errorf("child %s is tagged %v and listed by %v, want untagged and listed by one index", img.Digest, img.Tags, up[img.Digest])
			}
		}
	}
	if indexes != 385 || images != 385 || attestations != 385 || legacy != 20 {
		t.Errorf("CIRepository() = %d indexes, %d images, %d attestations, %d legacy images; want 385, 385, 385, 20", indexes, images, attestations, legacy)
	}
	if signatures != len(releases) || len(releases) < 6 || len(releases) > 12 {
		t.Errorf("CIRepository() = %d releases (%v), %d signatures; want about one every ten days, each signed", len(releases), releases, signatures)
	}
	if pulled == 0 || pulled > len(inv.Images)/2 {
		t.Errorf("CIRepository() = %d of %d images pulled, want the recent few", pulled, len(inv.Images))
	}
	for n := 1; n < len(releases); n++ {
		if !semverLess(releases[n-1], releases[n]) {
			t.Errorf("release %s follows %s, want increasing versions", releases[n], releases[n-1])
		}
	}
	if newestMain == nil || !slices.Contains(newestMain.Tags, "latest") {
		t.Fatalf("CIRepository() has no index tagged main and latest")
	}
	for _, img := range inv.Images {
		if hasPrefix(img.Tags, "sha-") && img.PushedAt.After(newestMain.PushedAt) {
			t.Errorf("main build %s (%v) is newer than the one tagged main (%v)", img.Digest, img.PushedAt, newestMain.PushedAt)
		}
	}
}

func TestCIRepositoryTags(t *testing.T) {
	t.Parallel()
	inv := synth.CIRepository(ci)
	var sha, pr, untagged int
	for _, img := range inv.Images {
		if !img.IsIndex() {
			continue
		}
		switch {
		case hasPrefix(img.Tags, "sha-"):
			sha++
			for _, tag := range img.Tags {
				if strings.HasPrefix(tag, "sha-") && !shaTagRE.MatchString(tag) {
					t.Errorf("tag %q, want sha-<7 hex>", tag)
				}
			}
		case hasPrefix(img.Tags, "pr-"):
			pr++
		case len(img.Tags) == 0:
			untagged++ // an older build of a pull request
		default:
			t.Errorf("index %s tagged %v, want sha-, pr- or nothing", img.Digest, img.Tags)
		}
	}
	if sha < 200 || pr < 20 || untagged < 20 {
		t.Errorf("CIRepository() = %d sha- builds, %d pr- builds, %d untagged; want mostly main builds and some of each", sha, pr, untagged)
	}
}

func TestCIRepositoryDeterministic(t *testing.T) {
	t.Parallel()
	a, b := synth.CIRepository(ci), synth.CIRepository(ci)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("CIRepository() differs between runs (-first +second):\n%s", diff)
	}
	other := ci
	other.Seed = 2
	if c := synth.CIRepository(other); c.Images[0].Digest == a.Images[0].Digest {
		t.Errorf("CIRepository() with seeds 1 and 2 both start with %s, want different histories", a.Images[0].Digest)
	}
}

func TestCIRepositoryWithoutAttestations(t *testing.T) {
	t.Parallel()
	p := ci
	p.Attestations = false
	p.LegacyImages = 0
	inv := synth.CIRepository(p)
	checkInventory(t, inv, now)
	var images, signatures int
	for _, img := range inv.Images {
		switch {
		case img.IsIndex():
			t.Errorf("CIRepository() without attestations has index %s", img.Digest)
		case img.Subject != "":
			signatures++
		default:
			images++
		}
	}
	if images != 385 || signatures == 0 {
		t.Errorf("CIRepository() = %d images, %d signatures; want 385 images and some signatures", images, signatures)
	}
}

func TestCIRepositoryEmpty(t *testing.T) {
	t.Parallel()
	inv := synth.CIRepository(synth.CIParams{Now: now})
	if len(inv.Images) != 0 {
		t.Errorf("CIRepository(zero params) = %d images, want 0", len(inv.Images))
	}
}

func TestLarge(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2, 3, 4, 5, 10, 100, 217, 999, 1000, 1001, 30_000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			inv := synth.Large(n, 1, now)
			if len(inv.Images) != n {
				t.Fatalf("Large(%d) = %d images, want %d", n, len(inv.Images), n)
			}
			checkInventory(t, inv, now)
			if n < 1000 {
				return
			}
			var indexes, sha, pr, release int
			for _, img := range inv.Images {
				if img.IsIndex() {
					indexes++
				}
				switch {
				case hasPrefix(img.Tags, "v"):
					release++
				case hasPrefix(img.Tags, "sha-"):
					sha++
				case hasPrefix(img.Tags, "pr-"):
					pr++
				}
			}
			if third := n / 3; indexes < third*9/10 || indexes > third || sha == 0 || pr == 0 || release == 0 {
				t.Errorf("Large(%d) = %d indexes, %d sha-, %d pr-, %d release tags; want about %d indexes and some of each tag", n, indexes, sha, pr, release, third)
			}
		})
	}
}

func TestLargeDeterministic(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff(synth.Large(3000, 5, now), synth.Large(3000, 5, now)); diff != "" {
		t.Errorf("Large() differs between runs (-first +second):\n%s", diff)
	}
}

func BenchmarkLarge100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		synth.Large(100_000, 1, now)
	}
}

func hasPrefix(tags []string, prefix string) bool {
	for _, t := range tags {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// semverLess compares two tags vMAJOR.MINOR.PATCH.
func semverLess(a, b string) bool {
	var x, y [3]int
	fmt.Sscanf(a, "v%d.%d.%d", &x[0], &x[1], &x[2])
	fmt.Sscanf(b, "v%d.%d.%d", &y[0], &y[1], &y[2])
	for n := range x {
		if x[n] != y[n] {
			return x[n] < y[n]
		}
	}
	return false
}
