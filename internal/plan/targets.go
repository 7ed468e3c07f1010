package plan

import (
	"fmt"
	"io"
	"strconv"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// maxListed bounds the images listed before an apply: enough to recognise the plan.
const maxListed = 10

// WriteTargets shows what a plan removes: per rule, counts and bytes; then the first
// images, with their tags.
func WriteTargets(w io.Writer, ref string, pl *Plan, inv *inventory.Inventory) {
	fmt.Fprintf(w, "Plan for %s: delete %d of %d manifests, reclaiming %s", ref, pl.Summary.Expire, pl.Summary.Images, report.Bytes(pl.Summary.ReclaimedBytes))
	if pl.Summary.Transition > 0 {
		fmt.Fprintf(w, "; archive %d", pl.Summary.Transition)
	}
	fmt.Fprintln(w)
	for _, t := range Totals(pl, inv) {
		what := "rule " + strconv.Itoa(t.RulePriority)
		if t.RulePriority == 0 {
			what = "safety layer"
		}
		if t.Description != "" {
			what += " (" + t.Description + ")"
		}
		fmt.Fprintf(w, "  %-40s %s %d, %s\n", what, verbOf(t.Action), t.Images, report.Bytes(t.Bytes))
	}
	listed := 0
	for _, it := range pl.Items() {
		if it.Action != policy.Expire && it.Action != policy.Transition {
			continue
		}
		if listed == maxListed {
			fmt.Fprintf(w, "  … and %d more (shipshape plan lists them all)\n", pl.Summary.Expire+pl.Summary.Transition-maxListed)
			break
		}
		fmt.Fprintf(w, "  %-8s %s%s\n", verbOf(it.Action), inventory.ShortDigest(it.Digest), report.TagList(it.Tags))
		listed++
	}
}

// WriteRecheckChanges lists the targets of a saved plan that the re-check keeps, and
// those already gone.
func WriteRecheckChanges(w io.Writer, saved *Saved, pl *Plan) {
	items := pl.Items()
	now := make(map[string]*Item, len(items))
	for i := range items {
		now[items[i].Digest] = &items[i]
	}
	gone, kept := 0, 0
	for _, it := range saved.Plan.Images {
		if it.Action != policy.Expire && it.Action != policy.Transition {
			continue
		}
		cur, ok := now[it.Digest]
		switch {
		case !ok:
			gone++
		case cur.Action == policy.Keep:
			kept++
			fmt.Fprintf(w, "kept now  %s%s: %s\n", inventory.ShortDigest(it.Digest), report.TagList(it.Tags), cur.Reason)
		}
	}
	if gone+kept > 0 {
		fmt.Fprintf(w, "re-check: %d of the plan's targets are kept now, %d are already gone\n", kept, gone)
	}
}

func verbOf(v policy.Verdict) string {
	if v == policy.Transition {
		return "archive"
	}
	return "delete"
}
