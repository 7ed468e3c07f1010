package simulate_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/simulate"
)

func run(t *testing.T, inv *inventory.Inventory, pol *policy.Policy, opts simulate.Options) *simulate.Result {
	t.Helper()
	res, err := simulate.Run(inv, pol, opts)
	if err != nil {
		t.Fatalf("Run() error: %v", err)
	}
	if len(res.Days) != max(opts.Days, 0)+1 && opts.Days != 0 {
		t.Fatalf("Run() gave %d days, want %d", len(res.Days), opts.Days+1)
	}
	return res
}

// TestKeepNewestIsBounded: a keep-the-N-newest policy holds a growing repository at N
// builds, plus the children of the builds expired in the last run or two, which ECR
// removes only once their index is gone.
func TestKeepNewestIsBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pol  *policy.Policy
		// lo and hi bound the image count, given the builds pushed that day and the day
		// before.
		lo, hi func(builds int) int
	}{
		{
			name: "keep 10 sha- builds, expire untagged after a day",
			pol:  policyOf(t, rule(1, keepNewest("sha-", 10), expire), rule(2, olderThan("untagged", "", 1), expire)),
			lo:   func(int) int { return 3 * 10 },
			hi:   func(builds int) int { return 3*10 + 2*builds },
		},
		{
			name: "keep 30 images of any kind",
			pol:  policyOf(t, rule(1, `{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30}`, expire)),
			lo:   func(int) int { return 30 },
			hi:   func(builds int) int { return 30 + 2 + 2*builds },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, shaRepo(20), tt.pol, simulate.Options{Days: 60, Seed: 1})
			for n, d := range res.Days[5:] {
				builds := (d.Pushed + res.Days[n+4].Pushed) / 3
				if d.Images < tt.lo(builds) || d.Images > tt.hi(builds) {
					t.Errorf("day %d: %d images, want %d to %d (%d builds in two days)", d.Day, d.Images, tt.lo(builds), tt.hi(builds), builds)
				}
			}
			if got := res.Final().Expired; got == 0 {
				t.Errorf("day %d expired nothing; the repository should be at its bound", res.Final().Day)
			}
		})
	}
}

// TestChildrenGoARunAfterTheirIndex: ECR never expires an image an index lists, so the
// children of an expired index become eligible only in the next day's run.
func TestChildrenGoARunAfterTheirIndex(t *testing.T) {
	t.Parallel()
	type count struct{ Images, Expired int }
	tests := []struct {
		name string
		pol  *policy.Policy
		want []count
	}{
		{
			name: "untagged rule: children go the day after",
			pol:  policyOf(t, rule(1, olderThan("tagged", "sha-", 5), expire), rule(2, olderThan("untagged", "", 1), expire)),
			want: []count{{6, 0}, {5, 1}, {3, 2}, {3, 0}},
		},
		{
			name: "any rule: children go the day after",
			pol:  policyOf(t, rule(1, olderThan("any", "", 5), expire)),
			want: []count{{6, 0}, {5, 1}, {3, 2}, {3, 0}},
		},
		{
			name: "no rule for untagged images: the children stay",
			pol:  policyOf(t, rule(1, olderThan("tagged", "sha-", 5), expire)),
			want: []count{{6, 0}, {5, 1}, {5, 0}, {5, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder("one-old-build")
			b.build(at(10, 12), 10, "sha-old0001")
			b.build(at(0, 20), 10, "sha-new0001")
			res := run(t, b.inv, tt.pol, simulate.Options{Days: 3, Pattern: &simulate.Pattern{}})
			var got []count
			for _, d := range res.Days {
				got = append(got, count{d.Images, d.Expired})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("images and expired per day (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoPolicyOnlyGrows(t *testing.T) {
	t.Parallel()
	res := run(t, ciRepo("ci", 60, 10), nil, simulate.Options{Days: 90, Seed: 2})
	if res.Policy != simulate.NoPolicy {
		t.Errorf("Policy = %q, want %q", res.Policy, simulate.NoPolicy)
	}
	pushed := 0
	for n, d := range res.Days[1:] {
		prev := res.Days[n]
		pushed += d.Pushed
		if d.Images != prev.Images+d.Pushed || d.StoredBytes < prev.StoredBytes || d.Expired != 0 || d.Transitioned != 0 {
			t.Errorf("day %d = %+v after %+v; want growth by the day's pushes and nothing removed", d.Day, d, prev)
		}
	}
	// About 4.1 builds of 3 manifests a day, and a signature a release.
	if want := 90 * 12.5; math.Abs(float64(pushed)-want) > 0.1*want {
		t.Errorf("%d manifests pushed in 90 days, want about %.0f", pushed, want)
	}
}

// TestArchiveBilling: archived storage is billed at its own price, and an image deleted
// less than 90 days after it was archived is billed until the 90 days are over.
func TestArchiveBilling(t *testing.T) {
	t.Parallel()
	const sigMB = 50
	earlyDelete := func() *inventory.Inventory {
		// A pull-request build whose signature was archived by hand ten days ago: the
		// policy expires the build, and the signature goes with it.
		b := newBuilder("early-delete")
		subject := b.build(at(30, 12), 10, "pr-1")
		b.sign(subject, at(30, 12))
		sig := &b.inv.Images[len(b.inv.Images)-1]
		sig.Layers[0].Size, sig.SizeBytes = sigMB*mb, sigMB*mb
		sig.Status, sig.LastArchivedAt = inventory.StatusArchived, now.Add(-10*24*time.Hour)
		return b.inv
	}
	images := func() *inventory.Inventory {
		b := newBuilder("images")
		for d := 20; d >= 0; d-- {
			b.image(at(d, 12), 10, "sha-"+b.commit())
		}
		return b.inv
	}
	tests := []struct {
		name  string
		inv   *inventory.Inventory
		pol   *policy.Policy
		check func(t *testing.T, days []simulate.Day)
	}{
		{
			name: "deleted 10 days after archiving: billed until day 80",
			inv:  earlyDelete(),
			pol:  policyOf(t, rule(1, olderThan("tagged", "pr-", 14), expire)),
			check: func(t *testing.T, days []simulate.Day) {
				if days[1].Expired != 2 {
					t.Errorf("day 1 expired %d, want the build's index and its archived signature", days[1].Expired)
				}
				for _, d := range days[1:] {
					want := int64(0)
					if d.Day < 80 {
						want = sigMB * mb
					}
					if d.ArchivedBytes != 0 || d.ArchiveBilledBytes != want {
						t.Errorf("day %d: archived %d, billed %d; want 0 archived, %d billed", d.Day, d.ArchivedBytes, d.ArchiveBilledBytes, want)
					}
				}
			},
		},
		{
			name: "archived images cost the archive price",
			inv:  images(),
			pol:  policyOf(t, rule(1, olderThan("tagged", "sha-", 5), transition)),
			check: func(t *testing.T, days []simulate.Day) {
				d := days[len(days)-1]
				if d.Archived < 15 || d.ArchivedBytes < 15*10*mb || d.ArchiveBilledBytes != d.ArchivedBytes {
					t.Errorf("last day = %+v, want at least 15 archived images of 10 MiB, all billed", d)
				}
				want := plan.MonthlyCost(d.StoredBytes, 0.10) + plan.MonthlyCost(d.ArchiveBilledBytes, 0.01)
				if math.Abs(d.MonthlyCostUSD-want) > 0.005 {
					t.Errorf("MonthlyCostUSD = %v, want %v (standard at 0.10 plus archive at 0.01)", d.MonthlyCostUSD, want)
				}
			},
		},
		{
			name: "expired after 90 days in archive: billed no longer",
			inv:  images(),
			pol: policyOf(t, rule(1, olderThan("tagged", "sha-", 5), transition),
				rule(2, `{"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 90}`, expire)),
			check: func(t *testing.T, days []simulate.Day) {
				expired := 0
				for _, d := range days {
					expired += d.Expired
					if d.ArchiveBilledBytes != d.ArchivedBytes {
						t.Errorf("day %d: %d archived, %d billed; want the same", d.Day, d.ArchivedBytes, d.ArchiveBilledBytes)
					}
				}
				if first := slices.IndexFunc(days, func(d simulate.Day) bool { return d.Expired > 0 }); first != 92 || expired < 15 {
					t.Errorf("first expiry on day %d, %d in all; want day 92 (more than 90 days after day 1) and at least 15", first, expired)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, tt.inv, tt.pol, simulate.Options{Days: 100, Pattern: &simulate.Pattern{}, ArchivePricePerGBMonth: 0.01})
			tt.check(t, res.Days)
		})
	}
}

func TestQuotaAndBudgetDays(t *testing.T) {
	t.Parallel()
	inv := ciRepo("ci", 60, 100)
	base := run(t, inv, nil, simulate.Options{Days: 1})
	quota, budget := len(inv.Images)+200, base.Days[0].MonthlyCostUSD+1
	tests := []struct {
		name                string
		pol                 *policy.Policy
		wantQuota, wantOver bool
	}{
		{name: "no policy", wantQuota: true, wantOver: true},
		{name: "keep-streams", pol: loadPolicy(t, "keep-streams.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, inv, tt.pol, simulate.Options{Days: 90, Seed: 4, QuotaImages: quota, BudgetUSD: budget})
			check := func(what string, day int, want bool, reached func(d simulate.Day) bool) {
				if !want {
					if day != -1 {
						t.Errorf("%s day = %d, want -1 (never)", what, day)
					}
					return
				}
				if day <= 0 || !reached(res.Days[day]) || reached(res.Days[day-1]) {
					t.Fatalf("%s day = %d, want the first day it is reached", what, day)
				}
			}
			check("quota", res.QuotaDay, tt.wantQuota, func(d simulate.Day) bool { return d.Images >= quota })
			check("budget", res.BudgetDay, tt.wantOver, func(d simulate.Day) bool { return d.MonthlyCostUSD > budget })
			noted := slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "quota") })
			if noted != tt.wantQuota {
				t.Errorf("Notes = %q; want a note on the quota: %v", res.Notes, tt.wantQuota)
			}
		})
	}
}

func TestRunIsDeterministic(t *testing.T) {
	t.Parallel()
	inv := loadExample(t)
	pol := loadPolicy(t, "keep-streams.json")
	opts := simulate.Options{Days: 60, Seed: 7}
	a, b := run(t, inv, pol, opts), run(t, inv, pol, opts)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("Run() twice with the same seed differs (-first +second):\n%s", diff)
	}
	reversed := *inv
	reversed.Images = slices.Clone(inv.Images)
	slices.Reverse(reversed.Images)
	if diff := cmp.Diff(a, run(t, &reversed, pol, opts)); diff != "" {
		t.Errorf("Run() over the images in reverse order differs (-in order +reversed):\n%s", diff)
	}
	opts.Seed = 8
	c := run(t, inv, pol, opts)
	pushes := func(r *simulate.Result) []int {
		var out []int
		for _, d := range r.Days {
			out = append(out, d.Pushed)
		}
		return out
	}
	if slices.Equal(pushes(a), pushes(c)) {
		t.Errorf("seeds 7 and 8 push the same numbers of manifests every day: %v", pushes(a))
	}
}

func TestComparePushesTheSame(t *testing.T) {
	t.Parallel()
	inv := loadExample(t)
	keep := loadPolicy(t, "keep-streams.json")
	opts := simulate.Options{Days: 45, Seed: 5}
	res, err := simulate.Compare(inv, opts,
		simulate.Candidate{Name: "keep-streams", Policy: keep},
		simulate.Candidate{Policy: loadPolicy(t, "and-trap.json")},
		simulate.Candidate{})
	if err != nil {
		t.Fatalf("Compare() error: %v", err)
	}
	if got, want := []string{res[0].Policy, res[1].Policy, res[2].Policy}, []string{"keep-streams", "policy 2", simulate.NoPolicy}; !slices.Equal(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
	for _, r := range res[1:] {
		if diff := cmp.Diff(res[0].Days[0], r.Days[0]); diff != "" {
			t.Errorf("%s day 0 differs from %s's (-%s +%s):\n%s", r.Policy, res[0].Policy, res[0].Policy, r.Policy, diff)
		}
		for n, d := range r.Days {
			if d.Pushed != res[0].Days[n].Pushed {
				t.Errorf("day %d: %s pushed %d, %s %d", n, r.Policy, d.Pushed, res[0].Policy, res[0].Days[n].Pushed)
			}
		}
	}
	alone := run(t, inv, keep, opts)
	alone.Policy = "keep-streams"
	if diff := cmp.Diff(alone, res[0]); diff != "" {
		t.Errorf("Compare() result differs from Run() alone (-Run +Compare):\n%s", diff)
	}
}

// TestExamples projects the example policies over the example repository for 90 days.
func TestExamples(t *testing.T) {
	t.Parallel()
	inv := loadExample(t)
	keepAll := policyOf(t, rule(1, olderThan("any", "", 3650), expire))
	res, err := simulate.Compare(inv, simulate.Options{Seed: 1},
		simulate.Candidate{Name: "keep-streams", Policy: loadPolicy(t, "keep-streams.json")},
		simulate.Candidate{Name: "keep-all", Policy: keepAll},
		simulate.Candidate{Name: "archive-then-expire", Policy: loadPolicy(t, "archive-then-expire.json")},
		simulate.Candidate{})
	if err != nil {
		t.Fatalf("Compare() error: %v", err)
	}
	streams, all, archive, none := res[0], res[1], res[2], res[3]
	if len(none.Days) != simulate.DefaultDays+1 {
		t.Fatalf("%d days, want day 0 and %d more", len(none.Days), simulate.DefaultDays)
	}
	if s, a := streams.Final(), all.Final(); s.StoredBytes >= a.StoredBytes/2 || s.Images > 300 {
		t.Errorf("day 90: keep-streams stores %d bytes in %d images, keep-all %d; want keep-streams bounded and under half", s.StoredBytes, s.Images, a.StoredBytes)
	}
	if diff := cmp.Diff(none.Days, all.Days); diff != "" {
		t.Errorf("a policy that keeps ten years differs from no policy (-none +keep-all):\n%s", diff)
	}
	var transitioned int
	for _, d := range archive.Days {
		transitioned += d.Transitioned
		if d.Expired != 0 {
			t.Errorf("archive-then-expire expired %d images on day %d; nothing has been archived for a year", d.Expired, d.Day)
		}
	}
	if a := archive.Final(); transitioned == 0 || a.ArchivedBytes == 0 || a.Images != none.Final().Images {
		t.Errorf("archive-then-expire: %d transitioned, day 90 = %+v; want images archived and none deleted", transitioned, a)
	}
	// Below 150 TB archive storage costs what standard storage does: archiving saves nothing.
	if archive.TotalCostUSD < none.TotalCostUSD {
		t.Errorf("archive-then-expire costs $%.2f over 90 days, less than no policy's $%.2f", archive.TotalCostUSD, none.TotalCostUSD)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	t.Parallel()
	inv := ciRepo("ci", 10, 10)
	tests := []struct {
		name string
		inv  *inventory.Inventory
		pol  *policy.Policy
		opts simulate.Options
		want string
	}{
		{name: "negative days", inv: inv, opts: simulate.Options{Days: -1}, want: "days"},
		{name: "too many days", inv: inv, opts: simulate.Options{Days: simulate.MaxDays + 1}, want: "days"},
		{name: "negative price", inv: inv, opts: simulate.Options{PricePerGBMonth: -1}, want: "negative"},
		{name: "negative quota", inv: inv, opts: simulate.Options{QuotaImages: -1}, want: "quota"},
		{name: "invalid policy", inv: inv, pol: &policy.Policy{}, want: `policy "policy"`},
		{name: "no inventory", want: "no inventory"},
		{name: "no start", inv: &inventory.Inventory{}, want: "no start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := simulate.Run(tt.inv, tt.pol, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRunDoesNotModifyItsInputs(t *testing.T) {
	t.Parallel()
	inv := loadExample(t)
	before := slices.Clone(inv.Images)
	for i := range before {
		before[i].Tags = slices.Clone(before[i].Tags)
	}
	run(t, inv, loadPolicy(t, "archive-then-expire.json"), simulate.Options{Days: 30})
	run(t, inv, loadPolicy(t, "keep-streams.json"), simulate.Options{Days: 30})
	if diff := cmp.Diff(before, inv.Images); diff != "" {
		t.Errorf("Run() modified the inventory (-before +after):\n%s", diff)
	}
}

// TestMovingTagsLeaveUntaggedImages: each push of latest takes the tag from the image
// before, which an untagged rule then expires; a repository that only pushes latest stays
// small under that rule and grows without it.
func TestMovingTagsLeaveUntaggedImages(t *testing.T) {
	t.Parallel()
	b := newBuilder("latest-only")
	for d := 29; d >= 0; d-- {
		b.build(at(d, 12), 10, "latest")
	}
	untagged := policyOf(t, rule(1, olderThan("untagged", "", 1), expire))
	res := run(t, b.inv, untagged, simulate.Options{Days: 60, Seed: 3})
	for n, d := range res.Days[3:] {
		builds := (d.Pushed + res.Days[n+2].Pushed + res.Days[n+1].Pushed) / 3
		if d.Images > 3*(1+builds) {
			t.Errorf("day %d: %d images, want at most the tagged build and those of the last three days (%d builds)", d.Day, d.Images, builds)
		}
	}
	if res.Final().Expired == 0 {
		t.Errorf("day %d expired nothing: the builds latest moved away from should go", res.Final().Day)
	}
}

// TestExpiryDay: the daily run at the end of each day expires an image in the first run
// at which it is more than N×24 hours old, as ECR's evaluator counts.
func TestExpiryDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		pushed time.Duration // before the start
		want   int
	}{
		{name: "two and a half days old at the start: five days old during day 3", pushed: 60 * time.Hour, want: 3},
		{name: "exactly two days old: exactly five days at day 3's run, which is not more", pushed: 48 * time.Hour, want: 4},
		{name: "pushed at the start", pushed: 0, want: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder("one-image")
			b.image(now.Add(-tt.pushed), 10, "sha-0000001")
			res := run(t, b.inv, policyOf(t, rule(1, olderThan("tagged", "sha-", 5), expire)), simulate.Options{Days: 8, Pattern: &simulate.Pattern{}})
			got := slices.IndexFunc(res.Days, func(d simulate.Day) bool { return d.Expired > 0 })
			if got != tt.want {
				t.Errorf("expired on day %d, want day %d", got, tt.want)
			}
		})
	}
}
