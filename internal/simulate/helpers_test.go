package simulate_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// now is the capture time of the hand-built repositories.
var now = time.Date(2026, 6, 1, 23, 0, 0, 0, time.UTC)

const mb = 1 << 20

// loadPolicy loads one of the example policies of the repository.
func loadPolicy(tb testing.TB, name string) *policy.Policy {
	tb.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "examples", "policies", name))
	if err != nil {
		tb.Fatal(err)
	}
	return mustPolicy(tb, string(text))
}

func mustPolicy(tb testing.TB, text string) *policy.Policy {
	tb.Helper()
	p, err := policy.Parse([]byte(text))
	if err != nil {
		tb.Fatalf("policy.Parse: %v", err)
	}
	if err := policy.Validate(p); err != nil {
		tb.Fatalf("policy.Validate: %v", err)
	}
	return p
}

// loadExample reads examples/inventory.json.
func loadExample(tb testing.TB) *inventory.Inventory {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", "inventory.json"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	inv, err := inventory.Read(f)
	if err != nil {
		tb.Fatal(err)
	}
	return inv
}

// builder builds a repository push by push, as CI pushes with docker buildx: each build
// an index listing a linux/amd64 image and an attestation manifest, tags moving to the
// newest image that carries them.
type builder struct {
	inv    *inventory.Inventory
	tagged map[string]int
	n      int
}

func newBuilder(repo string) *builder {
	return &builder{inv: &inventory.Inventory{Repository: repo, CapturedAt: now}, tagged: map[string]int{}}
}

func (b *builder) digest() string {
	b.n++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", b.inv.Repository, b.n))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (b *builder) commit() string { return b.digest()[7:14] }

func (b *builder) add(img inventory.Image) int {
	n := len(b.inv.Images)
	for _, t := range img.Tags {
		if prev, ok := b.tagged[t]; ok {
			p := &b.inv.Images[prev]
			p.Tags = slices.DeleteFunc(slices.Clone(p.Tags), func(s string) bool { return s == t })
			if len(p.Tags) == 0 {
				p.Tags = nil
			}
		}
		b.tagged[t] = n
	}
	b.inv.Images = append(b.inv.Images, img)
	return n
}

// base is the base layer every build shares.
var base = inventory.Blob{Digest: "sha256:" + fmt.Sprintf("%064x", 1), Size: 30 * mb}

// build pushes one buildx build at t: an app layer of appMB new megabytes on the shared
// base, its attestation, and the index carrying tags. It returns the index's digest.
func (b *builder) build(t time.Time, appMB int64, tags ...string) string {
	cfg := inventory.Blob{Digest: b.digest(), Size: 5000}
	img := inventory.Image{
		Digest: b.digest(), MediaType: inventory.MediaTypeOCIManifest, PushedAt: t.Add(-time.Second),
		Config: &cfg, Layers: []inventory.Blob{base, {Digest: b.digest(), Size: appMB * mb}},
	}
	img.SizeBytes = cfg.Size + base.Size + appMB*mb
	attCfg := inventory.Blob{Digest: b.digest(), Size: 250}
	att := inventory.Image{
		Digest: b.digest(), MediaType: inventory.MediaTypeOCIManifest, PushedAt: t.Add(-time.Second),
		Config: &attCfg, Layers: []inventory.Blob{{Digest: b.digest(), Size: 20_000}}, SizeBytes: 20_000,
	}
	index := inventory.Image{
		Digest: b.digest(), MediaType: inventory.MediaTypeOCIIndex, PushedAt: t, Tags: tags, SizeBytes: img.SizeBytes,
		Children: []inventory.Child{
			{Digest: img.Digest, MediaType: img.MediaType, Platform: "linux/amd64"},
			{Digest: att.Digest, MediaType: att.MediaType, Platform: inventory.PlatformUnknownUnknown,
				Annotations: map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation, inventory.AnnotationRefDigest: img.Digest}},
		},
	}
	b.add(img)
	b.add(att)
	b.add(index)
	return index.Digest
}

// sign pushes a signature of subject, an OCI 1.1 referrer.
func (b *builder) sign(subject string, t time.Time) {
	sig := inventory.Blob{Digest: b.digest(), Size: 300}
	b.add(inventory.Image{
		Digest: b.digest(), MediaType: inventory.MediaTypeOCIManifest, ArtifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
		PushedAt: t.Add(30 * time.Second), Subject: subject, Layers: []inventory.Blob{sig}, SizeBytes: sig.Size,
	})
}

// at is hour h of the day d days before now's day.
func at(d, h int) time.Time {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -d).Add(time.Duration(h) * time.Hour)
}

// ciRepo is a repository built for days days: three commit builds a day (the evening one
// moving main and latest), a pull-request build a day with a new pr- tag, and on every
// seventh day a signed release also tagged with its commit. appMB is the new layer of each
// build.
func ciRepo(repo string, days int, appMB int64) *inventory.Inventory {
	b := newBuilder(repo)
	release := 0
	for d := days - 1; d >= 0; d-- {
		b.build(at(d, 2), appMB, "sha-"+b.commit())
		b.build(at(d, 10), appMB, "sha-"+b.commit())
		if d%7 == 3 {
			release++
			idx := b.build(at(d, 12), appMB, fmt.Sprintf("v1.0.%d", release), "sha-"+b.commit())
			b.sign(idx, at(d, 12))
		}
		b.build(at(d, 14), appMB, fmt.Sprintf("pr-%d", 100+days-d))
		b.build(at(d, 18), appMB, "sha-"+b.commit(), "main", "latest")
	}
	return b.inv
}

// shaRepo is a repository of three commit builds a day, nothing else.
func shaRepo(days int) *inventory.Inventory {
	b := newBuilder("sha-only")
	for d := days - 1; d >= 0; d-- {
		for _, h := range []int{2, 10, 18} {
			b.build(at(d, h), 10, "sha-"+b.commit())
		}
	}
	return b.inv
}

// image pushes a single-platform image at t (no index): a config and an app layer of
// appMB new megabytes on the shared base.
func (b *builder) image(t time.Time, appMB int64, tags ...string) string {
	cfg := inventory.Blob{Digest: b.digest(), Size: 5000}
	img := inventory.Image{
		Digest: b.digest(), MediaType: inventory.MediaTypeOCIManifest, PushedAt: t, Tags: tags,
		Config: &cfg, Layers: []inventory.Blob{base, {Digest: b.digest(), Size: appMB * mb}},
	}
	img.SizeBytes = cfg.Size + base.Size + appMB*mb
	b.add(img)
	return img.Digest
}

// rule is one lifecycle rule in policy JSON.
func rule(priority int, selection, action string) string {
	return fmt.Sprintf(`{"rulePriority": %d, "description": "rule %d", "selection": %s, "action": %s}`, priority, priority, selection, action)
}

// policyOf makes a policy of rules.
func policyOf(tb testing.TB, rules ...string) *policy.Policy {
	tb.Helper()
	text := `{"rules": [`
	for n, r := range rules {
		if n > 0 {
			text += ", "
		}
		text += r
	}
	return mustPolicy(tb, text+"]}")
}

const (
	expire     = `{"type": "expire"}`
	transition = `{"type": "transition", "targetStorageClass": "archive"}`
)

func keepNewest(prefix string, n int) string {
	return fmt.Sprintf(`{"tagStatus": "tagged", "tagPrefixList": [%q], "countType": "imageCountMoreThan", "countNumber": %d}`, prefix, n)
}

func olderThan(tagStatus, prefix string, days int) string {
	tags := ""
	if prefix != "" {
		tags = fmt.Sprintf(`"tagPrefixList": [%q], `, prefix)
	}
	return fmt.Sprintf(`{"tagStatus": %q, %s"countType": "sinceImagePushed", "countUnit": "days", "countNumber": %d}`, tagStatus, tags, days)
}
