package policy_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// scenario is one evaluation case: a policy, a repository and a clock.
type scenario struct {
	About  string          `json:"about"`
	Now    time.Time       `json:"now"`
	Policy json.RawMessage `json:"policy"`
	Images json.RawMessage `json:"images"`
}

func TestEvaluateScenarios(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/evaluate/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := runScenario(t, f)
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/policy -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("Evaluate(%s) mismatch (-want +got):\n%s", name, diff)
			}
		})
	}
}

func runScenario(t *testing.T, file string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	p, err := policy.Load(sc.Policy)
	if err != nil {
		t.Fatalf("%s: policy: %v", file, err)
	}
	images, short := fullDigests(sc.Images)
	inv, err := inventory.ReadSnapshot(bytes.NewReader(images))
	if err != nil {
		t.Fatalf("%s: images: %v", file, err)
	}
	// The snapshot reader sorts nothing; keep input order so the golden file reads like the scenario.
	res := policy.Evaluate(p, inv.Images, sc.Now)
	if len(res.Decisions) != len(inv.Images) {
		t.Fatalf("Evaluate() = %d decisions for %d images", len(res.Decisions), len(inv.Images))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\nrules:\n", sc.About)
	for _, r := range res.Rules {
		fmt.Fprintf(&b, "  %d: identified %d, selected %d, acted %d, blocked %d: %s\n",
			r.RulePriority, r.Identified, r.Selected, r.Acted, r.Blocked, r.Summary)
	}
	b.WriteString("\ndecisions:\n")
	for i, d := range res.Decisions {
		if d.Digest != inv.Images[i].Digest {
			t.Fatalf("decision %d is for %s, want %s", i, d.Digest, inv.Images[i].Digest)
		}
		rule := "-"
		if d.RulePriority > 0 {
			rule = fmt.Sprint(d.RulePriority)
		}
		fmt.Fprintf(&b, "  %-11s %-10s rule %s  %s\n", short(strings.TrimPrefix(d.Digest, "sha256:")), d.Action, rule, d.Reason)
	}
	return short(b.String())
}

// shortDigest matches the short digests scenarios use for readability, such as sha256:e01.
var shortDigest = regexp.MustCompile(`"sha256:([a-z0-9]{1,6})"`)

// fullDigests turns a scenario's short digests into well-formed ones that sort the same way
// (each character as two hex digits, padded with zeros), as the snapshot reader accepts only
// those; short turns them back in the output, so the golden files read like the scenarios.
func fullDigests(images []byte) ([]byte, func(string) string) {
	var pairs []string
	seen := map[string]bool{}
	out := shortDigest.ReplaceAllFunc(images, func(m []byte) []byte {
		id := string(shortDigest.FindSubmatch(m)[1])
		full := hex.EncodeToString([]byte(id)) + strings.Repeat("0", 64-2*len(id))
		if !seen[id] {
			seen[id] = true
			pairs = append(pairs, full, id, full[:12], id)
		}
		return []byte(`"sha256:` + full + `"`)
	})
	r := strings.NewReplacer(pairs...)
	return out, r.Replace
}

// TestEvaluateIsDeterministic checks that input order does not change any decision.
func TestEvaluateIsDeterministic(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/evaluate/*.json")
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var sc scenario
		if err := json.Unmarshal(raw, &sc); err != nil {
			t.Fatal(err)
		}
		p, err := policy.Load(sc.Policy)
		if err != nil {
			t.Fatal(err)
		}
		images, _ := fullDigests(sc.Images)
		inv, err := inventory.ReadSnapshot(bytes.NewReader(images))
		if err != nil {
			t.Fatal(err)
		}
		byDigest := func(imgs []inventory.Image) map[string]policy.Decision {
			m := map[string]policy.Decision{}
			for _, d := range policy.Evaluate(p, imgs, sc.Now).Decisions {
				m[d.Digest] = d
			}
			return m
		}
		want := byDigest(inv.Images)
		rev := make([]inventory.Image, len(inv.Images))
		for i, img := range inv.Images {
			rev[len(rev)-1-i] = img
		}
		// Reversing the rule order in the document must not matter either.
		for i, j := 0, len(p.Rules)-1; i < j; i, j = i+1, j-1 {
			p.Rules[i], p.Rules[j] = p.Rules[j], p.Rules[i]
		}
		if diff := cmp.Diff(want, byDigest(rev)); diff != "" {
			t.Errorf("%s: Evaluate() depends on input order (-forward +reversed):\n%s", f, diff)
		}
	}
}

// TestEvaluateListCompact checks that the evaluation of a compact inventory decides and
// explains what Evaluate does over the same images read in full: the scenarios' images and
// a synthetic repository, as describe-images output, under the scenarios' policies.
func TestEvaluateListCompact(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/evaluate/*.json")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sc scenario
		if err := json.Unmarshal(raw, &sc); err != nil {
			t.Fatal(err)
		}
		p, err := policy.Load(sc.Policy)
		if err != nil {
			t.Fatal(err)
		}
		images, _ := fullDigests(sc.Images)
		inv, err := inventory.ReadSnapshot(bytes.NewReader(images))
		if err != nil {
			t.Fatal(err)
		}
		for name, inv := range map[string]*inventory.Inventory{"scenario": inv, "synthetic": synth.Large(2000, 5, sc.Now)} {
			var data bytes.Buffer
			if err := inventory.WriteDescribeImages(&data, inv); err != nil {
				t.Fatal(err)
			}
			full, err := inventory.ReadDescribeImages(bytes.NewReader(data.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			compact, err := inventory.ReadCompact(bytes.NewReader(data.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			want := policy.Evaluate(p, full.Images, sc.Now)
			l := compact.List()
			ev := policy.EvaluateList(p, l, l.Graph(), sc.Now)
			if diff := cmp.Diff(want, ev.Result()); diff != "" {
				t.Errorf("%s, %s: EvaluateList() of a compact inventory (-Evaluate +EvaluateList):\n%s", f, name, diff)
			}
			for i, d := range want.Decisions {
				if ev.Action(i) != d.Action || ev.RulePriority(i) != d.RulePriority || ev.Cause(i) != d.Cause || ev.Reason(i) != d.Reason {
					t.Errorf("%s, %s: image %d: %s, %d, %d, %q; want %+v", f, name, i, ev.Action(i), ev.RulePriority(i), ev.Cause(i), ev.Reason(i), d)
				}
			}
		}
	}
}

// TestEvaluateMonotonic checks that ages with monotonic clock readings, which Time.Compare
// compares by them, rank as the same ages without.
func TestEvaluateMonotonic(t *testing.T) {
	t.Parallel()
	p, err := policy.Load([]byte(`{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any",
		"countType": "imageCountMoreThan", "countNumber": 3}, "action": {"type": "expire"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now() // with a monotonic clock reading
	var mono, wall []inventory.Image
	for i := range 10 {
		img := inventory.Image{Digest: fmt.Sprintf("sha256:%064x", 10-i), PushedAt: start.Add(time.Duration(i%4) * time.Hour)}
		if i == 7 {
			img.PushedAt = time.Time{}
		}
		mono = append(mono, img)
		img.PushedAt = img.PushedAt.Round(0)
		wall = append(wall, img)
	}
	if diff := cmp.Diff(policy.Evaluate(p, wall, start), policy.Evaluate(p, mono, start)); diff != "" {
		t.Errorf("Evaluate() with monotonic clock readings (-without +with):\n%s", diff)
	}
}
