// Package fleet sums up many repositories at once: what each stores and costs, what its
// lifecycle policy (its own, or one given for all) would reclaim, how close it is to the
// registry's image quota, which have no policy, and which rules never do anything. It is
// pure: the repositories are read elsewhere (lifecycle.ReadFleet).
package fleet

import (
	"cmp"
	"slices"
	"time"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// QuotaImages is Amazon ECR's default limit of images per repository.
const QuotaImages = 100_000

// nearQuota is the share of the quota from which a repository is reported as near it.
const nearQuota = 0.8

// Policy states of a repository.
const (
	PolicyOwn     = "own"     // the repository's own lifecycle policy (ECR)
	PolicyGiven   = "given"   // the policy given for the whole fleet (--policy)
	PolicyNone    = "none"    // the repository has no lifecycle policy
	PolicyUnknown = "unknown" // it could not be read, or the registry has no native policies
)

// Repo is one repository as read.
type Repo struct {
	// Registry names the registry (its shipshape.yaml name, or its host); Ref is
	// "host/repository".
	Registry, Ref string
	// Inventory is nil when the repository could not be read; Err then says why.
	Inventory *inventory.Inventory
	Err       string
	// Policy is the repository's own lifecycle policy, when it has one; PolicyState is
	// PolicyOwn, PolicyNone or PolicyUnknown. PolicyErr says why a policy that is set
	// could not be used (invalid).
	Policy      *policy.Policy
	PolicyState string
	PolicyErr   string
	// Safety, when set, replaces Options.Safety for this repository (what runs in it).
	Safety *plan.Safety
}

// Options tune a fleet report.
type Options struct {
	// Policy, when set, is evaluated over every repository instead of its own.
	Policy *policy.Policy
	// Now is when policies are evaluated.
	Now time.Time
	// PricePerGBMonth prices storage; 0 means plan.DefaultPricePerGBMonth.
	PricePerGBMonth float64
	// Safety applies to every plan (pinned digests, protected tags, grace).
	Safety plan.Safety
	// QuotaImages is the images-per-repository limit; 0 means QuotaImages.
	QuotaImages int
	// Top is how many repositories the top offenders list; 0 means 10.
	Top int
}

// Report is the fleet report. Its JSON form is documented in docs/formats.md and stable.
type Report struct {
	Now    time.Time `json:"now"`
	Totals Totals    `json:"totals"`
	// Repositories are sorted by stored bytes, largest first, then by name.
	Repositories []Row `json:"repositories"`
	// Failures are the repositories that could not be read: they are in no total.
	Failures []Failure `json:"failures"`
	// TopOffenders names the repositories with the most reclaimable bytes, then the most
	// stored bytes.
	TopOffenders []string `json:"topOffenders"`
	// IdleRules are the rules that identify nothing, or identify images but act on none.
	IdleRules []IdleRule `json:"idleRules"`
}

// Totals sum the repositories that could be read.
type Totals struct {
	Registries        int     `json:"registries"`
	Repositories      int     `json:"repositories"`
	Failed            int     `json:"failed"`
	Images            int     `json:"images"`
	StoredBytes       int64   `json:"storedBytes"`
	MonthlyCostUSD    float64 `json:"monthlyCostUSD"`
	Expire            int     `json:"expire"`
	ReclaimableBytes  int64   `json:"reclaimableBytes"`
	MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
	WithoutPolicy     int     `json:"withoutPolicy"`
	NearQuota         int     `json:"nearQuota"`
	PricePerGBMonth   float64 `json:"pricePerGBMonth"`
	QuotaImages       int     `json:"quotaImages"`
}

// Row is one repository of the report.
type Row struct {
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	Images     int    `json:"images"`
	// StoredBytes is deduplicated within the repository.
	StoredBytes    int64   `json:"storedBytes"`
	MonthlyCostUSD float64 `json:"monthlyCostUSD"`
	// Policy is PolicyOwn, PolicyGiven, PolicyNone or PolicyUnknown; the figures below are
	// zero without a policy.
	Policy            string  `json:"policy"`
	Expire            int     `json:"expire"`
	ReclaimableBytes  int64   `json:"reclaimableBytes"`
	MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
	// QuotaUsed is Images over the quota; QuotaHeadroom the images left before it.
	QuotaUsed     float64 `json:"quotaUsed"`
	QuotaHeadroom int     `json:"quotaHeadroom"`
	// Warnings counts the audit's warnings (see shipshape audit).
	Warnings int `json:"warnings"`
	// Blocked says why the policy's plan keeps everything (unreadable manifests).
	Blocked string `json:"blocked,omitempty"`
	// Note says what else a person should know: an invalid policy, say.
	Note string `json:"note,omitempty"`
}

// Failure is a repository that could not be read.
type Failure struct {
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	Error      string `json:"error"`
}

// IdleRule is a rule that does nothing in a repository.
type IdleRule struct {
	Repository   string `json:"repository"`
	RulePriority int    `json:"rulePriority"`
	Rule         string `json:"rule"`
	// Why is "identifies nothing" or "acts on nothing".
	Why string `json:"why"`
}

// Build reports on the repositories.
func Build(repos []Repo, o Options) *Report {
	price := o.PricePerGBMonth
	if price <= 0 {
		price = plan.DefaultPricePerGBMonth
	}
	quota := cmp.Or(o.QuotaImages, QuotaImages)
	rep := &Report{Now: o.Now, Repositories: []Row{}, Failures: []Failure{}, TopOffenders: []string{}, IdleRules: []IdleRule{}}
	rep.Totals.PricePerGBMonth, rep.Totals.QuotaImages = price, quota
	registries := map[string]bool{}
	for _, r := range repos {
		registries[r.Registry] = true
		if r.Inventory == nil {
			rep.Failures = append(rep.Failures, Failure{Registry: r.Registry, Repository: r.Ref, Error: r.Err})
			continue
		}
		row, idle := build(r, o, price, quota)
		rep.Repositories = append(rep.Repositories, row)
		rep.IdleRules = append(rep.IdleRules, idle...)
	}
	slices.SortFunc(rep.Repositories, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.StoredBytes, a.StoredBytes), cmp.Compare(a.Repository, b.Repository))
	})
	slices.SortFunc(rep.Failures, func(a, b Failure) int { return cmp.Compare(a.Repository, b.Repository) })
	t := &rep.Totals
	t.Registries, t.Repositories, t.Failed = len(registries), len(rep.Repositories), len(rep.Failures)
	for _, row := range rep.Repositories {
		t.Images += row.Images
		t.StoredBytes += row.StoredBytes
		t.Expire += row.Expire
		t.ReclaimableBytes += row.ReclaimableBytes
		if row.Policy == PolicyNone {
			t.WithoutPolicy++
		}
		if row.QuotaUsed >= nearQuota {
			t.NearQuota++
		}
	}
	t.MonthlyCostUSD = plan.MonthlyCost(t.StoredBytes, price)
	t.MonthlySavingsUSD = plan.MonthlyCost(t.ReclaimableBytes, price)

	top := slices.Clone(rep.Repositories)
	slices.SortStableFunc(top, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.ReclaimableBytes, a.ReclaimableBytes), cmp.Compare(b.StoredBytes, a.StoredBytes))
	})
	for _, row := range top[:min(len(top), cmp.Or(o.Top, 10))] {
		rep.TopOffenders = append(rep.TopOffenders, row.Repository)
	}
	return rep
}

// build reports on one repository that could be read.
func build(r Repo, o Options, price float64, quota int) (Row, []IdleRule) {
	inv := r.Inventory
	a := audit.Audit(inv, audit.Options{PricePerGBMonth: price, Now: o.Now})
	row := Row{
		Registry: r.Registry, Repository: r.Ref, Images: a.Counts.Images,
		StoredBytes: a.Storage.StoredBytes, MonthlyCostUSD: a.Storage.MonthlyCostUSD,
		QuotaUsed: float64(a.Counts.Images) / float64(quota), QuotaHeadroom: max(0, quota-a.Counts.Images),
		Policy: cmp.Or(r.PolicyState, PolicyUnknown), Note: r.PolicyErr,
	}
	for _, d := range a.Diagnoses {
		if d.Severity == audit.Warning {
			row.Warnings++
		}
	}
	pol := r.Policy
	if o.Policy != nil {
		pol, row.Policy = o.Policy, PolicyGiven
	}
	if pol == nil {
		return row, nil
	}
	safety := o.Safety
	if r.Safety != nil {
		safety = *r.Safety
	}
	p := plan.Build(pol, inv, o.Now, plan.Options{PricePerGBMonth: price, Safety: safety})
	row.Blocked = p.Blocked
	row.Expire, row.ReclaimableBytes, row.MonthlySavingsUSD = p.Summary.Expire, p.Summary.ReclaimedBytes, p.Summary.MonthlySavingsUSD
	var idle []IdleRule
	for _, rule := range p.Rules {
		why := ""
		switch {
		case rule.Identified == 0:
			why = "identifies nothing"
		case rule.Acted == 0:
			why = "acts on nothing"
		default:
			continue
		}
		idle = append(idle, IdleRule{Repository: r.Ref, RulePriority: rule.RulePriority, Rule: cmp.Or(rule.Description, rule.Summary), Why: why})
	}
	return row, idle
}
