package htmlreport_test

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/htmlreport"
)

func write(t *testing.T, d htmlreport.Document) string {
	t.Helper()
	var buf bytes.Buffer
	if err := htmlreport.Write(&buf, d); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	return buf.String()
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  htmlreport.Document
	}{
		{name: "demo.html", doc: demoDocument(24)},
		{name: "empty.html", doc: htmlreport.Document{Title: "Nothing to report", Sections: []htmlreport.Section{{
			Heading: "Empty charts",
			Figures: []htmlreport.Figure{
				htmlreport.LineChart{Title: "No points"},
				htmlreport.BarChart{Title: "No bars"},
				htmlreport.StackedBarChart{Title: "No stacks"},
				&htmlreport.Histogram{Title: "No buckets"},
			},
			Tables: []htmlreport.Table{{Caption: "No rows", Columns: []htmlreport.Column{{Name: "Repository"}}}},
		}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			golden.Check(t, tt.name, write(t, tt.doc))
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	t.Parallel()
	first := write(t, demoDocument(100))
	for range 3 {
		if again := write(t, demoDocument(100)); again != first {
			t.Fatalf("Write() gave different bytes for the same document:\n%s", cmp.Diff(first, again))
		}
	}
}

// hostile is text a registry might hand back: markup, script, event handlers, URLs,
// control characters and a bidirectional override.
const hostile = `<script>alert(1)</script>"'&<img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a>` +
	` https://evil.example/beacon.png url(https://evil.example/x) </title></text></svg>{{.}}` + "\x00\n\u202e"

// allowedTags are the only elements a report may contain: no script, link, img, iframe,
// object, SVG use/image/foreignObject, or anything else that can load or run something.
var allowedTags = []string{"html", "head", "meta", "title", "style", "body", "div", "header", "h1", "h2",
	"p", "time", "nav", "ol", "ul", "li", "a", "main", "section", "figure", "figcaption", "svg", "desc",
	"g", "text", "tspan", "line", "rect", "path", "circle", "table", "caption", "thead", "tbody", "tfoot",
	"tr", "th", "td"}

// allowedAttrs are the only attributes: no event handlers, src, style, xlink:href.
var allowedAttrs = []string{"lang", "charset", "name", "content", "http-equiv", "class", "id", "datetime",
	"href", "aria-labelledby", "aria-label", "aria-describedby", "aria-hidden", "role", "tabindex", "scope",
	"viewbox", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "width", "height", "d", "fill",
	"stroke", "stroke-width", "stroke-dasharray", "stroke-linejoin", "stroke-linecap", "text-anchor", "transform"}

var (
	tagPattern  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>`)
	attrPattern = regexp.MustCompile(`\s([^\s=/>]+)(?:="([^"]*)")?`)
)

// checkMarkup fails the test when the page has an element or attribute outside the allow
// lists, a link out of the page, or a URL in an attribute or the style sheet.
func checkMarkup(t *testing.T, page string) {
	t.Helper()
	for _, m := range tagPattern.FindAllStringSubmatch(page, -1) {
		tag := strings.ToLower(m[1])
		if !slices.Contains(allowedTags, tag) {
			t.Errorf("page has a <%s> element: %.120s", tag, m[0])
		}
		for _, a := range attrPattern.FindAllStringSubmatch(m[2], -1) {
			name, value := strings.ToLower(a[1]), a[2]
			if !slices.Contains(allowedAttrs, name) {
				t.Errorf("<%s> has attribute %s: %.120s", tag, name, m[0])
			}
			if name == "href" && !regexp.MustCompile(`^#[a-z0-9-]+$`).MatchString(value) {
				t.Errorf("link leaves the page: href=%q", value)
			}
			// aria-label is text for screen readers; any other attribute (fill, d,
			// transform …) must not hold a URL or a url() reference.
			lower := strings.ToLower(value)
			if name != "aria-label" && (strings.Contains(lower, "://") || strings.Contains(lower, "url(") || strings.Contains(lower, "javascript:")) {
				t.Errorf("<%s %s> holds a URL: %q", tag, name, value)
			}
		}
	}
	style := page[strings.Index(page, "<style>"):strings.Index(page, "</style>")]
	for _, bad := range []string{"url(", "@import", "://", "@font-face"} {
		if strings.Contains(style, bad) {
			t.Errorf("style sheet contains %q", bad)
		}
	}
}

func TestWriteEscapesUntrustedText(t *testing.T) {
	t.Parallel()
	h := hostile
	times := []time.Time{now, now.Add(24 * time.Hour)}
	doc := htmlreport.Document{
		Title: h, Subtitle: h, Generated: now,
		Sections: []htmlreport.Section{{
			Heading: h, Paragraphs: []string{h}, Notes: []string{h},
			Figures: []htmlreport.Figure{
				htmlreport.LineChart{Title: h, YLabel: h, Times: times,
					Series: []htmlreport.Series{{Name: h, Values: []float64{1, 2}}}, Markers: []htmlreport.Marker{{X: 1, Label: h}}},
				htmlreport.LineChart{Title: h, Labels: []string{h, h},
					Series: []htmlreport.Series{{Name: h, Values: []float64{1, 2}}}},
				htmlreport.BarChart{Title: h, Bars: []htmlreport.Bar{{Label: h, Value: 1, Note: h}, {Label: h + h + h, Value: 2}}},
				htmlreport.BarChart{Title: h, Horizontal: true, Bars: []htmlreport.Bar{{Label: h, Value: 1, Note: h}}},
				htmlreport.StackedBarChart{Title: h, Categories: []string{h}, Stacks: []htmlreport.Stack{{Label: h, Values: []float64{1}}}},
				htmlreport.Histogram{Title: h, YLabel: h, Buckets: []string{h}, Series: []htmlreport.Series{{Name: h, Values: []float64{1}}}},
			},
			Tables: []htmlreport.Table{{Caption: h, Columns: []htmlreport.Column{{Name: h}, {Name: h, Numeric: true}},
				Rows: [][]string{{h, h}}, Footer: []string{h, h}}},
		}},
	}
	page := write(t, doc)
	checkMarkup(t, page)
	for _, bad := range []string{"<script", "<img", "<a href=\"javascript", "\x00", "\u202e", "</svg>{{"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("page does not show the hostile text escaped")
	}
}

func TestWriteMakesNoRequests(t *testing.T) {
	t.Parallel()
	page := write(t, demoDocument(50))
	checkMarkup(t, page)
	if !strings.Contains(page, `content="default-src 'none'; style-src 'unsafe-inline'"`) {
		t.Errorf("page lacks the Content-Security-Policy that forbids loading anything")
	}
}

func TestReportSize(t *testing.T) {
	t.Parallel()
	// 500 repositories, a 90-day storage chart with three series (none and two policies),
	// every kind of figure and a table of every repository.
	const budget = 2 << 20
	size := len(write(t, demoDocument(500)))
	t.Logf("report of 500 repositories: %d bytes (%.0f%% of the 2 MiB budget)", size, float64(size)*100/budget)
	if size > budget/4 {
		t.Errorf("report of 500 repositories is %d bytes, want well under %d (a quarter: %d)", size, budget, budget/4)
	}
}

func TestWriteRejectsInconsistentDocuments(t *testing.T) {
	t.Parallel()
	section := func(f htmlreport.Figure) htmlreport.Document {
		return htmlreport.Document{Sections: []htmlreport.Section{{Heading: "S", Figures: []htmlreport.Figure{f}}}}
	}
	tests := []struct {
		name string
		doc  htmlreport.Document
		want string
	}{
		{"series too short", section(htmlreport.LineChart{Title: "L", Labels: []string{"a", "b"},
			Series: []htmlreport.Series{{Name: "s", Values: []float64{1}}}}),
			`section 1 ("S"), figure 1 ("L"): series "s" has 1 values for 2 x positions`},
		{"times and labels", section(htmlreport.LineChart{Labels: []string{"a"}, Times: []time.Time{now}}), "both Times and Labels"},
		{"times out of order", section(htmlreport.LineChart{Times: []time.Time{now, now.Add(-time.Hour)}}), "not increasing at index 1"},
		{"marker out of range", section(htmlreport.LineChart{Labels: []string{"a"}, Markers: []htmlreport.Marker{{X: 3, Label: "m"}}}), `marker "m" is at x index 3`},
		{"infinite value", section(htmlreport.LineChart{Labels: []string{"a"}, Series: []htmlreport.Series{{Name: "s", Values: []float64{math.Inf(1)}}}}), "value 1 is infinite"},
		{"negative bar", section(htmlreport.BarChart{Bars: []htmlreport.Bar{{Label: "b", Value: -1}}}), `bar 1 ("b"): value 1 is negative`},
		{"stack too short", section(htmlreport.StackedBarChart{Categories: []string{"x", "y"}, Stacks: []htmlreport.Stack{{Label: "main", Values: []float64{1}}}}),
			`stack "main" has 1 values for 2 categories`},
		{"histogram series too long", section(htmlreport.Histogram{Buckets: []string{"0–7 d"}, Series: []htmlreport.Series{{Name: "s", Values: []float64{1, 2}}}}),
			`series "s" has 2 values for 1 buckets`},
		{"nil figure", section(nil), "nil figure"},
		{"row too short", htmlreport.Document{Sections: []htmlreport.Section{{Heading: "S", Tables: []htmlreport.Table{{Caption: "T",
			Columns: []htmlreport.Column{{Name: "a"}, {Name: "b"}}, Rows: [][]string{{"1", "2"}, {"1"}}}}}}},
			`section 1 ("S"), table 1 ("T"): row 2 has 1 cells for 2 columns`},
		{"footer too long", htmlreport.Document{Sections: []htmlreport.Section{{Tables: []htmlreport.Table{{
			Columns: []htmlreport.Column{{Name: "a"}}, Footer: []string{"1", "2"}}}}}}, "footer has 2 cells for 1 columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := htmlreport.Write(&buf, tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write() = %v, want an error containing %q", err, tt.want)
			}
			if buf.Len() > 0 {
				t.Errorf("Write() wrote %d bytes before failing, want none", buf.Len())
			}
		})
	}
}

func TestTop(t *testing.T) {
	t.Parallel()
	bars := []htmlreport.Bar{{Label: "c", Value: 1}, {Label: "a", Value: 5}, {Label: "b", Value: 5}, {Label: "d", Value: math.NaN()}, {Label: "e", Value: 2}}
	tests := []struct {
		n    int
		want []htmlreport.Bar
	}{
		{n: 2, want: []htmlreport.Bar{{Label: "a", Value: 5}, {Label: "b", Value: 5}, {Label: "rest", Value: 3, Note: "3 more"}}},
		{n: 5, want: []htmlreport.Bar{{Label: "a", Value: 5}, {Label: "b", Value: 5}, {Label: "e", Value: 2}, {Label: "c", Value: 1}, {Label: "d", Value: math.NaN()}}},
	}
	for _, tt := range tests {
		got := htmlreport.Top(bars, tt.n, "rest")
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) })); diff != "" {
			t.Errorf("Top(bars, %d) (-want +got):\n%s", tt.n, diff)
		}
	}
	if bars[0].Label != "c" {
		t.Errorf("Top reordered its argument")
	}
}
