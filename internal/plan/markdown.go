package plan

import (
	"fmt"
	"io"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// Bounds of the Markdown form. GitHub rejects a step's job summary ($GITHUB_STEP_SUMMARY)
// over 1 MiB, so the lists of a large plan are cut to fit and the full list left to -o json.
const (
	// markdownLimit is GitHub's limit on one step's job summary: WriteMarkdown writes less.
	markdownLimit = 1 << 20
	// markdownBudget bounds every line WriteMarkdown writes but its closing notes ("</details>"
	// and "… and N more"). There are at most maxMarkdownNotes of those, each under
	// maxMarkdownNote bytes, so the whole stays under markdownLimit with room to spare.
	markdownBudget = 900 << 10
	// maxMarkdownNotes is how many closing notes WriteMarkdown can write: one per cut list
	// (unreadable manifests, warnings, ECR differences, rules), two for the changes and two
	// for the kept images ("</details>", then "… and N more").
	maxMarkdownNotes = 8
	// maxMarkdownNote bounds one closing note: fixed text and one count.
	maxMarkdownNote = 128
	// markdownOpenRows is how many images to expire or transition show before the rest are
	// folded into <details>.
	markdownOpenRows = 50
	// markdownListRows caps the unreadable manifests, warnings, ECR differences and rules
	// listed (ECR allows 50 rules in a policy).
	markdownListRows = 50
	// maxCellRunes caps the text of one cell, so that a long tag, reason or description
	// cannot crowd out the rows after it.
	maxCellRunes = 1000
)

// fullList is what a cut list of the Markdown points to.
const fullList = "(run shipshape plan -o json for the full list)"

// WriteMarkdown writes the plan for pull-request comments and job summaries: the headline
// figures, the warnings and refusal, ECR's preview differences, the rules, then the images
// the plan expires or transitions, the first markdownOpenRows in the open and the rest
// folded into <details>. With view.ShowKept the kept images follow, folded too, with what
// they take (up to a quarter of the budget left after the rules) held back for them.
// view.SummaryOnly writes the title, figures, warnings and refusal alone.
//
// The output is always under 1 MiB (markdownLimit): lists are capped, cells are cut at
// maxCellRunes characters, and rows stop when markdownBudget bytes are spent, with a line
// "… and N more (run shipshape plan -o json for the full list)".
func WriteMarkdown(w io.Writer, p *Plan, view View) error {
	m := &markdown{w: &report.Writer{W: w}, left: markdownBudget}
	m.head(p)
	if view.SummaryOnly {
		if c := p.ECRPreview; c != nil {
			m.put(fmt.Sprintf("\n%s.\n", c))
		}
		return m.w.Err
	}
	m.preview(p.ECRPreview)
	m.rules(p.Rules)
	items := p.Items()
	changes, kept := countChanges(items)
	held := 0
	if view.ShowKept && kept > 0 {
		held = keptBytes(items, kept, m.left/4)
	}
	m.left -= held
	m.changes(items, changes)
	m.left += held
	if view.ShowKept {
		m.kept(items, kept)
	}
	return m.w.Err
}

// keptBytes is what m.kept writes for the total kept items, or limit if that is less.
func keptBytes(items []Item, total, limit int) int {
	n := len(keptHead(total)) + len(detailsEnd)
	for i := range items {
		if n >= limit {
			return limit
		}
		if !isChange(items[i].Action) {
			n += len(itemRow(&items[i]))
		}
	}
	return min(n, limit)
}

// markdown writes Markdown within a byte budget. Every block starts with a blank line, so
// that a block left out never runs two others together.
type markdown struct {
	w *report.Writer
	// left is what remains of markdownBudget.
	left int
}

// put writes s if it fits in what is left of the budget, and reports whether it did.
func (m *markdown) put(s string) bool {
	if len(s) > m.left {
		return false
	}
	m.left -= len(s)
	io.WriteString(m.w, s)
	return true
}

// note writes s, a closing note, outside the budget; see maxMarkdownNote.
func (m *markdown) note(s string) {
	io.WriteString(m.w, s)
}

// cut writes the note for a list of total entries of which shown are in the output:
// nothing when all are, "… and N more{more}" when some are, "N {none} not shown" when none is.
func (m *markdown) cut(total, shown int, more, none string) {
	switch {
	case shown >= total:
	case shown == 0:
		m.note(fmt.Sprintf("\n%s %s not shown %s\n", report.Thousands(total), none, fullList))
	default:
		m.note(fmt.Sprintf("\n… and %s more%s %s\n", report.Thousands(total-shown), more, fullList))
	}
}

// list puts row(i) for i from 0 to n, up to limit rows and while they fit, and returns how
// many it put. The first row goes out with head (a table's header), or neither does.
func (m *markdown) list(head string, n, limit int, row func(i int) string) int {
	for i := range min(n, limit) {
		s := row(i)
		if i == 0 {
			s = head + s
		}
		if !m.put(s) {
			return i
		}
	}
	return min(n, limit)
}

// head writes the title, why the plan is blocked, the figures, the warnings and the refusal.
func (m *markdown) head(p *Plan) {
	s := p.Summary
	m.put(fmt.Sprintf("### shipshape plan: `%s`\n", report.Repository(clip(p.Repository))))
	if p.Blocked != "" {
		m.put(fmt.Sprintf("\n> [!CAUTION]\n> **Blocked**: %s.\n", cell(p.Blocked)))
		us := p.Unreadable
		n := m.list(">\n", len(us), markdownListRows, func(i int) string {
			return fmt.Sprintf("> - `%s` %s: %s\n", inventory.ShortDigest(us[i].Digest), cell(tagText(us[i].Tags, 3)), cell(us[i].Reason))
		})
		if n < len(us) {
			m.note(fmt.Sprintf(">\n> … and %s more unreadable manifests %s\n", report.Thousands(len(us)-n), fullList))
		}
	}
	m.put(fmt.Sprintf("\n**%s** to expire, **%s** to transition, **%s** to keep, of %s images at %s. "+
		"Reclaims **%s** of %s stored%s, saving **$%.2f a month** at $%.2f per GB-month.\n",
		report.Thousands(s.Expire), report.Thousands(s.Transition), report.Thousands(s.Keep), report.Thousands(s.Images), p.Now.Format(time.RFC3339),
		report.Bytes(s.ReclaimedBytes), report.Bytes(s.StoredBytes), report.Percent(s.ReclaimedBytes, s.StoredBytes), s.MonthlySavingsUSD, s.PricePerGBMonth))
	if s.Transition > 0 {
		m.put(fmt.Sprintf("\nMoves **%s** to archive storage (%s).\n", report.Bytes(s.TransitionedBytes), archiveCaveat))
	}
	n := m.list("", len(p.Warnings), markdownListRows, func(i int) string {
		return fmt.Sprintf("\n> [!WARNING]\n> %s\n", cell(p.Warnings[i]))
	})
	m.cut(len(p.Warnings), n, " warnings", "warnings")
	if p.Refusal != "" {
		m.put(fmt.Sprintf("\n> [!CAUTION]\n> Refused: %s\n", cell(p.Refusal)))
	}
}

// preview writes how ECR's preview compares, and the images on which it differs.
func (m *markdown) preview(c *Comparison) {
	if c == nil {
		return
	}
	m.put(fmt.Sprintf("\n%s.\n", c))
	ds := c.Differences
	n := m.list("\n| Digest | Tags | ECR | shipshape | shipshape's reason |\n|---|---|---|---|---|\n", len(ds), markdownListRows, func(i int) string {
		d := ds[i]
		return fmt.Sprintf("| `%s` | %s | %s | %s | %s |\n", inventory.ShortDigest(d.Digest), cell(tagText(d.Tags, 3)),
			verdictText(d.Registry, d.RegistryRule), verdictText(d.Shipshape, d.ShipshapeRule), cell(d.ShipshapeReason))
	})
	m.cut(len(ds), n, " differences", "differences")
}

// rules writes what each rule did.
func (m *markdown) rules(rs []Rule) {
	n := m.list("\n| Rule | Identified | Selected | Acts on | Blocked | What |\n|---:|---:|---:|---:|---:|---|\n", len(rs), markdownListRows, func(i int) string {
		r := rs[i]
		return fmt.Sprintf("| %d | %d | %d | %d | %d | %s |\n", r.RulePriority, r.Identified, r.Selected, r.Acted, r.Blocked, cell(ruleText(r)))
	})
	m.cut(len(rs), n, " rules", "rules")
}

const (
	itemHeader = "| Action | Rule | Digest | Tags | Pushed | Size | Reason |\n|---|---:|---|---|---|---:|---|\n"
	// detailsEnd closes a <details> block; the blank line ends the table inside it.
	detailsEnd = "\n</details>\n"
)

// changes writes the total images the plan expires or transitions: markdownOpenRows of
// them, then the rest folded into <details>, while the budget lasts.
func (m *markdown) changes(items []Item, total int) {
	if total == 0 {
		m.put("\nNothing to expire or transition.\n")
		return
	}
	what := "images"
	if total == 1 {
		what = "image"
	}
	next := 0 // the next item to look at
	shown := m.items(fmt.Sprintf("\n#### %s %s to expire or transition\n\n", report.Thousands(total), what)+itemHeader,
		items, &next, true, markdownOpenRows)
	if shown == markdownOpenRows && shown < total {
		head := fmt.Sprintf("\n<details><summary>%s more to expire or transition</summary>\n\n", report.Thousands(total-shown)) + itemHeader
		if n := m.items(head, items, &next, true, total); n > 0 {
			shown += n
			m.note(detailsEnd)
		}
	}
	m.cut(total, shown, "", "images to expire or transition")
}

// kept writes the total images the plan keeps, folded into <details>, while the budget lasts.
func (m *markdown) kept(items []Item, total int) {
	next := 0
	shown := m.items(keptHead(total), items, &next, false, total)
	if shown > 0 {
		m.note(detailsEnd)
	}
	m.cut(total, shown, " kept images", "kept images")
}

// keptHead opens the <details> block of total kept images.
func keptHead(total int) string {
	what := "images"
	if total == 1 {
		what = "image"
	}
	return fmt.Sprintf("\n<details><summary>%s kept %s</summary>\n\n", report.Thousands(total), what) + itemHeader
}

// items puts up to limit rows of the items that change (or, unless changes, are kept),
// from items[*next] on, while they fit, the first with head or neither; it returns how
// many it put and leaves *next after the last.
func (m *markdown) items(head string, items []Item, next *int, changes bool, limit int) int {
	shown := 0
	for ; *next < len(items) && shown < limit; *next++ {
		it := &items[*next]
		if isChange(it.Action) != changes {
			continue
		}
		row := itemRow(it)
		if shown == 0 {
			row = head + row
		}
		if !m.put(row) {
			break
		}
		shown++
	}
	return shown
}

// itemRow is the table row of one image.
func itemRow(it *Item) string {
	return fmt.Sprintf("| %s | %s | `%s` | %s | %s | %s | %s |\n", it.Action, rulePriority(it.RulePriority),
		inventory.ShortDigest(it.Digest), cell(tagText(it.Tags, 3)), pushedText(it.PushedAt, "2006-01-02 15:04"),
		sizeText(*it), cell(it.Reason))
}

// cell cuts s to maxCellRunes characters and escapes it for a table cell.
func cell(s string) string {
	return report.Cell(clip(s))
}

// clip cuts s to maxCellRunes characters, marking the cut with "…".
func clip(s string) string {
	if len(s) <= maxCellRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == maxCellRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
