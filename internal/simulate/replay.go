package simulate

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// replay is the repository as one policy shapes it, day after day.
type replay struct {
	pol    *policy.Policy
	images []inventory.Image
	spare  []inventory.Image // the other buffer images are compacted into
	// tagged maps each tag to the position of the image carrying it.
	tagged map[string]int
	// ghosts are archived images deleted before their minimum storage duration ended,
	// billed until it does.
	ghosts []ghost
	sizes  *tally
	// scratch, reused every day
	drop  []bool
	remap []int
}

type ghost struct {
	img   inventory.Image
	until time.Time
}

func newReplay(inv *inventory.Inventory, pol *policy.Policy) *replay {
	r := &replay{
		pol:    pol,
		images: slices.Clone(inv.Images),
		tagged: make(map[string]int, len(inv.Images)),
		sizes:  newTally(len(inv.Images) * 3),
	}
	for i := range r.images {
		img := &r.images[i]
		for _, t := range img.Tags {
			r.tagged[t] = i
		}
		if img.ImageStatus() == inventory.StatusArchived {
			r.sizes.add(img, archive)
			r.sizes.add(img, billed)
		} else {
			r.sizes.add(img, standard)
		}
	}
	return r
}

// day simulates one day ending at now: the pushes, then the lifecycle run.
func (r *replay) day(d *Day, now time.Time, pushed []inventory.Image) {
	d.Pushed = len(pushed)
	for _, img := range pushed {
		r.push(img)
	}
	if r.pol != nil {
		d.Expired, d.Transitioned = r.run(now)
	}
	r.measure(d, now)
}

// simulate runs one policy over the schedule.
func simulate(inv *inventory.Inventory, pol *policy.Policy, sched *schedule, pat *Pattern, o resolved) *Result {
	r := newReplay(inv, pol)
	res := &Result{
		Repository:             inv.Repository,
		Start:                  o.Start.UTC(),
		Seed:                   o.Seed,
		PricePerGBMonth:        o.PricePerGBMonth,
		ArchivePricePerGBMonth: o.ArchivePricePerGBMonth,
		QuotaImages:            o.QuotaImages,
		BudgetUSD:              o.BudgetUSD,
		Pattern:                pat,
		Days:                   make([]Day, 0, o.Days+1),
	}
	d0 := Day{Date: o.Start.UTC()}
	r.measure(&d0, o.Start)
	d0.MonthlyCostUSD = monthlyCost(&d0, o.PricePerGBMonth, o.ArchivePricePerGBMonth)
	res.Days = append(res.Days, d0)

	var total float64
	for n, pushed := range sched.days {
		now := o.Start.Add(time.Duration(n+1) * day)
		d := Day{Day: n + 1, Date: now.UTC()}
		r.day(&d, now, pushed)
		d.MonthlyCostUSD = monthlyCost(&d, o.PricePerGBMonth, o.ArchivePricePerGBMonth)
		total += dayCost(&d, o.PricePerGBMonth, o.ArchivePricePerGBMonth)
		res.Days = append(res.Days, d)
	}
	res.TotalCostUSD = math.Round(total*100) / 100
	res.QuotaDay, res.BudgetDay = firstDays(res.Days, o.QuotaImages, o.BudgetUSD)
	res.Notes = append(res.Notes, pat.Notes...)
	if len(inv.Unreadable) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d manifests could not be read: the images they list are simulated as standalone", len(inv.Unreadable)))
	}
	if res.QuotaDay >= 0 {
		q := res.Days[res.QuotaDay]
		res.Notes = append(res.Notes, fmt.Sprintf("the repository reaches the quota of %d images on day %d (%s): ECR refuses pushes from then on; the projection goes on as if the quota were raised",
			o.QuotaImages, q.Day, q.Date.Format(time.DateOnly)))
	}
	return res
}

// push adds a pushed manifest, moving its tags from the images that carried them.
// Tag lists are replaced, never modified in place: the inventory and the schedule share
// them.
func (r *replay) push(img inventory.Image) {
	n := len(r.images)
	for _, t := range img.Tags {
		if h, ok := r.tagged[t]; ok {
			r.images[h].Tags = without(r.images[h].Tags, t)
		}
		r.tagged[t] = n
	}
	r.images = append(r.images, img)
	r.sizes.add(&r.images[n], standard)
}

func without(tags []string, t string) []string {
	i := slices.Index(tags, t)
	if i < 0 {
		return tags
	}
	if len(tags) == 1 {
		return nil
	}
	out := make([]string, 0, len(tags)-1)
	out = append(out, tags[:i]...)
	return append(out, tags[i+1:]...)
}

// run is one lifecycle run at now: the evaluator decides, and its decisions are applied.
func (r *replay) run(now time.Time) (expired, transitioned int) {
	res := policy.Evaluate(r.pol, r.images, now)
	r.drop = grow(r.drop, len(r.images))
	for i, d := range res.Decisions {
		switch d.Action {
		case policy.Expire:
			r.drop[i] = true
			expired++
		case policy.Transition:
			img := &r.images[i]
			if img.ImageStatus() == inventory.StatusArchived {
				continue // no rule archives what is archived; be safe
			}
			r.sizes.remove(img, standard)
			img.Status, img.LastArchivedAt = inventory.StatusArchived, now
			r.sizes.add(img, archive)
			r.sizes.add(img, billed)
			transitioned++
		}
	}
	if expired > 0 {
		r.compact(now)
	}
	return expired, transitioned
}

// compact removes the dropped images, keeping the order of the others.
func (r *replay) compact(now time.Time) {
	r.remap = slices.Grow(r.remap[:0], len(r.images))[:len(r.images)]
	out := r.spare[:0]
	for i := range r.images {
		img := &r.images[i]
		if !r.drop[i] {
			r.remap[i] = len(out)
			out = append(out, *img)
			continue
		}
		r.remap[i] = -1
		if img.ImageStatus() != inventory.StatusArchived {
			r.sizes.remove(img, standard)
			continue
		}
		r.sizes.remove(img, archive)
		if until := img.LastArchivedAt.Add(ArchiveMinimum); now.Before(until) {
			r.ghosts = append(r.ghosts, ghost{img: *img, until: until})
		} else {
			r.sizes.remove(img, billed)
		}
	}
	for t, i := range r.tagged {
		if j := r.remap[i]; j < 0 {
			delete(r.tagged, t)
		} else {
			r.tagged[t] = j
		}
	}
	clear(r.images)
	r.images, r.spare = out, r.images[:0]
}

// measure fills in the counts and sizes of day d at now, first ending the billing of the
// ghosts whose archive minimum is over.
func (r *replay) measure(d *Day, now time.Time) {
	r.ghosts = slices.DeleteFunc(r.ghosts, func(g ghost) bool {
		if now.Before(g.until) {
			return false
		}
		r.sizes.remove(&g.img, billed)
		return true
	})
	d.Images = len(r.images)
	for i := range r.images {
		if r.images[i].ImageStatus() == inventory.StatusArchived {
			d.Archived++
		}
	}
	d.StoredBytes = r.sizes.bytes[standard]
	d.ArchivedBytes = r.sizes.bytes[archive]
	d.ArchiveBilledBytes = r.sizes.bytes[billed]
}

// grow returns b resized to n, all false.
func grow(b []bool, n int) []bool {
	b = slices.Grow(b[:0], n)[:n]
	clear(b)
	return b
}
