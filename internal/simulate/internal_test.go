package simulate

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

func load(t *testing.T) *inventory.Inventory { return loadFile(t, "inventory.json") }

func loadFile(t *testing.T, name string) *inventory.Inventory {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := inventory.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func loadPolicy(t *testing.T, name string) *policy.Policy {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "examples", "policies", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTallyMatchesStorage holds the incremental tally to inventory.Storage, which the plan
// and the audit count storage with: every day, each storage class must come to what
// inventory.Storage makes of the images in it.
func TestTallyMatchesStorage(t *testing.T) {
	t.Parallel()
	inv := load(t)
	// Archive the signatures by hand a month ago and make them sign pull-request builds,
	// which keep-streams expires: the signatures go with them, within their archive
	// minimum, and leave ghosts.
	inv.Images = slices.Clone(inv.Images)
	archivedAt := inv.CapturedAt.Add(-30 * day)
	var prs []string
	for _, img := range inv.Images {
		if len(img.Tags) > 0 && strings.HasPrefix(img.Tags[0], "pr-") && img.PushedAt.Before(archivedAt) {
			prs = append(prs, img.Digest)
		}
	}
	signed := 0
	for i := range inv.Images {
		if img := &inv.Images[i]; img.Subject != "" && signed < len(prs) {
			img.Status, img.LastArchivedAt, img.Subject = inventory.StatusArchived, archivedAt, prs[signed]
			signed++
		}
	}
	if signed == 0 {
		t.Fatal("the example has no signatures to archive")
	}
	// describe-images output has no blobs: manifests count by their own size figure.
	described := loadFile(t, "describe-images.json")
	for _, tt := range []struct {
		inv  *inventory.Inventory
		name string
	}{
		{inv, "keep-streams.json"},
		{inv, "archive-then-expire.json"},
		{inv, "and-trap.json"},
		{described, "keep-streams.json"},
		{described, "archive-then-expire.json"},
	} {
		inv, name := tt.inv, tt.name
		t.Run(name+" over "+inv.Repository, func(t *testing.T) {
			t.Parallel()
			start := defaultStart(inv)
			pat := Learn(inv, start)
			if len(pat.Streams) == 0 {
				t.Fatalf("Learn() = %s, want streams to push", pat)
			}
			sched := newSchedule(&pat, inv.Repository, 1, start, 60)
			r := newReplay(inv, loadPolicy(t, name))
			ghosted := false
			for n, pushed := range sched.days {
				now := start.Add(time.Duration(n+1) * day)
				var d Day
				r.day(&d, now, pushed)
				std, arc := make([]bool, len(r.images)), make([]bool, len(r.images))
				var billed []inventory.Image
				for i := range r.images {
					if r.images[i].ImageStatus() == inventory.StatusArchived {
						arc[i] = true
						billed = append(billed, r.images[i])
					} else {
						std[i] = true
					}
				}
				for _, g := range r.ghosts {
					billed = append(billed, g.img)
					ghosted = true
				}
				s := inventory.NewStorage(r.images)
				want := [classes]int64{s.Of(std), s.Of(arc), inventory.NewStorage(billed).Total()}
				got := [classes]int64{d.StoredBytes, d.ArchivedBytes, d.ArchiveBilledBytes}
				if got != want {
					t.Fatalf("day %d: standard, archive, billed = %v, inventory.Storage says %v", n+1, got, want)
				}
			}
			if name == "keep-streams.json" && inv != described && !ghosted {
				t.Errorf("no image was deleted within its archive minimum; the test misses the ghosts")
			}
		})
	}
}

func TestPoisson(t *testing.T) {
	t.Parallel()
	for _, mean := range []float64{0, 0.05, 0.3, 4.28, 45, 400} {
		r := rand.New(rand.NewPCG(1, 2))
		const draws = 20_000
		var sum, sq float64
		for range draws {
			v := float64(poisson(r, mean))
			sum += v
			sq += v * v
		}
		m := sum / draws
		variance := sq/draws - m*m
		// Five standard errors of the mean; a Poisson variable's variance is its mean.
		if tol := 5 * math.Sqrt(mean/draws); math.Abs(m-mean) > tol || (mean > 0 && math.Abs(variance-mean) > 0.1*mean) {
			t.Errorf("poisson(%v): mean %.4f, variance %.4f over %d draws", mean, m, variance, draws)
		}
	}
}

// TestStreamsDrawIndependently: adding a stream to a pattern leaves the pushes of the
// others as they were.
func TestStreamsDrawIndependently(t *testing.T) {
	t.Parallel()
	inv := load(t)
	full := Learn(inv, inv.CapturedAt)
	if len(full.Streams) < 2 {
		t.Fatalf("Learn() = %s, want several streams", full)
	}
	one := full
	one.Streams = full.Streams[:1]
	start := inv.CapturedAt
	prefix := full.Streams[0].Tags[0].Prefix
	tagsOf := func(p *Pattern) []string {
		var out []string
		for _, day := range newSchedule(p, inv.Repository, 9, start, 30).days {
			for _, img := range day {
				// The stream's own tag comes first; other streams' pushes may carry its
				// template after their own (a release tagged with its commit).
				if len(img.Tags) > 0 && strings.HasPrefix(img.Tags[0], prefix) {
					out = append(out, img.PushedAt.Format(time.RFC3339)+" "+strings.Join(img.Tags, ",")+" "+img.Digest)
				}
			}
		}
		return out
	}
	if diff := cmp.Diff(tagsOf(&one), tagsOf(&full)); diff != "" {
		t.Errorf("%s pushes differ with the other streams present (-alone +with others):\n%s", full.Streams[0].Name, diff)
	}
}
