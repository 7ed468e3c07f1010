package policy_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// BenchmarkEvaluate times one evaluation of the example policy over synthetic repositories
// of 1,000, 10,000 and 100,000 images (ECR's default per-repository cap).
func BenchmarkEvaluate(b *testing.B) {
	text, err := os.ReadFile("../../examples/policies/keep-streams.json")
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.Load(text)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, n := range []int{1_000, 10_000, 100_000} {
		inv := synth.Large(n, 1, now)
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := policy.Evaluate(p, inv.Images, now)
				if len(res.Decisions) != len(inv.Images) {
					b.Fatal("wrong decision count")
				}
			}
		})
	}
}
