package plan

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
