package plan_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
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

// BenchmarkCompact times planning a compact inventory of 100,000 and 1,000,000 images (what
// plan --images does with describe-images output), and writing the plan's JSON, whose
// items and reasons are written from the inventory then.
func BenchmarkCompact(b *testing.B) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	text, err := os.ReadFile("../../examples/policies/keep-streams.json")
	if err != nil {
		b.Fatal(err)
	}
	pol, err := policy.Load(text)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100_000, 1_000_000} {
		var data bytes.Buffer
		if err := inventory.WriteDescribeImages(&data, synth.Large(n, 1, now)); err != nil {
			b.Fatal(err)
		}
		inv, err := inventory.ReadCompact(&data)
		if err != nil {
			b.Fatal(err)
		}
		p := plan.Build(pol, inv, now, plan.Options{})
		b.Run(fmt.Sprintf("%dk/Build", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				plan.Build(pol, inv, now, plan.Options{})
			}
		})
		b.Run(fmt.Sprintf("%dk/WriteJSON", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := plan.WriteJSON(io.Discard, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
