// Package simulate projects lifecycle policies forward in time: it learns how a repository
// grows from its inventory, replays that growth day by day with ECR's daily lifecycle run,
// and reports images, storage and cost for each day.
//
// The package is pure: no I/O, no clock, no context. The same inputs and seed give the
// same results.
package simulate

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Defaults and bounds of Options.
const (
	// DefaultDays is how far a simulation looks ahead by default: a quarter.
	DefaultDays = 90
	// MaxDays bounds a simulation to ten years: every day evaluates the policy over the
	// whole repository once.
	MaxDays = 3650
	// DefaultQuotaImages is ECR's default quota of images per repository (adjustable).
	DefaultQuotaImages = 100_000
	// DefaultArchivePricePerGBMonth is ECR's archive storage price in US dollars for the
	// first 150 TB a month (us-east-1, March 2026, per third-party pages citing the AWS
	// price list; the same as standard storage below that threshold).
	DefaultArchivePricePerGBMonth = 0.10
	// ArchiveMinimum is the minimum storage duration ECR bills an archived image for, even
	// when it is deleted sooner.
	ArchiveMinimum = 90 * day
)

// NoPolicy names the result of a candidate without a policy.
const NoPolicy = "no policy"

// Options tune a simulation. The zero value simulates DefaultDays days at the default
// prices from the inventory's capture time, with seed 0.
type Options struct {
	// Days is how many days to simulate; 0 means DefaultDays.
	Days int
	// Seed selects the synthetic pushes: the same seed gives the same pushes.
	Seed uint64
	// Start is when day 0 ends and the first simulated day begins; zero means the
	// inventory's capture time or its newest push, whichever is later.
	Start time.Time
	// PricePerGBMonth prices standard storage; 0 means plan.DefaultPricePerGBMonth.
	PricePerGBMonth float64
	// ArchivePricePerGBMonth prices archive storage; 0 means DefaultArchivePricePerGBMonth.
	ArchivePricePerGBMonth float64
	// BudgetUSD is a monthly cost to watch for (Result.BudgetDay); 0 means none.
	BudgetUSD float64
	// QuotaImages is the image count to watch for (Result.QuotaDay); 0 means
	// DefaultQuotaImages.
	QuotaImages int
	// Pattern, when set, is the growth to simulate instead of the one Learn finds in the
	// inventory (a cadence given by hand). Fleet ignores it.
	Pattern *Pattern
}

// Candidate is a policy to simulate under a name.
type Candidate struct {
	// Name labels the result; empty means "policy", numbered when there are several, or
	// NoPolicy.
	Name string
	// Policy is the lifecycle policy; nil means none: nothing ever expires.
	Policy *policy.Policy
}

// Day is the state of the repository at the end of one simulated day, after that day's
// lifecycle run. Day 0 is the repository as the inventory has it, before any push or run.
type Day struct {
	Day  int       `json:"day"`
	Date time.Time `json:"date"`
	// Images counts the manifests in the repository, archived ones included (ECR's quota
	// counts them all); Archived those in archive storage.
	Images   int `json:"images"`
	Archived int `json:"archived"`
	// Pushed, Expired and Transitioned count the manifests pushed that day and those its
	// lifecycle run expired and moved to archive.
	Pushed       int `json:"pushed"`
	Expired      int `json:"expired"`
	Transitioned int `json:"transitioned"`
	// StoredBytes is standard storage, deduplicated as the audit does: each blob once.
	StoredBytes int64 `json:"storedBytes"`
	// ArchivedBytes is archive storage, deduplicated the same way within that class.
	ArchivedBytes int64 `json:"archivedBytes"`
	// ArchiveBilledBytes adds to ArchivedBytes the images deleted before their 90-day
	// minimum in archive, which are billed until it ends.
	ArchiveBilledBytes int64 `json:"archiveBilledBytes"`
	// MonthlyCostUSD is what a month of this day's storage costs: standard plus billed
	// archive.
	MonthlyCostUSD float64 `json:"monthlyCostUSD"`
}

// Result is the projection of one policy over one repository.
type Result struct {
	Repository string    `json:"repository"`
	Policy     string    `json:"policy"`
	Start      time.Time `json:"start"`
	Seed       uint64    `json:"seed"`

	PricePerGBMonth        float64 `json:"pricePerGBMonth"`
	ArchivePricePerGBMonth float64 `json:"archivePricePerGBMonth"`
	QuotaImages            int     `json:"quotaImages"`
	BudgetUSD              float64 `json:"budgetUSD,omitempty"`

	// Pattern is the growth simulated, shared by the results of one Compare.
	Pattern *Pattern `json:"pattern"`
	// Days holds day 0 (the inventory) and each simulated day.
	Days []Day `json:"days"`
	// QuotaDay is the first day the image count reaches QuotaImages, BudgetDay the first
	// whose monthly cost exceeds BudgetUSD; -1 when none does.
	QuotaDay  int `json:"quotaDay"`
	BudgetDay int `json:"budgetDay"`
	// TotalCostUSD is the storage cost of the simulated days, each billed as its share of
	// its calendar month.
	TotalCostUSD float64 `json:"totalCostUSD"`
	// Notes say what makes the projection less certain.
	Notes []string `json:"notes,omitempty"`
}

// Final returns the last day simulated.
func (r *Result) Final() Day { return r.Days[len(r.Days)-1] }

// Run projects pol (nil: no policy) over the inventory's repository; see Compare.
func Run(inv *inventory.Inventory, pol *policy.Policy, opts Options) (*Result, error) {
	res, err := Compare(inv, opts, Candidate{Policy: pol})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Compare projects each candidate over the same synthetic pushes, one result per
// candidate in order.
//
// The pushes follow opts.Pattern, or the pattern Learn finds in inv at the default start.
// Each simulated day d covers the 24 hours after Start+(d-1)×24h: the day's pushes, in
// time order (new tags move to the new image, leaving the image that carried them; an
// image left with no tag is untagged), then ECR's daily lifecycle run at the end of the day:
// one policy.Evaluate over the whole repository, archived images included. What it expires
// goes; what it transitions moves to archive, stamped with the run's time. Index children
// thus go only in a run after the one that removes their index, as in ECR; referrers go
// with their subject. Synthetic images have no pull time, so sinceImagePulled measures
// from their push.
//
// Storage is counted per storage class, each blob once. ECR does not document whether
// archive storage is deduplicated with standard storage: a blob held in both counts in
// both. An image deleted less than ArchiveMinimum after it was archived stays billed until
// then.
func Compare(inv *inventory.Inventory, opts Options, cands ...Candidate) ([]*Result, error) {
	if inv == nil {
		return nil, errors.New("no inventory")
	}
	if len(cands) == 0 {
		return nil, errors.New("no policy to simulate")
	}
	o, err := opts.resolve(inv)
	if err != nil {
		return nil, err
	}
	for n, c := range cands {
		if c.Policy == nil {
			continue
		}
		if err := policy.Validate(c.Policy); err != nil {
			return nil, fmt.Errorf("policy %q: %w", name(cands, n), err)
		}
	}
	pat := opts.Pattern
	if pat == nil {
		learned := Learn(inv, o.learnAt)
		pat = &learned
	}
	sched := newSchedule(pat, inv.Repository, o.Seed, o.Start, o.Days)
	out := make([]*Result, len(cands))
	parallel(len(cands), func(n int) {
		out[n] = simulate(inv, cands[n].Policy, sched, pat, o)
		out[n].Policy = name(cands, n)
	})
	return out, nil
}

// name is candidate n's name for its result.
func name(cands []Candidate, n int) string {
	switch c := cands[n]; {
	case c.Name != "":
		return c.Name
	case c.Policy == nil:
		return NoPolicy
	case len(cands) == 1:
		return "policy"
	default:
		return fmt.Sprintf("policy %d", n+1)
	}
}

// resolved is Options with the defaults filled in.
type resolved struct {
	Options
	learnAt time.Time
}

func (o Options) resolve(inv *inventory.Inventory) (resolved, error) {
	r := resolved{Options: o}
	switch {
	case o.Days < 0 || o.Days > MaxDays:
		return r, fmt.Errorf("days must be between 1 and %d, not %d", MaxDays, o.Days)
	case o.PricePerGBMonth < 0, o.ArchivePricePerGBMonth < 0, o.BudgetUSD < 0:
		return r, errors.New("prices and budget must not be negative")
	case o.QuotaImages < 0:
		return r, fmt.Errorf("the image quota must not be negative, not %d", o.QuotaImages)
	}
	if r.Days == 0 {
		r.Days = DefaultDays
	}
	if r.PricePerGBMonth == 0 {
		r.PricePerGBMonth = plan.DefaultPricePerGBMonth
	}
	if r.ArchivePricePerGBMonth == 0 {
		r.ArchivePricePerGBMonth = DefaultArchivePricePerGBMonth
	}
	if r.QuotaImages == 0 {
		r.QuotaImages = DefaultQuotaImages
	}
	r.learnAt = defaultStart(inv)
	if r.Start.IsZero() {
		r.Start = r.learnAt
	}
	if r.learnAt.IsZero() {
		r.learnAt = r.Start
	}
	if r.Start.IsZero() {
		return r, errors.New("no start: the inventory has no capture time and no push time; set a start")
	}
	return r, nil
}

// defaultStart is the inventory's capture time or newest push, whichever is later.
func defaultStart(inv *inventory.Inventory) time.Time {
	t := inv.CapturedAt
	for i := range inv.Images {
		if p := inv.Images[i].PushedAt; p.After(t) {
			t = p
		}
	}
	return t
}

// parallel calls f(0) … f(n-1) on up to GOMAXPROCS goroutines.
func parallel(n int, f func(int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// monthlyCost prices a day's storage for a month, to the cent.
func monthlyCost(d *Day, price, archivePrice float64) float64 {
	c := plan.MonthlyCost(d.StoredBytes, price) + plan.MonthlyCost(d.ArchiveBilledBytes, archivePrice)
	return math.Round(c*100) / 100
}

// bytesPerGB is the gigabyte AWS bills storage in (2^30 bytes), as plan uses.
const bytesPerGB = 1 << 30

// dayCost is what one day of a day's storage costs: its share of its calendar month.
func dayCost(d *Day, price, archivePrice float64) float64 {
	month := float64(daysIn(d.Date))
	return (float64(d.StoredBytes)*price + float64(d.ArchiveBilledBytes)*archivePrice) / bytesPerGB / month
}

func daysIn(t time.Time) int {
	t = t.UTC()
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// firstDays finds the quota and budget days of a series.
func firstDays(days []Day, quota int, budget float64) (quotaDay, budgetDay int) {
	quotaDay, budgetDay = -1, -1
	for _, d := range days {
		if quotaDay < 0 && d.Images >= quota {
			quotaDay = d.Day
		}
		if budgetDay < 0 && budget > 0 && d.MonthlyCostUSD > budget {
			budgetDay = d.Day
		}
	}
	return quotaDay, budgetDay
}
