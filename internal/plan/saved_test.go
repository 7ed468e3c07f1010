package plan_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// realDigests gives every image of inv a well-formed digest derived from its test name,
// keeping the graph's edges.
func realDigests(inv *inventory.Inventory) *inventory.Inventory {
	real := func(d string) string {
		if d == "" {
			return ""
		}
		sum := sha256.Sum256([]byte(d))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	out := &inventory.Inventory{Repository: inv.Repository}
	for _, img := range inv.Images {
		img.Digest, img.Subject = real(img.Digest), real(img.Subject)
		children := make([]inventory.Child, len(img.Children))
		for i, c := range img.Children {
			c.Digest = real(c.Digest)
			children[i] = c
		}
		if img.Children == nil {
			children = nil
		}
		img.Children = children
		out.Images = append(out.Images, img)
	}
	return out
}

func savedFixture(t *testing.T) (*plan.Saved, *inventory.Inventory) {
	t.Helper()
	pol, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	inv := realDigests(repo())
	opts := plan.Options{Safety: plan.Safety{ProtectTags: []string{"v*"}, Grace: 48 * time.Hour}}
	p := plan.Build(pol, inv, now, opts)
	return plan.Save(p, "registry.example:5000", "team/app", pol, inv, opts, now), inv
}

func TestSavedRoundTrip(t *testing.T) {
	t.Parallel()
	s, inv := savedFixture(t)
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := plan.ReadSaved(buf.Bytes())
	if err != nil {
		t.Fatalf("ReadSaved() = %v\n%s", err, buf.String())
	}
	if got.Digest() != s.Digest() {
		t.Errorf("digest after a round trip = %s, want %s", got.Digest(), s.Digest())
	}
	if diff := cmp.Diff(s.Targets(), got.Targets(), cmp.AllowUnexported(plan.Item{})); diff != "" {
		t.Errorf("targets after a round trip (-want +got):\n%s", diff)
	}
	if got.Ref() != "registry.example:5000/team/app" || got.Safety.Grace != "48h0m0s" || got.Inventory.Images != len(inv.Images) {
		t.Errorf("saved binding = %s, grace %q, %d images", got.Ref(), got.Safety.Grace, got.Inventory.Images)
	}
	// The fingerprint changes with a tag, not with the order of images.
	reversed := &inventory.Inventory{Images: append([]inventory.Image(nil), inv.Images...)}
	for i, j := 0, len(reversed.Images)-1; i < j; i, j = i+1, j-1 {
		reversed.Images[i], reversed.Images[j] = reversed.Images[j], reversed.Images[i]
	}
	if plan.Fingerprint(reversed.Images) != s.Inventory.Fingerprint {
		t.Error("Fingerprint() depends on the order of the images")
	}
	reversed.Images[0].Tags = append(append([]string(nil), reversed.Images[0].Tags...), "moved")
	if plan.Fingerprint(reversed.Images) == s.Inventory.Fingerprint {
		t.Error("Fingerprint() ignores a new tag")
	}
}

func TestReadSavedRejects(t *testing.T) {
	t.Parallel()
	s, _ := savedFixture(t)
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	firstDigest := s.Plan.Images[0].Digest
	tests := []struct {
		name, doc, want string
	}{
		{"NotAPlan", `{"repository": "x"}`, "not a saved shipshape plan"},
		{"PlanOutput", `{"repository": "x", "now": "2026-06-01T12:00:00Z", "images": []}`, "not a saved shipshape plan"},
		{"OtherVersion", strings.Replace(good, `"version": 1`, `"version": 7`, 1), "version 7"},
		{"UnknownField", strings.Replace(good, `"host":`, `"hots": "x", "host":`, 1), "unknown field"},
		{"NoHost", strings.Replace(good, `"host": "registry.example:5000"`, `"host": ""`, 1), "no host"},
		{"BadAction", strings.Replace(good, `"action": "expire"`, `"action": "delete"`, 1), `"delete" is not keep, expire or transition`},
		{"BadDigest", strings.Replace(good, firstDigest, "sha256:ABC", 1), "plan.images[0].digest"},
		{"Trailing", good + `{"kind": "shipshape.plan"}`, "data after the plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := plan.ReadSaved([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadSaved() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPolicyDigestIgnoresFormatting(t *testing.T) {
	t.Parallel()
	a, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	b, err := policy.Load([]byte(strings.ReplaceAll(keepNewestBuild, "\n", " ")))
	if err != nil {
		t.Fatal(err)
	}
	if plan.PolicyDigest(a) != plan.PolicyDigest(b) {
		t.Error("PolicyDigest() depends on formatting")
	}
}

// TestRecheck: a plan re-checked against the repository as it is now keeps what changed,
// and applies the safety settings in force now.
func TestRecheck(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Build(pol, repo(), now, plan.Options{})
	// The plan expires builds a and b whole, and the old image.
	want := map[string]string{"a-idx": "expire", "a-img": "expire", "a-att": "expire", "a-sig": "expire",
		"b-idx": "expire", "b-img": "expire", "b-att": "expire", "b-sig": "expire", "old": "expire"}
	for d, a := range want {
		if actions(p)[d] != a {
			t.Fatalf("the plan does not %s %s: %v", a, d, actions(p))
		}
	}
	tests := []struct {
		name   string
		change func(inv *inventory.Inventory)
		opts   plan.Options
		// kept maps the targets of the plan that must be kept now to the start of the reason
		// each must give; the other targets still go.
		kept   map[string]string
		absent []string
	}{
		{name: "Unchanged"},
		{name: "TaggedSince", change: func(inv *inventory.Inventory) { tagOf(inv, "b-idx", "hotfix") },
			kept: map[string]string{
				"b-idx": `tagged "hotfix" since the plan was made`,
				"b-img": "child of index sha256:b-idx (sha-b), which stays",
				"b-att": "child of index sha256:b-idx (sha-b), which stays",
				"b-sig": "referrer of sha256:b-idx (sha-b), which stays",
			}},
		{name: "PinnedSince", opts: plan.Options{Safety: plan.Safety{ProtectDigests: map[string]string{"sha256:a-img": "pins.txt:3"}}},
			kept: map[string]string{"a-img": "pinned digest (pins.txt:3)"}},
		{name: "ProtectedTagNow", opts: plan.Options{Safety: plan.Safety{ProtectTags: []string{"sha-a"}}},
			kept: map[string]string{
				"a-idx": `protected tag "sha-a"`,
				"a-img": "child of protected index sha256:a-idx (sha-a)",
				"a-att": "child of protected index sha256:a-idx (sha-a)",
				"a-sig": "referrer of protected image sha256:a-idx (sha-a)",
			}},
		{name: "ReferencedByNewIndex", change: func(inv *inventory.Inventory) {
			inv.Images = append(inv.Images, inventory.Image{Digest: "sha256:new-idx", Tags: []string{"sha-new"}, MediaType: inventory.MediaTypeOCIIndex,
				PushedAt: now, Children: []inventory.Child{{Digest: "sha256:b-img"}}})
		}, kept: map[string]string{"b-img": "child of index sha256:new-idx (sha-new), which stays"}},
		{name: "NewReferrer", change: func(inv *inventory.Inventory) {
			inv.Images = append(inv.Images, inventory.Image{Digest: "sha256:old-sig", MediaType: inventory.MediaTypeOCIManifest, PushedAt: now, Subject: "sha256:old"})
		}, opts: plan.Options{Safety: plan.Safety{Grace: time.Hour}}, kept: map[string]string{"old": "subject of sha256:old-sig, which stays"}},
		{name: "GoneTargets", change: func(inv *inventory.Inventory) {
			inv.Images = slicesDelete(inv.Images, "sha256:a-idx", "sha256:old")
		}, absent: []string{"a-idx", "old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := repo()
			if tt.change != nil {
				tt.change(inv)
			}
			got := plan.Recheck(p, inv, now, tt.opts)
			acts := actions(got)
			reasons := map[string]string{}
			for _, it := range got.Images {
				reasons[strings.TrimPrefix(it.Digest, "sha256:")] = it.Reason
			}
			for d := range want {
				reason, isKept := tt.kept[d]
				switch {
				case contains(tt.absent, d):
					if _, ok := acts[d]; ok {
						t.Errorf("%s is gone but in the re-checked plan", d)
					}
				case isKept && acts[d] != "keep":
					t.Errorf("%s: %s (%s), want keep", d, acts[d], reasons[d])
				case isKept && !strings.HasPrefix(reasons[d], reason):
					t.Errorf("%s kept because %q, want a reason starting %q", d, reasons[d], reason)
				case !isKept && acts[d] != "expire":
					t.Errorf("%s: %s (%s), want expire", d, acts[d], reasons[d])
				}
			}
			for d, a := range acts {
				if _, planned := want[d]; !planned && a != "keep" {
					t.Errorf("%s, which the plan keeps or never saw, is %s now", d, a)
				}
			}
		})
	}
}

// TestRecheckRefusesOnTodaysCounts: the blast-radius limit is checked on the counts now.
func TestRecheckRefusesOnTodaysCounts(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Build(pol, repo(), now, plan.Options{})
	got := plan.Recheck(p, repo(), now, plan.Options{Safety: plan.Safety{MaxDeletePercent: 10}})
	if got.Refusal == "" {
		t.Errorf("Recheck() with a 10%% limit = no refusal; expires %d of %d", got.Summary.Expire, got.Summary.Images)
	}
}

// TestRecheckBlocksOnUnreadable: an unreadable manifest today blocks a saved plan too.
func TestRecheckBlocksOnUnreadable(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load([]byte(keepNewestBuild))
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Build(pol, repo(), now, plan.Options{})
	inv := repo()
	inv.Unreadable = []inventory.Unreadable{{Digest: "sha256:c-idx", Tags: []string{"sha-c"}, Reason: "GET answers 404 although HEAD answers 200"}}
	got := plan.Recheck(p, inv, now, plan.Options{})
	if got.Blocked == "" || got.Summary.Expire != 0 {
		t.Errorf("Recheck() with an unreadable manifest: blocked %q, %d expire; want blocked and nothing expired", got.Blocked, got.Summary.Expire)
	}
}

func tagOf(inv *inventory.Inventory, name, tag string) {
	for i := range inv.Images {
		if inv.Images[i].Digest == "sha256:"+name {
			inv.Images[i].Tags = append(inv.Images[i].Tags, tag)
		}
	}
}

func slicesDelete(images []inventory.Image, digests ...string) []inventory.Image {
	var out []inventory.Image
	for _, img := range images {
		if !contains(digests, img.Digest) {
			out = append(out, img)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
