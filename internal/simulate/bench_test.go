package simulate_test

import (
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/simulate"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// BenchmarkSimulate90Days20k times learning the pattern of a 20,000-image repository (a CI
// history of about 40 builds a day with buildx indexes, pull requests and signed releases)
// and projecting a policy over 90 days: 90 lifecycle runs over the whole repository.
// archive-then-expire keeps nearly every image, so each run evaluates 20,000 to 31,000
// images: the worst case; keep-streams trims the repository to about 500 on day 2.
func BenchmarkSimulate90Days20k(b *testing.B) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	inv := synth.Large(20_000, 1, now)
	for _, c := range []struct {
		name string
		pol  *policy.Policy
	}{
		{"archive-then-expire", loadPolicy(b, "archive-then-expire.json")},
		{"keep-streams", loadPolicy(b, "keep-streams.json")},
		{"no-policy", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var res *simulate.Result
			for b.Loop() {
				var err error
				res, err = simulate.Run(inv, c.pol, simulate.Options{Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Final().Images), "images/day90")
		})
	}
}
