package plan

import (
	"cmp"
	"slices"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// RuleTotal is what a plan removes or archives under one rule: how many images, and the
// bytes that only those images hold (blobs shared with anything else are not counted).
type RuleTotal struct {
	RulePriority int
	Description  string
	Action       policy.Verdict
	Images       int
	Bytes        int64
}

// Totals sums p's targets per rule and action, in rule order; inv is the inventory p was
// made from. Targets that no rule acts on directly (the children and referrers that go
// with an expired image) count under the rule of the image they go with.
func Totals(p *Plan, inv *inventory.Inventory) []RuleTotal {
	type key struct {
		rule   int
		action policy.Verdict
	}
	l := inv.List()
	at := make(map[string]int, l.Len())
	for i := range l.Len() {
		at[l.Digest(i)] = i
	}
	members := map[key][]bool{}
	totals := map[key]*RuleTotal{}
	for _, it := range p.Items() {
		if it.Action != policy.Expire && it.Action != policy.Transition {
			continue
		}
		k := key{it.RulePriority, it.Action}
		t := totals[k]
		if t == nil {
			t = &RuleTotal{RulePriority: it.RulePriority, Action: it.Action}
			for _, r := range p.Rules {
				if r.RulePriority == it.RulePriority {
					t.Description = r.Description
				}
			}
			totals[k] = t
			members[k] = make([]bool, l.Len())
		}
		t.Images++
		if i, ok := at[it.Digest]; ok {
			members[k][i] = true
		}
	}
	sz := l.Storage()
	out := make([]RuleTotal, 0, len(totals))
	for k, t := range totals {
		if k.action == policy.Expire {
			t.Bytes = sz.Only(members[k])
		} else {
			t.Bytes = sz.Of(members[k])
		}
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b RuleTotal) int {
		if c := cmp.Compare(a.RulePriority, b.RulePriority); c != 0 {
			return c
		}
		return cmp.Compare(a.Action, b.Action)
	})
	return out
}
