package plan

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Recheck re-derives p, a plan made earlier, against inv, the repository as it is now, under
// the options in force now. It is how a saved plan, or the rest of an interrupted one, is
// carried out without skipping today's safety:
//
//   - only what p removes or archives can go; images p does not know (pushed since) stay;
//   - an image tagged since p was made stays;
//   - the safety settings of opts (pins, protected tags, grace at now) keep images, with
//     their children and referrers, as in Build;
//   - whatever a kept image references (an index's children, a referrer's subject) stays;
//   - the blast-radius limit is checked on today's counts.
//
// Targets of p that are no longer in inv are gone and simply absent from the result.
// Rules carry p's counts: the policy is not evaluated again.
func Recheck(p *Plan, inv *inventory.Inventory, now time.Time, opts Options) *Plan {
	price := opts.PricePerGBMonth
	if price == 0 {
		price = p.Summary.PricePerGBMonth
	}
	if price == 0 {
		price = DefaultPricePerGBMonth
	}
	planned := make(map[string]*Item, len(p.Images))
	for i := range p.Images {
		planned[p.Images[i].Digest] = &p.Images[i]
	}
	l := inv.List()
	g := l.Graph()
	ds := &decisions{at: make([]decision, l.Len()), reasons: make(map[int]string, l.Len())}
	for i := range l.Len() {
		it, ok := planned[l.Digest(i)]
		switch {
		case !ok:
			ds.set(i, policy.Keep, 0, 0, "not in the plan: pushed, or first seen, since it was made")
		case it.Action == policy.Keep:
			ds.set(i, policy.Keep, it.RulePriority, 0, it.Reason)
		default:
			ds.set(i, it.Action, it.RulePriority, 0, it.Reason)
			if tag := newTag(l.Tags(i), it.Tags); tag != "" {
				ds.set(i, policy.Keep, it.RulePriority, 0,
					fmt.Sprintf("tagged %q since the plan was made; the plan would otherwise %s it", tag, verb(it.Action)))
			}
		}
	}
	for i, why := range opts.Safety.protect(l, g, now) {
		if ds.action(i) == policy.Keep {
			continue
		}
		ds.set(i, policy.Keep, ds.rule(i), ds.cause(i),
			why+"; rule "+strconv.Itoa(ds.rule(i))+" would otherwise "+verb(ds.action(i))+" it")
	}
	hold(l, g, ds)
	return assemble(inv, ds, slices.Clone(p.Rules), now, price, opts.Safety)
}

// newTag returns a tag of now that was not among was, or "".
func newTag(now, was []string) string {
	for _, t := range now {
		if !slices.Contains(was, t) {
			return t
		}
	}
	return ""
}
