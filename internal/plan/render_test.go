package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// awkwardPlan is a plan of awkward values: quotes, HTML, control characters, invalid UTF-8.
func awkwardPlan() *Plan {
	pushed := time.Date(2026, 5, 1, 10, 0, 0, 123000000, time.UTC)
	return &Plan{
		Repository: "ghcr.io/acme/app",
		Now:        time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Blocked:    "1 manifest could not be read <quoted \"here\">",
		Unreadable: []inventory.Unreadable{{Digest: "sha256:u", Tags: []string{"prod"}, Reason: "GET answers 404 although HEAD answers 200"}, {Digest: "sha256:v", Reason: "r"}},
		Summary:    Summary{Images: 3, Expire: 1, Keep: 2, ReclaimedBytes: 1 << 30, MonthlySavingsUSD: 0.1, PricePerGBMonth: 0.1},
		Rules:      []Rule{{RulePriority: 1, Description: "quote \" and <tag>", Summary: "s", Identified: 3}},
		Images: []Item{
			{Digest: "sha256:a", Tags: []string{"v1", "ünïcode", "ctl\x01\t\n\"\\", "bad\xffutf8", "sep\u2028"}, PushedAt: &pushed,
				StorageClass: "standard", Action: policy.Expire, RulePriority: 1, Reason: "<b>&amp;</b>", SizeBytes: 42, MediaType: "m"},
			{Digest: "sha256:b", Tags: []string{}, StorageClass: "archive", Action: policy.Keep, Reason: "r"},
		},
		Warnings: []string{"w1", "w2"},
		Refusal:  "too \"much\"",
		ECRPreview: &Comparison{Agree: 1, Differences: []Difference{{Digest: "sha256:c", Tags: []string{}, Registry: policy.Expire,
			RegistryRule: 2, Shipshape: policy.Keep, ShipshapeReason: "<kept>"}}},
	}
}

// TestWriteJSONMatchesEncodingJSON checks the streaming writer against encoding/json on
// awkward values, so the two stay byte-for-byte identical.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for name, pl := range map[string]*Plan{"full": awkwardPlan(), "empty": {Rules: []Rule{}, Images: []Item{}}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(pl); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteJSON(&got, pl); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("%s: WriteJSON() mismatch (-encoding/json +WriteJSON):\n%s", name, diff)
		}
	}
}

// TestWriteJSONSummary checks that the summary-only JSON is the full JSON less its
// "images", and that only SummaryOnly changes what Write writes as JSON.
func TestWriteJSONSummary(t *testing.T) {
	t.Parallel()
	for name, pl := range map[string]*Plan{"full": awkwardPlan(), "empty": {Rules: []Rule{}, Images: []Item{}}} {
		var full, summary bytes.Buffer
		if err := WriteJSON(&full, pl); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSONSummary(&summary, pl); err != nil {
			t.Fatal(err)
		}
		// Cut the images out of the full document by hand: from the comma before the key
		// to the closing bracket at the same indentation.
		f := full.String()
		start := strings.Index(f, ",\n  \"images\": [")
		end := start + strings.Index(f[start:], "[]") + len("[]")
		if len(pl.Images) > 0 {
			end = start + strings.Index(f[start:], "\n  ]") + len("\n  ]")
		}
		want := f[:start] + f[end:]
		if diff := cmp.Diff(want, summary.String()); diff != "" {
			t.Errorf("%s: WriteJSONSummary() is not WriteJSON() less images (-want +got):\n%s", name, diff)
		}
		var doc map[string]any
		if err := json.Unmarshal(summary.Bytes(), &doc); err != nil {
			t.Fatalf("%s: WriteJSONSummary() is not JSON: %v\n%s", name, err, summary.String())
		}
		if _, ok := doc["images"]; ok {
			t.Errorf("%s: WriteJSONSummary() has images", name)
		}
		for _, key := range []string{"repository", "now", "summary", "rules"} {
			if _, ok := doc[key]; !ok {
				t.Errorf("%s: WriteJSONSummary() lacks %q", name, key)
			}
		}

		for view, want := range map[View]string{{}: f, {ShowKept: true}: f, {SummaryOnly: true}: summary.String(), {ShowKept: true, SummaryOnly: true}: summary.String()} {
			var got bytes.Buffer
			if err := Write(&got, pl, report.JSON, true, view); err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("%s: Write(json, %+v) differs from what it should write", name, view)
			}
		}
	}
}

// TestWriteBlocked checks that a blocked plan says so first, naming what could not be read.
func TestWriteBlocked(t *testing.T) {
	t.Parallel()
	p := &Plan{
		Repository: "ghcr.io/acme/app",
		Now:        time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Blocked:    "1 manifest could not be read",
		Unreadable: []inventory.Unreadable{{Digest: "sha256:0123456789abcdef", Tags: []string{"prod"}, Reason: "GET answers 404 although HEAD answers 200"}},
		Rules:      []Rule{},
		Images:     []Item{{Digest: "sha256:a", Tags: []string{}, Action: policy.Keep, Reason: "kept"}},
	}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table":                  func(b *bytes.Buffer) error { return WriteTable(b, p, false, View{}) },
		"table, summary only":    func(b *bytes.Buffer) error { return WriteTable(b, p, false, View{SummaryOnly: true}) },
		"markdown":               func(b *bytes.Buffer) error { return WriteMarkdown(b, p, View{}) },
		"markdown, summary only": func(b *bytes.Buffer) error { return WriteMarkdown(b, p, View{SummaryOnly: true}) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(b.String(), "\n")
		head := strings.Join(lines[:min(len(lines), 6)], "\n")
		for _, want := range []string{"1 manifest could not be read", "sha256:0123456789ab", "prod", "GET answers 404 although HEAD answers 200"} {
			if !strings.Contains(head, want) {
				t.Errorf("%s: the first lines do not say %q:\n%s", name, want, head)
			}
		}
		if !strings.Contains(strings.ToLower(head), "blocked") {
			t.Errorf("%s: the first lines do not say the plan is blocked:\n%s", name, head)
		}
	}
}

// smallPlan is a plan of six images: two expire, one moves to archive, three are kept.
func smallPlan() *Plan {
	at := func(day int) *time.Time {
		t := time.Date(2026, 5, day, 10, 0, 0, 0, time.UTC)
		return &t
	}
	return &Plan{
		Repository: "ghcr.io/acme/app",
		Now:        time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Summary: Summary{Images: 6, Expire: 2, Transition: 1, Keep: 3, StoredBytes: 4 << 30, ReclaimedBytes: 1 << 30,
			TransitionedBytes: 512 << 20, MonthlySavingsUSD: 0.1, PricePerGBMonth: 0.1},
		Rules: []Rule{
			{RulePriority: 1, Description: "Archive releases", Summary: "archives images with a tag starting with \"v\" pushed more than 20 days ago", Identified: 2, Selected: 1, Acted: 1},
			{RulePriority: 2, Summary: "expires untagged images pushed more than 1 day ago", Identified: 3, Selected: 2, Acted: 2},
		},
		Images: []Item{
			{Digest: "sha256:1111111111111111", Tags: []string{"latest", "main"}, PushedAt: at(31), StorageClass: "standard", Action: policy.Keep, Reason: "no rule selects it"},
			{Digest: "sha256:2222222222222222", Tags: []string{}, PushedAt: at(20), StorageClass: "standard", Action: policy.Expire, RulePriority: 2,
				Reason: "rule 2 expires untagged images pushed more than 1 day ago; pushed 12 days ago", SizeBytes: 300 << 20},
			{Digest: "sha256:3333333333333333", Tags: []string{"v1.1"}, PushedAt: at(10), StorageClass: "standard", Action: policy.Keep, RulePriority: 1,
				Reason: "protected by --protect-tag v1.*; rule 1 would otherwise archive it"},
			{Digest: "sha256:4444444444444444", Tags: []string{"v1.0", "stable", "lts", "old"}, PushedAt: at(2), StorageClass: "standard", Action: policy.Transition, RulePriority: 1,
				Reason: "rule 1 archives images with a tag starting with \"v\" pushed more than 20 days ago; pushed 30 days ago", SizeBytes: 512 << 20},
			{Digest: "sha256:5555555555555555", Tags: []string{}, PushedAt: at(1), StorageClass: "standard", Action: policy.Expire, RulePriority: 2,
				Reason: "a | b <c>", SizeBytes: 724 << 20},
			{Digest: "sha256:6666666666666666", Tags: []string{}, StorageClass: "archive", Action: policy.Keep, Reason: "already archived"},
		},
		Warnings: []string{"1 index has no list of children"},
		Refusal:  "the plan expires 33% of the images, over --max-delete-percent 10",
		ECRPreview: &Comparison{Agree: 5, Differences: []Difference{{Digest: "sha256:5555555555555555", Tags: []string{}, Registry: policy.Keep,
			Shipshape: policy.Expire, ShipshapeRule: 2, ShipshapeReason: "a | b <c>"}}},
	}
}

// views are the views the tests render, by the name of their golden files.
var views = []struct {
	name string
	view View
}{{"default", View{}}, {"show-kept", View{ShowKept: true}}, {"summary-only", View{SummaryOnly: true}}}

// TestWriteGolden renders a small plan with every action, a warning, a refusal and an ECR
// preview difference in each view, as a table and as Markdown, and compares them with
// golden files: rules, then the changes, then the summary; kept images only with ShowKept.
func TestWriteGolden(t *testing.T) {
	t.Parallel()
	p := smallPlan()
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			for format, ext := range map[string]string{report.Table: ".txt", report.Markdown: ".md"} {
				var buf bytes.Buffer
				if err := Write(&buf, p, format, false, v.view); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, "small-"+v.name+ext, buf.String())
			}
		})
	}
}

// TestWriteNothingToChange checks the table and Markdown of a plan that keeps everything.
func TestWriteNothingToChange(t *testing.T) {
	t.Parallel()
	p := &Plan{Repository: "r", Rules: []Rule{}, Images: []Item{{Digest: "sha256:a", Tags: []string{}, Action: policy.Keep, Reason: "kept"}},
		Summary: Summary{Images: 1, Keep: 1}}
	var table, md bytes.Buffer
	if err := WriteTable(&table, p, false, View{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, p, View{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nNothing to expire or transition.\n1 kept image not shown; --show-kept lists it\n\nSummary: "} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("WriteTable() lacks %q:\n%s", want, table.String())
		}
	}
	if !strings.HasSuffix(md.String(), "\n\nNothing to expire or transition.\n") || strings.Contains(md.String(), "sha256:a") {
		t.Errorf("WriteMarkdown() does not end saying nothing changes, or lists the kept image:\n%s", md.String())
	}
}

// examplePlan plans n images made by synth.Large under the example policy.
func examplePlan(t *testing.T, n int) *Plan {
	t.Helper()
	text, err := os.ReadFile("../../examples/policies/keep-streams.json")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(text)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	p := Build(pol, synth.Large(n, 1, now), now, Options{})
	if p.Summary.Keep == 0 || p.Summary.Expire < 1000 {
		t.Fatalf("the plan of %d images expires %d and keeps %d: too few of either to test with", n, p.Summary.Expire, p.Summary.Keep)
	}
	return p
}

// rowsOf counts the lines of out that start with one of the prefixes.
func rowsOf(out string, prefixes ...string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				n++
				break
			}
		}
	}
	return n
}

// TestWriteTableViews checks on 6,000 images that the table lists the rules, then what
// changes, then the summary; that kept images are counted in one line unless ShowKept lists
// them after the changes; and that SummaryOnly is the summary alone.
func TestWriteTableViews(t *testing.T) {
	t.Parallel()
	p := examplePlan(t, 6_000)
	s := p.Summary
	render := func(view View) string {
		var buf bytes.Buffer
		if err := WriteTable(&buf, p, false, view); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	def, kept, summary := render(View{}), render(View{ShowKept: true}), render(View{SummaryOnly: true})

	if got, want := rowsOf(def, "expire ", "transition "), s.Expire+s.Transition; got != want {
		t.Errorf("the table lists %d changes, want %d", got, want)
	}
	if got := rowsOf(def, "keep "); got != 0 {
		t.Errorf("the table lists %d kept images, want none without ShowKept", got)
	}
	hidden := fmt.Sprintf("\n%s kept images not shown; --show-kept lists them\n", report.Thousands(s.Keep))
	inOrder(t, "table", def, "\nRULE ", "\nexpire ", hidden, "\nSummary: ")

	if got := rowsOf(kept, "keep "); got != s.Keep {
		t.Errorf("the table with ShowKept lists %d kept images, want %d", got, s.Keep)
	}
	if strings.Contains(kept, "not shown") {
		t.Errorf("the table with ShowKept says kept images are not shown")
	}
	lastChange := strings.LastIndex(kept, "\nexpire ")
	inOrder(t, "table with ShowKept", kept[lastChange:], "\nexpire ", "\nkeep ", "\nSummary: ")

	if !strings.HasPrefix(summary, "Summary: ") || !strings.HasSuffix(def, "\n\n"+summary) {
		t.Errorf("the table with SummaryOnly is not the table's closing summary:\n%s", summary)
	}
	if n := strings.Count(summary, "\n"); n != 2 {
		t.Errorf("the table with SummaryOnly has %d lines, want the 2 of the summary:\n%s", n, summary)
	}
}

// inOrder fails unless out holds each of parts, in that order.
func inOrder(t *testing.T, name, out string, parts ...string) {
	t.Helper()
	at := 0
	for _, part := range parts {
		i := strings.Index(out[at:], part)
		if i < 0 {
			t.Errorf("%s: %q is missing, or comes before %q", name, part, parts[0])
			return
		}
		at += i + len(part)
	}
}

// checkDetails fails unless every <details> of out is closed before the next opens.
func checkDetails(t *testing.T, name, out string) {
	t.Helper()
	open := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "<details>"):
			if open {
				t.Errorf("%s: <details> opens inside another", name)
			}
			open = true
		case line == "</details>":
			if !open {
				t.Errorf("%s: </details> closes nothing", name)
			}
			open = false
		}
	}
	if open {
		t.Errorf("%s: <details> is never closed", name)
	}
	if o, c := strings.Count(out, "<details>"), strings.Count(out, "</details>"); o != c {
		t.Errorf("%s: %d <details> and %d </details>", name, o, c)
	}
}

// TestWriteMarkdownFitsJobSummary checks that the Markdown of 6,000 and 100,000 images
// stays under GitHub's 1 MiB job-summary limit, shows markdownOpenRows changes and folds
// the rest, says how many it leaves out, and lists the kept images only with ShowKept.
func TestWriteMarkdownFitsJobSummary(t *testing.T) {
	t.Parallel()
	for _, n := range []int{6_000, 100_000} {
		t.Run(report.Thousands(n), func(t *testing.T) {
			t.Parallel()
			p := examplePlan(t, n)
			s := p.Summary
			render := func(view View) string {
				var buf bytes.Buffer
				if err := WriteMarkdown(&buf, p, view); err != nil {
					t.Fatal(err)
				}
				return buf.String()
			}
			def, kept, summary := render(View{}), render(View{ShowKept: true}), render(View{SummaryOnly: true})
			t.Logf("%d images: Markdown %d bytes, %d with ShowKept, %d with SummaryOnly", n, len(def), len(kept), len(summary))

			for name, out := range map[string]string{"default": def, "ShowKept": kept, "SummaryOnly": summary} {
				if len(out) >= markdownLimit {
					t.Errorf("%s: WriteMarkdown() wrote %d bytes, want under %d", name, len(out), markdownLimit)
				}
				checkDetails(t, name, out)
			}

			changes := rowsOf(def, "| expire |", "| transition |")
			if changes <= markdownOpenRows || changes >= s.Expire+s.Transition {
				t.Fatalf("the Markdown lists %d of %d changes, want more than %d and not all", changes, s.Expire+s.Transition, markdownOpenRows)
			}
			more := fmt.Sprintf("\n… and %s more (run shipshape plan -o json for the full list)\n", report.Thousands(s.Expire+s.Transition-changes))
			if !strings.HasSuffix(def, "\n</details>\n"+more) {
				t.Errorf("the Markdown does not end with the folded changes and %q:\n%s", more, def[max(0, len(def)-400):])
			}
			if open := strings.Index(def, "\n<details>"); rowsOf(def[:max(open, 0)], "| expire |", "| transition |") != markdownOpenRows {
				t.Errorf("the Markdown does not show %d changes before folding the rest", markdownOpenRows)
			}
			if rowsOf(def, "| keep |") != 0 {
				t.Errorf("the Markdown lists kept images without ShowKept")
			}
			inOrder(t, "Markdown", def, "### shipshape plan: ", "\n**", "\n| Rule |", "\n#### ", "\n<details><summary>", more)

			if got := rowsOf(kept, "| keep |"); got != s.Keep {
				t.Errorf("the Markdown with ShowKept lists %d kept images, want all %d", got, s.Keep)
			}
			if !strings.HasSuffix(kept, fmt.Sprintf("<details><summary>%s kept images</summary>", report.Thousands(s.Keep))+kept[strings.LastIndex(kept, "</summary>")+len("</summary>"):]) ||
				!strings.HasSuffix(kept, "\n</details>\n") {
				t.Errorf("the Markdown with ShowKept does not end with the kept images folded:\n%s", kept[max(0, len(kept)-400):])
			}

			if !strings.HasPrefix(def, summary) || strings.Contains(summary, "|") {
				t.Errorf("the Markdown with SummaryOnly is not the head of the full Markdown:\n%s", summary)
			}
		})
	}
}

// TestWriteMarkdownWorstCase fills every list of a plan with long, escaped text and checks
// that the Markdown still stays under the limit, within the budget and its closing notes.
func TestWriteMarkdownWorstCase(t *testing.T) {
	t.Parallel()
	if markdownBudget+maxMarkdownNotes*maxMarkdownNote >= markdownLimit {
		t.Fatalf("markdownBudget %d + %d notes of %d bytes reach the limit %d", markdownBudget, maxMarkdownNotes, maxMarkdownNote, markdownLimit)
	}
	long := strings.Repeat("<", 5000) // 4 bytes each once escaped
	p := &Plan{Repository: strings.Repeat("r", 5000), Blocked: long, Refusal: long}
	for i := range 200 {
		p.Unreadable = append(p.Unreadable, inventory.Unreadable{Digest: fmt.Sprintf("sha256:u%d", i), Tags: []string{long}, Reason: long})
		p.Warnings = append(p.Warnings, long)
		p.Rules = append(p.Rules, Rule{RulePriority: i + 1, Description: long, Summary: long})
	}
	p.ECRPreview = &Comparison{}
	for i := range 200 {
		p.ECRPreview.Differences = append(p.ECRPreview.Differences, Difference{Digest: fmt.Sprintf("sha256:d%d", i), Tags: []string{long}, ShipshapeReason: long})
	}
	for i := range 20_000 {
		action := policy.Expire
		if i%2 == 1 {
			action = policy.Keep
		}
		p.Images = append(p.Images, Item{Digest: fmt.Sprintf("sha256:%064d", i), Tags: []string{long, long, long, long}, Action: action, Reason: long})
	}
	for _, v := range views {
		for name, pl := range map[string]*Plan{"everything long": p, "long images": {Rules: []Rule{}, Images: p.Images}} {
			var buf bytes.Buffer
			if err := WriteMarkdown(&buf, pl, v.view); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if len(out) > markdownBudget+maxMarkdownNotes*maxMarkdownNote {
				t.Errorf("%s, %s: WriteMarkdown() wrote %d bytes, over the budget and its notes (%d)", name, v.name, len(out), markdownBudget+maxMarkdownNotes*maxMarkdownNote)
			}
			checkDetails(t, name+", "+v.name, out)
			if v.view.SummaryOnly {
				continue
			}
			if !strings.HasSuffix(out, " (run shipshape plan -o json for the full list)\n") {
				t.Errorf("%s, %s: WriteMarkdown() does not end saying it left images out:\n%s", name, v.name, out[max(0, len(out)-300):])
			}
			if strings.Contains(out, strings.Repeat("&lt;", maxCellRunes+1)) || !strings.Contains(out, strings.Repeat("&lt;", maxCellRunes)+"…") {
				t.Errorf("%s, %s: WriteMarkdown() does not cut cells at %d characters", name, v.name, maxCellRunes)
			}
		}
	}
}
