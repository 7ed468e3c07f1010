package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// TestWriteJSONMatchesEncodingJSON checks the streaming writer against encoding/json on
// awkward values, so the two stay byte-for-byte identical.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	pushed := time.Date(2026, 5, 1, 10, 0, 0, 123000000, time.UTC)
	p := &Plan{
		Repository: "ghcr.io/acme/app",
		Now:        time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Blocked:    "1 manifest could not be read <quoted \"here\">",
		Unreadable: []inventory.Unreadable{{Digest: "sha256:u", Tags: []string{"prod"}, Reason: "GET answers 404 although HEAD answers 200"}, {Digest: "sha256:v", Reason: "r"}},
		Summary:    Summary{Images: 3, Expire: 1, Keep: 2, ReclaimedBytes: 1 << 30, MonthlySavingsUSD: 0.1, PricePerGBMonth: 0.1},
		Rules:      []Rule{{RulePriority: 1, Description: "quote \" and <tag>", Summary: "s", Identified: 3}},
		Images: []Item{
			{Digest: "sha256:a", Tags: []string{"v1", "ünïcode", "ctl\x01\t\n\"\\", "bad\xffutf8", "sep\u2028"}, PushedAt: &pushed,
				StorageClass: "standard", Action: policy.Expire, RulePriority: 1, Reason: "<b>&amp;</b>", SizeBytes: 42, MediaType: "m"},
			{Digest: "sha256:b", Tags: []string{}, StorageClass: "archive", Action: policy.Keep, Reason: "r"},
		},
		Warnings: []string{"w1", "w2"},
		Refusal:  "too \"much\"",
		ECRPreview: &Comparison{Agree: 1, Differences: []Difference{{Digest: "sha256:c", Tags: []string{}, Registry: policy.Expire,
			RegistryRule: 2, Shipshape: policy.Keep, ShipshapeReason: "<kept>"}}},
	}
	for name, pl := range map[string]*Plan{"full": p, "empty": {Rules: []Rule{}, Images: []Item{}}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(pl); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteJSON(&got, pl); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("%s: WriteJSON() mismatch (-encoding/json +WriteJSON):\n%s", name, diff)
		}
	}
}

// TestWriteBlocked checks that a blocked plan says so first, naming what could not be read.
func TestWriteBlocked(t *testing.T) {
	t.Parallel()
	p := &Plan{
		Repository: "ghcr.io/acme/app",
		Now:        time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Blocked:    "1 manifest could not be read",
		Unreadable: []inventory.Unreadable{{Digest: "sha256:0123456789abcdef", Tags: []string{"prod"}, Reason: "GET answers 404 although HEAD answers 200"}},
		Rules:      []Rule{},
		Images:     []Item{{Digest: "sha256:a", Tags: []string{}, Action: policy.Keep, Reason: "kept"}},
	}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return WriteTable(b, p, false) },
		"markdown": func(b *bytes.Buffer) error { return WriteMarkdown(b, p) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(b.String(), "\n")
		head := strings.Join(lines[:min(len(lines), 6)], "\n")
		for _, want := range []string{"1 manifest could not be read", "sha256:0123456789ab", "prod", "GET answers 404 although HEAD answers 200"} {
			if !strings.Contains(head, want) {
				t.Errorf("%s: the first lines do not say %q:\n%s", name, want, head)
			}
		}
		if !strings.Contains(strings.ToLower(head), "blocked") {
			t.Errorf("%s: the first lines do not say the plan is blocked:\n%s", name, head)
		}
	}
}
