package simulate

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Repo is one repository of a fleet and the policy it runs.
type Repo struct {
	Inventory *inventory.Inventory
	// Policy is the repository's lifecycle policy; nil means none.
	Policy *policy.Policy
	// PolicyName labels the policy in the result; empty means "policy" or NoPolicy.
	PolicyName string
}

// FleetResult is the projection of a fleet: the sum over its repositories, day by day,
// and each repository's own result.
type FleetResult struct {
	Start time.Time `json:"start"`
	// Days sums the repositories' days: counts, bytes and monthly costs.
	Days []Day `json:"days"`
	// QuotaDay is the first day any repository reaches the image quota (a per-repository
	// quota); BudgetDay the first day the fleet's summed monthly cost exceeds BudgetUSD.
	// -1 when none does.
	QuotaDay     int       `json:"quotaDay"`
	BudgetDay    int       `json:"budgetDay"`
	TotalCostUSD float64   `json:"totalCostUSD"`
	Repositories []*Result `json:"repositories"`
}

// Fleet projects every repository with its own policy and learned pattern, all from the
// same start (opts.Start, or the latest default start of the repositories, so that days
// line up), and sums them. Each repository's result is what Run gives for it with that
// start; its BudgetDay compares that repository alone with the budget. opts.Pattern is
// ignored.
func Fleet(repos []Repo, opts Options) (*FleetResult, error) {
	if len(repos) == 0 {
		return nil, errors.New("no repository to simulate")
	}
	opts.Pattern = nil
	if opts.Start.IsZero() {
		for n, r := range repos {
			if r.Inventory == nil {
				return nil, fmt.Errorf("repository %d: no inventory", n+1)
			}
			if t := defaultStart(r.Inventory); t.After(opts.Start) {
				opts.Start = t
			}
		}
	}
	out := &FleetResult{Repositories: make([]*Result, len(repos))}
	errs := make([]error, len(repos))
	parallel(len(repos), func(n int) {
		r := repos[n]
		if r.Inventory == nil {
			errs[n] = fmt.Errorf("repository %d: no inventory", n+1)
			return
		}
		res, err := Compare(r.Inventory, opts, Candidate{Name: r.PolicyName, Policy: r.Policy})
		if err != nil {
			errs[n] = fmt.Errorf("repository %s: %w", repoName(r.Inventory, n), err)
			return
		}
		out.Repositories[n] = res[0]
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	first := out.Repositories[0]
	out.Start = first.Start
	out.Days = make([]Day, len(first.Days))
	var total float64
	for n := range out.Days {
		sum := &out.Days[n]
		sum.Day, sum.Date = first.Days[n].Day, first.Days[n].Date
		var cost float64
		for _, r := range out.Repositories {
			d := r.Days[n]
			sum.Images += d.Images
			sum.Archived += d.Archived
			sum.Pushed += d.Pushed
			sum.Expired += d.Expired
			sum.Transitioned += d.Transitioned
			sum.StoredBytes = inventory.AddSize(sum.StoredBytes, d.StoredBytes)
			sum.ArchivedBytes = inventory.AddSize(sum.ArchivedBytes, d.ArchivedBytes)
			sum.ArchiveBilledBytes = inventory.AddSize(sum.ArchiveBilledBytes, d.ArchiveBilledBytes)
			cost += d.MonthlyCostUSD
		}
		sum.MonthlyCostUSD = math.Round(cost*100) / 100
	}
	out.QuotaDay = -1
	for _, r := range out.Repositories {
		total += r.TotalCostUSD
		if r.QuotaDay >= 0 && (out.QuotaDay < 0 || r.QuotaDay < out.QuotaDay) {
			out.QuotaDay = r.QuotaDay
		}
	}
	out.TotalCostUSD = math.Round(total*100) / 100
	budget := opts.BudgetUSD
	_, out.BudgetDay = firstDays(out.Days, math.MaxInt, budget)
	return out, nil
}

func repoName(inv *inventory.Inventory, n int) string {
	if inv.Repository != "" {
		return inv.Repository
	}
	return fmt.Sprintf("%d", n+1)
}
