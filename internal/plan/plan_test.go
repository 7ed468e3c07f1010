package plan_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n float64) time.Time { return now.Add(-time.Duration(n * float64(24*time.Hour))) }

// keepNewestBuild keeps the newest sha- build and expires untagged images after a day.
const keepNewestBuild = `{"rules": [
  {"rulePriority": 1, "description": "untagged", "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}},
  {"rulePriority": 2, "description": "builds", "selection": {"tagStatus": "tagged", "tagPrefixList": ["sha-"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`

func blob(d string, n int64) inventory.Blob { return inventory.Blob{Digest: "sha256:" + d, Size: n} }

// build returns an index tagged tag with an image and an attestation child, and a signature
// referrer of the index. Layers "base" (shared) and the build's own.
func build(name, tag string, pushed time.Time) []inventory.Image {
	idx, img, att, sig := "sha256:"+name+"-idx", "sha256:"+name+"-img", "sha256:"+name+"-att", "sha256:"+name+"-sig"
	return []inventory.Image{
		{Digest: idx, Tags: []string{tag}, MediaType: inventory.MediaTypeOCIIndex, PushedAt: pushed,
			Children: []inventory.Child{{Digest: img, Platform: "linux/amd64"},
				{Digest: att, Platform: "unknown/unknown", Annotations: map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation}}}},
		{Digest: img, MediaType: inventory.MediaTypeOCIManifest, PushedAt: pushed, Config: &inventory.Blob{Digest: "sha256:" + name + "-cfg", Size: 10},
			Layers: []inventory.Blob{blob("base", 1000), blob(name+"-app", 100)}},
		{Digest: att, MediaType: inventory.MediaTypeOCIManifest, PushedAt: pushed, Layers: []inventory.Blob{blob(name+"-prov", 1)}},
		{Digest: sig, MediaType: inventory.MediaTypeOCIManifest, PushedAt: pushed, Subject: idx, Layers: []inventory.Blob{blob(name+"-sig", 2)}},
	}
}

func repo() *inventory.Inventory {
	var images []inventory.Image
	images = append(images, build("a", "sha-a", daysAgo(3))...)
	images = append(images, build("b", "sha-b", daysAgo(2))...)
	images = append(images, build("c", "sha-c", daysAgo(0.1))...)
	images = append(images, inventory.Image{Digest: "sha256:old", MediaType: inventory.MediaTypeDockerV2, PushedAt: daysAgo(30), SizeBytes: 500})
	return &inventory.Inventory{Repository: "example/app", Images: images}
}

func actions(p *plan.Plan) map[string]string {
	m := map[string]string{}
	for _, it := range p.Images {
		m[strings.TrimPrefix(it.Digest, "sha256:")] = string(it.Action)
	}
	return m
}

// reasonOf returns the reason p gives for the image name ("a-att" for sha256:a-att), and
// fails the test if p does not list it.
func reasonOf(t *testing.T, p *plan.Plan, name string) string {
	t.Helper()
	for _, it := range p.Images {
		if it.Digest == "sha256:"+name {
			return it.Reason
		}
	}
	t.Fatalf("the plan does not list sha256:%s", name)
	return ""
}

func TestBuildSafety(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	all := func(v string) map[string]string {
		m := map[string]string{}
		for _, n := range []string{"a", "b", "c"} {
			for _, k := range []string{"idx", "img", "att", "sig"} {
				m[n+"-"+k] = v
			}
		}
		return m
	}
	tests := []struct {
		name   string
		safety plan.Safety
		// keep lists builds (a, b) the plan must keep whole; the rest of a and b expire.
		keep    []string
		oldKept bool
		refused bool
		// reasons maps images (a-idx, b-img…) to the start of the reason each must give.
		reasons map[string]string
	}{
		{name: "policy only"},
		{name: "pinned index keeps its children and referrers", safety: plan.Safety{ProtectDigests: map[string]string{"sha256:a-idx": "pins.txt:3"}},
			keep: []string{"a"}, reasons: map[string]string{
				"a-idx": "pinned digest (pins.txt:3); rule 2 would otherwise expire it",
				"a-img": "child of protected index sha256:a-idx (sha-a)",
				"a-att": "child of protected index sha256:a-idx (sha-a)",
				"a-sig": "referrer of protected image sha256:a-idx (sha-a)",
			}},
		{name: "pinned child keeps only itself", safety: plan.Safety{ProtectDigests: map[string]string{"sha256:b-img": ""}},
			reasons: map[string]string{"b-img": "pinned digest; "}},
		{name: "protected tag", safety: plan.Safety{ProtectTags: []string{"sha-b*"}}, keep: []string{"b"}, reasons: map[string]string{
			"b-idx": `protected tag "sha-b" (matches "sha-b*"); rule 2 would otherwise expire it`,
			"b-img": "child of protected index sha256:b-idx (sha-b)",
			"b-att": "child of protected index sha256:b-idx (sha-b)",
			"b-sig": "referrer of protected image sha256:b-idx (sha-b)",
		}},
		{name: "grace period", safety: plan.Safety{Grace: 60 * time.Hour}, keep: []string{"b"}, reasons: map[string]string{
			"b-idx": "pushed 48h0m0s ago, within the 60h0m0s grace period; rule 2 would otherwise expire it",
			"b-img": "pushed 48h0m0s ago, within the 60h0m0s grace period",
			"b-att": "pushed 48h0m0s ago, within the 60h0m0s grace period",
			"b-sig": "pushed 48h0m0s ago, within the 60h0m0s grace period; rule 2 would otherwise expire it",
		}},
		{name: "blast radius", safety: plan.Safety{MaxDeletePercent: 50}, refused: true},
		{name: "blast radius not reached", safety: plan.Safety{MaxDeletePercent: 90}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := plan.Build(pol, repo(), now, plan.Options{Safety: tt.safety})
			want := all("keep")
			for _, n := range []string{"a", "b"} {
				for _, k := range []string{"idx", "img", "att", "sig"} {
					want[n+"-"+k] = "expire"
				}
			}
			for _, n := range tt.keep {
				for _, k := range []string{"idx", "img", "att", "sig"} {
					want[n+"-"+k] = "keep"
				}
			}
			if tt.name == "pinned child keeps only itself" {
				want["b-img"] = "keep"
			}
			want["old"] = "expire"
			if diff := cmp.Diff(want, actions(p)); diff != "" {
				t.Errorf("Build() actions (-want +got):\n%s", diff)
			}
			if (p.Refusal != "") != tt.refused {
				t.Errorf("Build() refusal = %q, want refused %v", p.Refusal, tt.refused)
			}
			reasons := map[string]string{}
			for _, it := range p.Images {
				reasons[strings.TrimPrefix(it.Digest, "sha256:")] = it.Reason
			}
			for d, want := range tt.reasons {
				if !strings.HasPrefix(reasons[d], want) {
					t.Errorf("Build() reason for %s = %q, want it to start %q", d, reasons[d], want)
				}
			}
		})
	}
}

func TestBuildClosureAndBytes(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	inv := repo()
	// A second, kept index that also lists build a's image: that image must stay.
	inv.Images = append(inv.Images, inventory.Image{Digest: "sha256:d-idx", Tags: []string{"keep-me"}, MediaType: inventory.MediaTypeOCIIndex,
		PushedAt: daysAgo(1), Children: []inventory.Child{{Digest: "sha256:a-img"}}})
	p := plan.Build(pol, inv, now, plan.Options{})
	got := actions(p)
	if got["a-idx"] != "expire" || got["a-att"] != "expire" || got["a-sig"] != "expire" || got["a-img"] != "keep" {
		t.Errorf("Build() = %v; want a-img kept (a kept index lists it) and the rest of build a expired", got)
	}
	// Reclaimed: builds a and b lose config, app and provenance layers and signatures, but
	// a's image (kept) holds a-cfg and a-app, and the shared base layer stays with c.
	wantReclaimed := int64(1 + 2 + 10 + 100 + 1 + 2 + 500)
	if p.Summary.ReclaimedBytes != wantReclaimed {
		t.Errorf("Build() reclaims %d bytes, want %d", p.Summary.ReclaimedBytes, wantReclaimed)
	}
	wantStored := int64(1000 + 3*(10+100+1+2) + 500)
	if p.Summary.StoredBytes != wantStored {
		t.Errorf("Build() stored = %d bytes, want %d", p.Summary.StoredBytes, wantStored)
	}
	if r := reasonOf(t, p, "a-att"); !strings.HasPrefix(r, "child of index sha256:a-idx") {
		t.Errorf("closure reason for a-att = %q, want it to start %q", r, "child of index sha256:a-idx")
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	images := []inventory.Image{{Digest: "sha256:a", Tags: []string{"v1"}}, {Digest: "sha256:b"}, {Digest: "sha256:c"}}
	decisions := []policy.Decision{
		{Digest: "sha256:a", Action: policy.Keep, Reason: "kept"},
		{Digest: "sha256:b", Action: policy.Expire, RulePriority: 1, Reason: "rule 1"},
		{Digest: "sha256:c", Action: policy.Expire, RulePriority: 2, Reason: "rule 2"},
	}
	preview := []plan.PreviewItem{
		{Digest: "sha256:a", Action: policy.Expire, RulePriority: 3},
		{Digest: "sha256:b", Action: policy.Expire, RulePriority: 1},
		{Digest: "sha256:z", Action: policy.Expire, RulePriority: 1},
	}
	got := plan.Compare(images, decisions, preview)
	want := plan.Comparison{Agree: 1, Differences: []plan.Difference{
		{Digest: "sha256:a", Tags: []string{"v1"}, Registry: policy.Expire, RegistryRule: 3, Shipshape: policy.Keep, ShipshapeReason: "kept"},
		{Digest: "sha256:c", Tags: []string{}, Registry: policy.Keep, Shipshape: policy.Expire, ShipshapeRule: 2, ShipshapeReason: "rule 2"},
		{Digest: "sha256:z", Tags: []string{}, Registry: policy.Expire, RegistryRule: 1, Shipshape: policy.Keep, ShipshapeReason: "not in the inventory"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compare() (-want +got):\n%s", diff)
	}
}

// TestBuildUnreadable checks that an inventory with a manifest that could not be read gives
// a plan that keeps everything, says why, and is blocked whatever the limits say.
func TestBuildUnreadable(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	const reason = "GET answers 404 although HEAD answers 200"
	prod := inventory.Image{Digest: "sha256:prod-idx", Tags: []string{"prod"}, MediaType: inventory.MediaTypeOCIIndex, PushedAt: daysAgo(1)}
	complete := repo()
	incomplete := repo()
	incomplete.Images = append(incomplete.Images, prod)
	incomplete.Unreadable = []inventory.Unreadable{{Digest: prod.Digest, Tags: prod.Tags, Reason: reason}}

	opts := plan.Options{Safety: plan.Safety{MaxDeletePercent: 1}}
	full := plan.Build(pol, complete, now, opts)
	if full.Summary.Expire == 0 || full.Refusal == "" || full.Blocked != "" {
		t.Fatalf("Build() of the complete inventory: %d to expire, refusal %q, blocked %q; want some to expire, refused, not blocked",
			full.Summary.Expire, full.Refusal, full.Blocked)
	}

	p := plan.Build(pol, incomplete, now, opts)
	if p.Blocked == "" || p.Refusal != "" {
		t.Errorf("Build() blocked %q, refusal %q; want blocked, and no refusal (nothing to expire)", p.Blocked, p.Refusal)
	}
	if diff := cmp.Diff(incomplete.Unreadable, p.Unreadable); diff != "" {
		t.Errorf("Build().Unreadable (-want +got):\n%s", diff)
	}
	want := plan.Summary{Images: len(incomplete.Images), Keep: len(incomplete.Images), StoredBytes: p.Summary.StoredBytes, PricePerGBMonth: plan.DefaultPricePerGBMonth}
	if diff := cmp.Diff(want, p.Summary); diff != "" {
		t.Errorf("Build().Summary (-want +got):\n%s", diff)
	}
	for i, r := range p.Rules {
		if f := full.Rules[i]; r.Acted != 0 || r.Blocked != f.Blocked+f.Acted || r.Identified != f.Identified || r.Selected != f.Selected {
			t.Errorf("Build().Rules[%d] = %+v; want what rule %d acts on blocked (complete inventory: %+v)", i, r, r.RulePriority, f)
		}
	}
	if len(p.Warnings) != 0 {
		t.Errorf("Build().Warnings = %q; want none (the unreadable index is not an index without a list of children)", p.Warnings)
	}
	reasons := map[string]string{}
	for _, it := range p.Images {
		reasons[it.Digest] = it.Reason
		if it.Action != policy.Keep {
			t.Errorf("Build() %s %s (%s); want keep", it.Action, it.Digest, it.Reason)
		}
	}
	for digest, want := range map[string]string{
		"sha256:a-idx": "kept: manifest sha256:prod-idx (tag prod) could not be read (" + reason + "); it may reference this image; rule 2 would otherwise expire it",
		"sha256:c-idx": "kept: manifest sha256:prod-idx (tag prod) could not be read (" + reason + "); it may reference this image; ",
		prod.Digest:    "kept: this manifest could not be read (" + reason + "); its children and referrers are unknown",
		"sha256:old":   "kept: manifest sha256:prod-idx (tag prod) could not be read (" + reason + "); it may reference this image; rule 1 would otherwise expire it",
		"sha256:a-img": "kept: manifest sha256:prod-idx (tag prod) could not be read (" + reason + "); it may reference this image; rule 2 would otherwise expire it",
	} {
		if !strings.HasPrefix(reasons[digest], want) {
			t.Errorf("Build() reason for %s = %q, want it to start %q", digest, reasons[digest], want)
		}
	}

	// Several unreadable manifests are named, up to a point.
	for _, d := range []string{"sha256:u1", "sha256:u2", "sha256:u3", "sha256:u4"} {
		incomplete.Unreadable = append(incomplete.Unreadable, inventory.Unreadable{Digest: d, Reason: "the manifest cannot be parsed"})
	}
	p = plan.Build(pol, incomplete, now, opts)
	const many = "kept: 5 manifests could not be read (sha256:prod-idx (tag prod): " + reason +
		"; sha256:u1: the manifest cannot be parsed; sha256:u2: the manifest cannot be parsed; and 2 more); any of them may reference this image"
	if r := reasonOf(t, p, "old"); !strings.HasPrefix(r, many) {
		t.Errorf("Build() reason for old with 5 unreadable manifests = %q, want it to start %q", r, many)
	}
	if !strings.HasPrefix(p.Blocked, "5 manifests could not be read") {
		t.Errorf("Build().Blocked = %q, want it to count 5 manifests", p.Blocked)
	}
}
