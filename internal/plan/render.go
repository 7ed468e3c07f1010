package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// WriteJSON writes the plan as indented JSON, the stable form for scripts. It writes the
// same document json.MarshalIndent would, image by image, so that a plan of a million
// images streams out without being built in memory: the items of a compact plan (see
// Build) are written straight from its inventory.
func WriteJSON(w io.Writer, p *Plan) error {
	return writeJSON(w, p, true)
}

// WriteJSONSummary writes the plan's JSON without its "images": the same object as
// WriteJSON, key for key and in the same order, less that one key. It holds repository,
// now, blocked and unreadable (when blocked), summary, rules, warnings, refusal and
// ecrPreview (each when set), for scripts that need the figures of a plan but not its
// 100,000 images.
func WriteJSONSummary(w io.Writer, p *Plan) error {
	return writeJSON(w, p, false)
}

// writeJSON writes the plan as WriteJSON does, leaving out "images" unless images.
func writeJSON(w io.Writer, p *Plan, images bool) error {
	head := struct {
		Repository string                 `json:"repository"`
		Now        time.Time              `json:"now"`
		Blocked    string                 `json:"blocked,omitempty"`
		Unreadable []inventory.Unreadable `json:"unreadable,omitempty"`
		Summary    Summary                `json:"summary"`
		Rules      []Rule                 `json:"rules"`
	}{p.Repository, p.Now, p.Blocked, p.Unreadable, p.Summary, p.Rules}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(head); err != nil {
		return err
	}
	// Reopen the object (drop "\n}\n"), copying: buf is reused below.
	b := append(make([]byte, 0, flushSize+64<<10), buf.Bytes()[:buf.Len()-3]...)
	if images {
		b = append(b, ",\n  \"images\": ["...)
		n := len(p.Images)
		var scratch []byte
		if p.items != nil {
			n = len(p.items.order)
		}
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			if p.items != nil {
				b, scratch = p.items.appendItem(b, scratch, int(p.items.order[i]))
			} else {
				b = appendItem(b, &p.Images[i])
			}
			if len(b) > flushSize {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		if n > 0 {
			b = append(b, "\n  "...)
		}
		b = append(b, ']')
	}
	if len(p.Warnings) > 0 {
		buf.Reset()
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(p.Warnings); err != nil {
			return err
		}
		b = append(b, ",\n  \"warnings\": "...)
		b = append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	if p.Refusal != "" {
		b = append(b, ",\n  \"refusal\": "...)
		b = appendString(b, p.Refusal)
	}
	if p.ECRPreview != nil {
		buf.Reset()
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(p.ECRPreview); err != nil {
			return err
		}
		b = append(b, ",\n  \"ecrPreview\": "...)
		b = append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	b = append(b, "\n}\n"...)
	_, err := w.Write(b)
	return err
}

// flushSize is how much JSON writeJSON gathers before it writes: enough that writes are
// few, little next to a plan of many images.
const flushSize = 32 << 10

// appendItem appends one image of the plan as the indented JSON object encoding/json
// would produce for Item.
func appendItem(b []byte, it *Item) []byte {
	return appendItemJSON(b, it.Digest, it.Tags, it.PushedAt, it.StorageClass, it.Action, it.RulePriority, it.Reason, it.SizeBytes, it.MediaType)
}

// appendItem appends the item of image i as appendItem does, without building the Item:
// its digest and reason are written to scratch, which it returns for the next item.
func (x *items) appendItem(b, scratch []byte, i int) ([]byte, []byte) {
	l := x.images
	var pushed *time.Time
	if t := l.PushedAt(i); !t.IsZero() {
		t = t.UTC()
		pushed = &t
	}
	scratch = l.AppendDigest(scratch[:0], i)
	digest := len(scratch)
	scratch = x.ds.appendReason(scratch, i)
	b = appendItemJSON(b, scratch[:digest], l.Tags(i), pushed, storageClass(l, i), x.ds.action(i), x.ds.rule(i),
		scratch[digest:], l.SizeBytes(i), l.MediaType(i))
	return b, scratch
}

// appendItemJSON appends an item of the plan, given by its fields, as appendItem does.
func appendItemJSON[S string | []byte](b []byte, digest S, tags []string, pushedAt *time.Time, storageClass string,
	action policy.Verdict, rulePriority int, reason S, sizeBytes int64, mediaType string) []byte {
	b = append(b, "\n    {\n      \"digest\": "...)
	b = appendString(b, digest)
	b = append(b, ",\n      \"tags\": ["...)
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n        "...)
		b = appendString(b, t)
	}
	if len(tags) > 0 {
		b = append(b, "\n      "...)
	}
	b = append(b, ']')
	if pushedAt != nil {
		b = append(b, ",\n      \"pushedAt\": \""...)
		b = pushedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, ",\n      \"storageClass\": "...)
	b = appendString(b, storageClass)
	b = append(b, ",\n      \"action\": "...)
	b = appendString(b, string(action))
	if rulePriority != 0 {
		b = append(b, ",\n      \"rulePriority\": "...)
		b = strconv.AppendInt(b, int64(rulePriority), 10)
	}
	b = append(b, ",\n      \"reason\": "...)
	b = appendString(b, reason)
	if sizeBytes != 0 {
		b = append(b, ",\n      \"sizeBytes\": "...)
		b = strconv.AppendInt(b, sizeBytes, 10)
	}
	if mediaType != "" {
		b = append(b, ",\n      \"mediaType\": "...)
		b = appendString(b, mediaType)
	}
	return append(b, "\n    }"...)
}

// appendString appends s, a string or its bytes, as a JSON string, escaped as
// encoding/json escapes it without HTML escaping.
func appendString[S string | []byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeRune is utf8.DecodeRune for a string or its bytes.
func decodeRune[S string | []byte](s S) (rune, int) {
	switch s := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(s)
	case []byte:
		return utf8.DecodeRune(s)
	}
	panic("unreachable")
}

// ANSI colours of the same length, so that coloured cells stay aligned.
const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	green  = "\x1b[32m"
	reset  = "\x1b[0m"
)

// View chooses how much of a plan the table and Markdown forms show. The zero value shows
// the rules, the images the plan expires or transitions, and the summary.
type View struct {
	// ShowKept also lists the images the plan keeps, after those it changes.
	ShowKept bool
	// SummaryOnly shows the headline figures alone: the counts, what the plan reclaims and
	// moves to archive, its warnings, and why it is blocked or refused. It overrides
	// ShowKept. In JSON it leaves out "images" (see WriteJSONSummary).
	SummaryOnly bool
}

// WriteTable writes the plan for people: the rules, the images the plan expires or
// transitions, then a summary. Kept images are counted in one line, or listed after the
// changes with view.ShowKept; view.SummaryOnly writes the summary alone. With color, actions
// are coloured.
func WriteTable(w io.Writer, p *Plan, color bool, view View) error {
	ew := &report.Writer{W: w}
	if view.SummaryOnly {
		writeTableBlocked(ew, p)
		writeTableFigures(ew, p)
		if c := p.ECRPreview; c != nil {
			fmt.Fprintf(ew, "%s.\n", c)
		}
		return ew.Err
	}
	fmt.Fprintf(ew, "Plan for %s at %s\n\n", report.Repository(p.Repository), p.Now.Format(time.RFC3339))
	if p.Blocked != "" {
		writeTableBlocked(ew, p)
		fmt.Fprintln(ew)
	}

	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tIDENTIFIED\tSELECTED\tACTS ON\tBLOCKED\tWHAT")
	for _, r := range p.Rules {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\n", r.RulePriority, r.Identified, r.Selected, r.Acted, r.Blocked, ruleText(r))
	}
	tw.Flush()
	fmt.Fprintln(ew)

	items := p.Items()
	changes, kept := countChanges(items)
	if changes == 0 {
		fmt.Fprintln(ew, "Nothing to expire or transition.")
	} else {
		writeTableItems(ew, items, true, color)
	}
	switch {
	case kept == 0:
	case view.ShowKept:
		fmt.Fprintln(ew)
		writeTableItems(ew, items, false, color)
	case kept == 1:
		fmt.Fprintln(ew, "1 kept image not shown; --show-kept lists it")
	default:
		fmt.Fprintf(ew, "%s kept images not shown; --show-kept lists them\n", report.Thousands(kept))
	}
	fmt.Fprintln(ew)

	writeTableFigures(ew, p)
	if c := p.ECRPreview; c != nil {
		fmt.Fprintf(ew, "\n%s.\n", c)
		if len(c.Differences) > 0 {
			tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DIGEST\tTAGS\tECR\tSHIPSHAPE\tSHIPSHAPE'S REASON")
			for _, d := range c.Differences {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", inventory.ShortDigest(d.Digest), tagText(d.Tags, 3),
					verdictText(d.Registry, d.RegistryRule), verdictText(d.Shipshape, d.ShipshapeRule), d.ShipshapeReason)
			}
			tw.Flush()
		}
	}
	return ew.Err
}

// writeTableBlocked says why a blocked plan changes nothing, naming each unreadable manifest.
func writeTableBlocked(w io.Writer, p *Plan) {
	if p.Blocked == "" {
		return
	}
	fmt.Fprintf(w, "BLOCKED: %s.\n", p.Blocked)
	for _, u := range p.Unreadable {
		fmt.Fprintf(w, "  %s  %s  %s\n", inventory.ShortDigest(u.Digest), tagText(u.Tags, 3), u.Reason)
	}
}

// writeTableItems writes a table of the images the plan changes (expires or transitions),
// or of those it keeps, in plan order.
func writeTableItems(w io.Writer, items []Item, changes, color bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tRULE\tDIGEST\tTAGS\tPUSHED\tSIZE\tREASON")
	for _, it := range items {
		if isChange(it.Action) != changes {
			continue
		}
		action := string(it.Action)
		if color {
			action = colorOf(it.Action) + fmt.Sprintf("%-10s", action) + reset
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", action, rulePriority(it.RulePriority),
			inventory.ShortDigest(it.Digest), tagText(it.Tags, 3), pushedText(it.PushedAt, "2006-01-02 15:04"),
			sizeText(it), it.Reason)
	}
	tw.Flush()
}

// writeTableFigures writes the plan's headline figures, warnings and refusal.
func writeTableFigures(w io.Writer, p *Plan) {
	s := p.Summary
	fmt.Fprintf(w, "Summary: %s images: %s expire, %s transition, %s keep\n",
		report.Thousands(s.Images), report.Thousands(s.Expire), report.Thousands(s.Transition), report.Thousands(s.Keep))
	fmt.Fprintf(w, "Reclaims %s of %s stored%s, saving $%.2f a month at $%.2f per GB-month.\n",
		report.Bytes(s.ReclaimedBytes), report.Bytes(s.StoredBytes), report.Percent(s.ReclaimedBytes, s.StoredBytes), s.MonthlySavingsUSD, s.PricePerGBMonth)
	if s.Transition > 0 {
		fmt.Fprintf(w, "Moves %s to archive storage (%s).\n", report.Bytes(s.TransitionedBytes), archiveCaveat)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if p.Refusal != "" {
		fmt.Fprintf(w, "refused: %s\n", p.Refusal)
	}
}

// archiveCaveat is what a reader of a plan that transitions images needs to know.
const archiveCaveat = "archived images cannot be pulled until restored, and are billed for at least 90 days"

// isChange reports whether an image with action leaves standard storage: it expires or
// moves to archive.
func isChange(action policy.Verdict) bool {
	return action == policy.Expire || action == policy.Transition
}

// countChanges counts the items a plan expires or transitions, and those it keeps.
func countChanges(items []Item) (changes, kept int) {
	for i := range items {
		if isChange(items[i].Action) {
			changes++
		}
	}
	return changes, len(items) - changes
}

func verdictText(v policy.Verdict, rule int) string {
	if rule == 0 {
		return string(v)
	}
	return fmt.Sprintf("%s (rule %d)", v, rule)
}

func colorOf(v policy.Verdict) string {
	switch v {
	case policy.Expire:
		return red
	case policy.Transition:
		return yellow
	}
	return green
}

func ruleText(r Rule) string {
	if r.Description == "" {
		return r.Summary
	}
	return r.Description + " (" + r.Summary + ")"
}

func rulePriority(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func tagText(tags []string, max int) string {
	switch {
	case len(tags) == 0:
		return "<untagged>"
	case len(tags) > max:
		return strings.Join(tags[:max], ",") + fmt.Sprintf(",+%d", len(tags)-max)
	}
	return strings.Join(tags, ",")
}

func pushedText(t *time.Time, layout string) string {
	if t == nil {
		return "unknown"
	}
	return t.Format(layout)
}

func sizeText(it Item) string {
	if it.SizeBytes == 0 {
		return "-"
	}
	return report.Bytes(it.SizeBytes)
}

// Write writes the plan in format: report.Table (coloured when color), report.JSON or
// report.Markdown, showing what view asks for. JSON holds every image whatever
// view.ShowKept says; with view.SummaryOnly it is WriteJSONSummary's document.
func Write(w io.Writer, p *Plan, format string, color bool, view View) error {
	switch format {
	case report.JSON:
		if view.SummaryOnly {
			return WriteJSONSummary(w, p)
		}
		return WriteJSON(w, p)
	case report.Markdown:
		return WriteMarkdown(w, p, view)
	}
	return WriteTable(w, p, color, view)
}

// WriteUnreadable writes one line per manifest that could not be read: its digest, tags and
// why.
func WriteUnreadable(w io.Writer, us []inventory.Unreadable) {
	for _, u := range us {
		fmt.Fprintf(w, "unreadable: %s%s: %s\n", u.Digest, report.TagList(u.Tags), u.Reason)
	}
}
