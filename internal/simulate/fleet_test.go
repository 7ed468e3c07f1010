package simulate_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/simulate"
)

func TestFleet(t *testing.T) {
	t.Parallel()
	keep := loadPolicy(t, "keep-streams.json")
	repos := []simulate.Repo{
		{Inventory: ciRepo("team/a", 30, 10), Policy: keep, PolicyName: "keep-streams"},
		{Inventory: ciRepo("team/b", 30, 10)},
		{Inventory: shaRepo(30)},
	}
	quota := len(repos[2].Inventory.Images) + 20 // the sha-only repository reaches it in a few days
	opts := simulate.Options{Days: 30, Seed: 3, QuotaImages: quota}
	// A budget no repository exceeds alone, but the fleet does.
	var most float64
	for _, r := range repos {
		res := run(t, r.Inventory, r.Policy, opts)
		for _, d := range res.Days {
			most = max(most, d.MonthlyCostUSD)
		}
	}
	opts.BudgetUSD = most + 0.01
	f, err := simulate.Fleet(repos, opts)
	if err != nil {
		t.Fatalf("Fleet() error: %v", err)
	}
	if len(f.Repositories) != len(repos) || len(f.Days) != opts.Days+1 {
		t.Fatalf("Fleet() = %d repositories and %d days, want %d and %d", len(f.Repositories), len(f.Days), len(repos), opts.Days+1)
	}
	for n, r := range f.Repositories {
		o := opts
		o.Start = f.Start
		alone := run(t, repos[n].Inventory, repos[n].Policy, o)
		alone.Policy = r.Policy
		if diff := cmp.Diff(alone, r); diff != "" {
			t.Errorf("%s in the fleet differs from Run() alone (-Run +Fleet):\n%s", r.Repository, diff)
		}
		if r.BudgetDay != -1 {
			t.Errorf("%s alone exceeds the budget on day %d; the test wants it not to", r.Repository, r.BudgetDay)
		}
	}
	if got := f.Repositories[0].Policy; got != "keep-streams" {
		t.Errorf("Policy = %q, want the name given", got)
	}
	for n, sum := range f.Days {
		var want simulate.Day
		want.Day, want.Date = n, f.Start.AddDate(0, 0, n)
		var cost float64
		for _, r := range f.Repositories {
			d := r.Days[n]
			want.Images += d.Images
			want.Pushed += d.Pushed
			want.Expired += d.Expired
			want.StoredBytes += d.StoredBytes
			cost += d.MonthlyCostUSD
		}
		if sum.Images != want.Images || sum.Pushed != want.Pushed || sum.Expired != want.Expired ||
			sum.StoredBytes != want.StoredBytes || !sum.Date.Equal(want.Date) || sum.MonthlyCostUSD-cost > 0.005 || cost-sum.MonthlyCostUSD > 0.005 {
			t.Errorf("fleet day %d = %+v, want the sum of the repositories' (%+v, $%.2f)", n, sum, want, cost)
		}
	}
	first := -1
	for _, r := range f.Repositories {
		if r.QuotaDay >= 0 && (first < 0 || r.QuotaDay < first) {
			first = r.QuotaDay
		}
	}
	if f.QuotaDay != first || first < 0 {
		t.Errorf("fleet QuotaDay = %d, want the first of the repositories' (%d)", f.QuotaDay, first)
	}
	over := slices.IndexFunc(f.Days, func(d simulate.Day) bool { return d.MonthlyCostUSD > opts.BudgetUSD })
	if f.BudgetDay != over || over < 0 {
		t.Errorf("fleet BudgetDay = %d, want the first day the sum exceeds $%.2f (%d)", f.BudgetDay, opts.BudgetUSD, over)
	}
	// Repositories with the same streams draw different pushes.
	pushed := func(r *simulate.Result) []int {
		var out []int
		for _, d := range r.Days {
			out = append(out, d.Pushed)
		}
		return out
	}
	if a, b := pushed(f.Repositories[0]), pushed(f.Repositories[1]); slices.Equal(a, b) {
		t.Errorf("team/a and team/b push the same every day: %v", a)
	}
}

// TestFleetSharesAPolicy runs one policy value over many repositories at once, as a
// registry-wide policy is (go test -race checks the sharing).
func TestFleetSharesAPolicy(t *testing.T) {
	t.Parallel()
	keep := loadPolicy(t, "keep-streams.json")
	var repos []simulate.Repo
	for _, name := range []string{"a", "b", "c", "d"} {
		repos = append(repos, simulate.Repo{Inventory: ciRepo(name, 20, 10), Policy: keep})
	}
	f, err := simulate.Fleet(repos, simulate.Options{Days: 20})
	if err != nil {
		t.Fatalf("Fleet() error: %v", err)
	}
	if got := f.Days[20].Expired; got == 0 {
		t.Errorf("the fleet expired nothing on day 20")
	}
}

func TestFleetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		repos []simulate.Repo
	}{
		{name: "none"},
		{name: "no inventory", repos: []simulate.Repo{{Inventory: shaRepo(2)}, {}}},
		{name: "invalid policy", repos: []simulate.Repo{{Inventory: shaRepo(2)}, {Inventory: shaRepo(2), Policy: &policy.Policy{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := simulate.Fleet(tt.repos, simulate.Options{Days: 3}); err == nil {
				t.Errorf("Fleet() error = nil, want one")
			}
		})
	}
}
