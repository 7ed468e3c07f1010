package policy_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// benchSizes are the repositories the benchmarks evaluate: from small to ten times ECR's
// default per-repository cap of 100,000 images.
var benchSizes = []int{1_000, 10_000, 100_000, 1_000_000}

// BenchmarkEvaluate times one evaluation of the example policy over synthetic repositories
// of 1,000 to 1,000,000 images, with a reason written for every image (policy.Evaluate).
func BenchmarkEvaluate(b *testing.B) {
	p, now := benchPolicy(b)
	for _, n := range benchSizes {
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

// BenchmarkEvaluateList times the evaluation plan --images makes: of a compact inventory
// read from describe-images output, graph included, reasons left to be written when the
// plan is (policy.EvaluateList).
func BenchmarkEvaluateList(b *testing.B) {
	p, now := benchPolicy(b)
	for _, n := range benchSizes {
		var data bytes.Buffer
		if err := inventory.WriteDescribeImages(&data, synth.Large(n, 1, now)); err != nil {
			b.Fatal(err)
		}
		inv, err := inventory.ReadCompact(&data)
		if err != nil {
			b.Fatal(err)
		}
		l := inv.List()
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ev := policy.EvaluateList(p, l, l.Graph(), now)
				if ev.Len() != n {
					b.Fatal("wrong decision count")
				}
			}
		})
	}
}

func benchPolicy(b *testing.B) (*policy.Policy, time.Time) {
	text, err := os.ReadFile("../../examples/policies/keep-streams.json")
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.Load(text)
	if err != nil {
		b.Fatal(err)
	}
	return p, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
}
