package plan_test

import (
	"os"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// BenchmarkBuildAndRecheck100k times planning 100,000 images, and re-checking that plan
// against the same repository, as apply does with a saved plan.
func BenchmarkBuildAndRecheck100k(b *testing.B) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	inv := synth.Large(100_000, 1, now)
	text, err := os.ReadFile("../../examples/policies/keep-streams.json")
	if err != nil {
		b.Fatal(err)
	}
	pol, err := policy.Load(text)
	if err != nil {
		b.Fatal(err)
	}
	opts := plan.Options{Safety: plan.Safety{ProtectTags: []string{"v*"}, Grace: 48 * time.Hour}}
	p := plan.Build(pol, inv, now, opts)
	b.Run("Build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			plan.Build(pol, inv, now, opts)
		}
	})
	b.Run("Recheck", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			plan.Recheck(p, inv, now, opts)
		}
	})
}
