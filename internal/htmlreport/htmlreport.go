// Package htmlreport renders a report (sections of prose, charts and tables) as one
// self-contained HTML page that makes no requests: CSS and SVG are inline, there are no
// scripts, fonts or images by URL, and no link leaves the page.
//
// # Charts: hand-drawn SVG rather than gonum/plot
//
// The charts are SVG written by this package, not by gonum.org/v1/plot (v0.17.0, the
// version the module proxy serves). Measured on 2026-11-30:
//
//   - Binary size: linking gonum/plot into cmd/shipshape added 7.3 MB (64.6 → 71.9 MB) and
//     nine modules: its own fonts (Liberation), LaTeX and PDF backends, a rasteriser. This
//     package uses the standard library only and adds 0.3 MB. (It writes HTML with explicit
//     escaping rather than html/template, whose reflective method calls disable the linker's
//     dead-code elimination: with html/template the binary grew by 35 MB.)
//   - Output size: comparable. gonum's SVG of three 90-point lines is 7.8 KB; the same chart
//     here is 6.8 KB, plus 19 KB of per-day tooltips. A report of 500 repositories with
//     every kind of chart and a table of all repositories is about 150 KB.
//   - Look: gonum sets text in a fixed font ("Liberation Serif"), paints a white background
//     (wrong in a dark theme), and labels ticks with bare numbers unless given a custom
//     Ticker. Here text is <text> in the page's system font, so it stays crisp, selectable
//     and styled by CSS (light, dark, print); ticks carry units (GiB, $k); long labels are
//     shortened with an ellipsis and keep their full text as a tooltip; every chart is an
//     accessible image (role, aria-label, <title>, <desc> with a summary of the data); and
//     legends are HTML above the plot, so they wrap on narrow screens and never cover data.
//
// # Use
//
// Callers describe the report as a Document and call Write. Every string in a Document is
// plain text, escaped on output: repository names, tags and reasons come from registries and
// are untrusted. Control characters and bidirectional overrides are dropped. The output
// depends only on the Document, so that golden tests can compare it byte for byte.
//
// Series and categories take the eight colours of the Okabe–Ito palette, which stay apart
// for colour-blind readers; lines beyond eight are dashed, bars beyond eight repeat colours.
package htmlreport

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf8"
)

// Document is one report page.
type Document struct {
	Title    string
	Subtitle string // optional; shown under the title
	// Generated is when the data was gathered, shown in the header; the zero time omits it.
	Generated time.Time
	Sections  []Section
}

// Section is a headed part of the report, listed in the table of contents. Its parts appear
// in the order of the fields: paragraphs, figures, tables, notes.
type Section struct {
	Heading    string
	Paragraphs []string
	Figures    []Figure
	Tables     []Table
	Notes      []string // small print under the section: caveats, assumptions
}

// Figure is a chart: a LineChart, BarChart, StackedBarChart or Histogram, or a pointer to
// one.
type Figure interface {
	// render draws the figure; id is unique within the page. Only this package's charts
	// implement it.
	render(id string) (figure, error)
}

// figure is a drawn chart, ready for the page.
type figure struct {
	Title  string
	Legend []legendItem
	SVG    string // the <svg> element, escaped by the chart
}

type legendItem struct {
	Name   string
	Colour string
	Dash   string
	Line   bool // a line sample rather than a filled square
}

// Series is one named sequence of values; NaN marks a missing value (a gap in a line).
type Series struct {
	Name   string
	Values []float64
	// Dashed draws the series with a dashed line: a projection, or a second policy.
	Dashed bool
}

// Table is a captioned table of text cells. Long cells wrap; a table too wide for the page
// scrolls sideways inside its frame.
type Table struct {
	Caption string
	Columns []Column
	Rows    [][]string // each row has one cell per column
	Footer  []string   // optional totals row: nil, or one cell per column
}

// Column heads a table column. Numeric columns are right-aligned with tabular figures and do
// not wrap.
type Column struct {
	Name    string
	Numeric bool
}

// Write writes d as one HTML page to w. It checks the whole Document first and writes nothing
// when a chart or table is inconsistent (a series shorter than its x axis, a row with too few
// cells); the error names the section and the figure or table.
func Write(w io.Writer, d Document) error {
	p := page{Title: clean(d.Title), Subtitle: clean(d.Subtitle)}
	if !d.Generated.IsZero() {
		p.Generated = d.Generated.Format("2006-01-02 15:04 MST")
		p.GeneratedISO = d.Generated.Format(time.RFC3339)
	}
	for i, s := range d.Sections {
		ps := pageSection{ID: fmt.Sprintf("s%d", i+1), Heading: clean(s.Heading)}
		if ps.Heading == "" {
			ps.Heading = fmt.Sprintf("Section %d", i+1)
		}
		where := func(kind string, j int, title string) string {
			return fmt.Sprintf("section %d (%q), %s %d (%q)", i+1, s.Heading, kind, j+1, title)
		}
		for _, para := range s.Paragraphs {
			ps.Paragraphs = append(ps.Paragraphs, clean(para))
		}
		for j, f := range s.Figures {
			if f == nil {
				return fmt.Errorf("%s: nil figure", where("figure", j, ""))
			}
			fig, err := f.render(fmt.Sprintf("%s-f%d", ps.ID, j+1))
			if err != nil {
				return fmt.Errorf("%s: %w", where("figure", j, fig.Title), err)
			}
			for k := range fig.Legend {
				fig.Legend[k].Name = clean(fig.Legend[k].Name)
			}
			ps.Figures = append(ps.Figures, pageFigure{ID: fmt.Sprintf("%s-f%d", ps.ID, j+1), figure: fig})
		}
		for j, t := range s.Tables {
			pt, err := newPageTable(fmt.Sprintf("%s-t%d", ps.ID, j+1), t)
			if err != nil {
				return fmt.Errorf("%s: %w", where("table", j, t.Caption), err)
			}
			ps.Tables = append(ps.Tables, pt)
		}
		for _, n := range s.Notes {
			ps.Notes = append(ps.Notes, clean(n))
		}
		p.Sections = append(p.Sections, ps)
	}
	var b svgWriter
	writePage(&b, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// shortCell is the length in characters up to which a text cell does not wrap: dates, tags
// and short names stay on one line, while long cells (repository names) may wrap anywhere
// so that the table fits the page.
const shortCell = 24

func newPageTable(id string, t Table) (pageTable, error) {
	pt := pageTable{ID: id, Caption: clean(t.Caption)}
	if len(t.Columns) == 0 {
		return pt, errors.New("no columns")
	}
	for _, c := range t.Columns {
		head := pageCell{Text: clean(c.Name)}
		if c.Numeric {
			head.Class = "num"
		}
		pt.Columns = append(pt.Columns, head)
	}
	row := func(cells []string) []pageCell {
		out := make([]pageCell, len(cells))
		for k, c := range cells {
			out[k] = pageCell{Text: clean(c)}
			switch {
			case t.Columns[k].Numeric:
				out[k].Class = "num"
			case utf8.RuneCountInString(out[k].Text) <= shortCell:
				out[k].Class = "short"
			}
		}
		return out
	}
	for r, cells := range t.Rows {
		if len(cells) != len(t.Columns) {
			return pt, fmt.Errorf("row %d has %d cells for %d columns", r+1, len(cells), len(t.Columns))
		}
		pt.Rows = append(pt.Rows, row(cells))
	}
	if t.Footer != nil {
		if len(t.Footer) != len(t.Columns) {
			return pt, fmt.Errorf("footer has %d cells for %d columns", len(t.Footer), len(t.Columns))
		}
		pt.Footer = row(t.Footer)
	}
	return pt, nil
}

// checkValues returns an error naming the first infinite value, or the first negative one
// unless negative values make sense for the chart (bar lengths cannot be negative). NaN is
// allowed everywhere: it means "no data".
func checkValues(what string, vs []float64, allowNegative bool) error {
	for i, v := range vs {
		switch {
		case math.IsInf(v, 0):
			return fmt.Errorf("%s: value %d is infinite", what, i+1)
		case v < 0 && !allowNegative:
			return fmt.Errorf("%s: value %d is negative (%v)", what, i+1, v)
		}
	}
	return nil
}
