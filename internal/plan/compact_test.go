package plan_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// TestBuildCompact checks that the plan of a compact inventory, whose items are written
// from the inventory when the plan is, reads exactly as the plan of the same images read
// in full: every form, byte for byte, and what is derived from it (saved plan, totals,
// re-check).
func TestBuildCompact(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../examples/describe-images.json")
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{
		"example":   example,
		"synthetic": describeImages(t, mixed()),
	}
	files, err := filepath.Glob("../../examples/policies/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example policies (%v)", err)
	}
	// What the plans must show somewhere, for the comparison to cover it.
	seen := map[string]bool{}
	markers := []string{"protected tag", "pinned digest", "in use: ", "grace period", "referrer of ", "archived",
		"ACTIVATING", "restored from archive", "this is number", "would otherwise", "no rule selects it"}
	for name, data := range inputs {
		full, err := inventory.ReadDescribeImages(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		compact, err := inventory.ReadCompact(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if compact.Table == nil || compact.Images != nil {
			t.Fatalf("%s: ReadCompact() is not compact", name)
		}
		for _, file := range files {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			pol, err := policy.Load(text)
			if err != nil {
				t.Fatal(err)
			}
			for _, opts := range safeties(full) {
				want := plan.Build(pol, full, now, opts)
				got := plan.Build(pol, compact, now, opts)
				what := name + ", " + filepath.Base(file)
				if got.Images != nil {
					t.Fatalf("%s: the plan of a compact inventory holds its Images", what)
				}
				comparePlans(t, what, want, got)
				for _, it := range got.Items() {
					for _, m := range markers {
						seen[m] = seen[m] || strings.Contains(it.Reason, m)
					}
				}
				if diff := cmp.Diff(want.Images, got.Items()); diff != "" {
					t.Errorf("%s: Items() (-full +compact):\n%s", what, diff)
				}
				if diff := cmp.Diff(plan.Totals(want, full), plan.Totals(got, compact)); diff != "" {
					t.Errorf("%s: Totals() (-full +compact):\n%s", what, diff)
				}
				saved := func(p *plan.Plan, inv *inventory.Inventory) string {
					var b bytes.Buffer
					if err := plan.Save(p, "r.example", "app", pol, inv, opts, now).Write(&b); err != nil {
						t.Fatal(err)
					}
					return b.String()
				}
				if diff := cmp.Diff(saved(want, full), saved(got, compact)); diff != "" {
					t.Errorf("%s: saved plan (-full +compact):\n%s", what, diff)
				}
				later := now.Add(36 * time.Hour)
				comparePlans(t, what+", re-checked", plan.Recheck(want, full, later, opts), plan.Recheck(want, compact, later, opts))
			}
		}
	}
	for _, m := range markers {
		if !seen[m] {
			t.Errorf("no reason says %q: the inputs do not cover it", m)
		}
	}
}

// comparePlans fails the test where the plans write differently in any form.
func comparePlans(t *testing.T, what string, want, got *plan.Plan) {
	t.Helper()
	forms := map[string]func(*bytes.Buffer, *plan.Plan) error{
		"json":         func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteJSON(b, p) },
		"json summary": func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteJSONSummary(b, p) },
		"table": func(b *bytes.Buffer, p *plan.Plan) error {
			return plan.WriteTable(b, p, true, plan.View{ShowKept: true})
		},
		"markdown": func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteMarkdown(b, p, plan.View{ShowKept: true}) },
	}
	for form, write := range forms {
		var w, g bytes.Buffer
		if err := write(&w, want); err != nil {
			t.Fatal(err)
		}
		if err := write(&g, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Bytes(), g.Bytes()) {
			t.Errorf("%s: %s differs (-full +compact):\n%s", what, form, cmp.Diff(w.String(), g.String()))
		}
	}
}

// safeties returns the safety settings to plan inv under: none, and each kind of
// protection with a limit.
func safeties(inv *inventory.Inventory) []plan.Options {
	first, last := inv.Images[0].Digest, inv.Images[len(inv.Images)-1].Digest
	return []plan.Options{{}, {PricePerGBMonth: 0.25, Safety: plan.Safety{
		ProtectTags:      []string{"v*", "pr-1*"},
		ProtectDigests:   map[string]string{first: "pins.txt:3"},
		InUse:            map[string]string{last: "kubernetes:prod/app"},
		Grace:            72 * time.Hour,
		MaxDeletePercent: 10,
	}}}
}

// mixed returns a synthetic repository with what describe-images output can say of images
// beyond a CI history: archived images, images being restored, pulls, times beyond Unix
// nanoseconds, and tags no rule matches.
func mixed() *inventory.Inventory {
	inv := synth.Large(1200, 7, now)
	for i := range inv.Images {
		img := &inv.Images[i]
		switch i % 17 {
		case 1:
			img.Status, img.LastArchivedAt = inventory.StatusArchived, now.AddDate(0, 0, -100-i%50)
		case 2:
			img.Status, img.LastActivatedAt = inventory.StatusActivating, now.AddDate(0, 0, -1)
		case 3:
			img.LastActivatedAt = now.Add(-time.Duration(i) * time.Hour)
			img.LastPulledAt = now.Add(-time.Duration(i) * time.Minute)
		case 4:
			img.PushedAt = time.Time{}
		case 5:
			img.PushedAt = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
		case 6:
			img.LastPulledAt = time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
		case 7:
			img.Tags = []string{fmt.Sprintf("nightly-%d", i)}
		}
	}
	return inv
}

func describeImages(t *testing.T, inv *inventory.Inventory) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := inventory.WriteDescribeImages(&b, inv); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
