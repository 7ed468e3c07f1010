package htmlreport

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// BarChart compares one value across labelled bars: bytes by repository, cost by region.
type BarChart struct {
	Title string
	Unit  Unit
	Bars  []Bar
	// Horizontal draws one row per bar, label on the left, value on the right: the layout
	// for many bars or long labels such as repository names. Otherwise the bars stand on a
	// horizontal axis.
	Horizontal bool
}

// Bar is one bar of a BarChart. Its value must not be negative; NaN means no data.
type Bar struct {
	Label string
	Value float64
	Note  string // optional, shown after the value: "312 images"
}

// Top returns the n bars of largest value, largest first (ties by label), followed, when
// others remain, by one bar labelled rest whose value is their sum and whose note counts
// them ("480 more"). Callers use it for "top 20 repositories and the rest".
func Top(bars []Bar, n int, rest string) []Bar {
	sorted := append([]Bar(nil), bars...)
	sort.SliceStable(sorted, func(i, j int) bool {
		vi, vj := nanAsZero(sorted[i].Value), nanAsZero(sorted[j].Value)
		if vi != vj {
			return vi > vj
		}
		return sorted[i].Label < sorted[j].Label
	})
	if n < 0 {
		n = 0
	}
	if len(sorted) <= n {
		return sorted
	}
	others := Bar{Label: rest, Note: Count.Format(float64(len(sorted)-n)) + " more"}
	for _, b := range sorted[n:] {
		others.Value += nanAsZero(b.Value)
	}
	return append(sorted[:n:n], others)
}

// StackedBarChart shows bars made of parts: per tag stream, the bytes a policy expires and
// the bytes it keeps. Bars are drawn as rows, label on the left, total on the right.
type StackedBarChart struct {
	Title      string
	Unit       Unit
	Categories []string // the parts, in stacking order: the legend
	Stacks     []Stack  // the bars
}

// Stack is one bar of a StackedBarChart: one value per category, none negative.
type Stack struct {
	Label  string
	Values []float64
}

// Histogram shows how values fall into buckets (image age ranges such as "0–7 d"), one bar
// per series in each bucket.
type Histogram struct {
	Title   string
	YLabel  string // what is counted: "images"
	Unit    Unit   // of the values; Count for numbers of things
	Buckets []string
	Series  []Series // one value per bucket each, none negative
}

// Layout of bar charts, in viewBox units.
const (
	rowHeight       = 24.0
	rowBar          = 15.0
	rowAxisHeight   = 26.0
	columnPlotH     = 240.0
	maxColumnLabel  = 170.0
	columnLabelTilt = 40.0 // degrees
	// breakRatio is how many times larger than the next one a bar must be to be cut short.
	breakRatio = 3.0
	// minBarsToBreak is how many bars above zero a chart needs before its largest may be cut
	// short: with fewer, the others are not worth distorting the largest for.
	minBarsToBreak = 5
)

func (c BarChart) render(id string) (figure, error) {
	f := figure{Title: clean(c.Title)}
	for i, bar := range c.Bars {
		if err := checkValues(fmt.Sprintf("bar %d (%q)", i+1, bar.Label), []float64{bar.Value}, false); err != nil {
			return f, err
		}
	}
	var b svgWriter
	if len(c.Bars) == 0 {
		emptyChart(&b, id, f.Title, "Bar chart with no bars.")
		f.SVG = b.String()
		return f, nil
	}
	rows := make([]row, len(c.Bars))
	for i, bar := range c.Bars {
		value := c.Unit.Format(bar.Value)
		rows[i] = row{label: clean(bar.Label), values: []float64{nanAsZero(bar.Value)}, total: value, note: clean(bar.Note)}
		rows[i].tip = rows[i].label + "\n" + value
		if rows[i].note != "" {
			rows[i].tip += " · " + rows[i].note
		}
	}
	desc := describeBars("Bar chart", c.Unit, rows)
	if c.Horizontal {
		drawRows(&b, id, f.Title, desc, c.Unit, rows, []string{palette[0]})
	} else {
		raw := make([]float64, len(c.Bars))
		for i, bar := range c.Bars {
			raw[i] = bar.Value
		}
		drawColumns(&b, id, f.Title, desc, "", c.Unit, rows, [][]float64{raw}, []string{palette[0]}, true)
	}
	f.SVG = b.String()
	return f, nil
}

func (c StackedBarChart) render(id string) (figure, error) {
	f := figure{Title: clean(c.Title)}
	if len(c.Categories) == 0 && len(c.Stacks) > 0 {
		return f, errors.New("stacks but no categories")
	}
	colours := make([]string, len(c.Categories))
	for j, cat := range c.Categories {
		colours[j], _ = style(j, false)
		f.Legend = append(f.Legend, legendItem{Name: seriesName(clean(cat), j), Colour: colours[j]})
	}
	rows := make([]row, len(c.Stacks))
	for i, s := range c.Stacks {
		if len(s.Values) != len(c.Categories) {
			return f, fmt.Errorf("stack %q has %d values for %d categories", s.Label, len(s.Values), len(c.Categories))
		}
		if err := checkValues(fmt.Sprintf("stack %q", s.Label), s.Values, false); err != nil {
			return f, err
		}
		r := row{label: clean(s.Label)}
		total := 0.0
		for _, v := range s.Values {
			r.values = append(r.values, nanAsZero(v))
			total += nanAsZero(v)
		}
		r.total = c.Unit.Format(total)
		lines := []string{r.label}
		for j, v := range s.Values {
			share := ""
			if total > 0 && !math.IsNaN(v) {
				share = fmt.Sprintf(" (%.0f%%)", v/total*100)
			}
			lines = append(lines, clean(seriesName(c.Categories[j], j))+": "+c.Unit.Format(v)+share)
		}
		r.tip = strings.Join(append(lines, "Total: "+r.total), "\n")
		rows[i] = r
	}
	var b svgWriter
	if len(rows) == 0 {
		emptyChart(&b, id, f.Title, "Stacked bar chart with no bars.")
	} else {
		drawRows(&b, id, f.Title, describeBars("Stacked bar chart of "+strings.Join(cleanAll(c.Categories), ", "), c.Unit, rows), c.Unit, rows, colours)
	}
	f.SVG = b.String()
	return f, nil
}

func (c Histogram) render(id string) (figure, error) {
	f := figure{Title: clean(c.Title)}
	colours := make([]string, len(c.Series))
	values := make([][]float64, len(c.Series))
	for i, s := range c.Series {
		if len(s.Values) != len(c.Buckets) {
			return f, fmt.Errorf("series %q has %d values for %d buckets", s.Name, len(s.Values), len(c.Buckets))
		}
		if err := checkValues(fmt.Sprintf("series %q", s.Name), s.Values, false); err != nil {
			return f, err
		}
		colours[i], _ = style(i, false)
		values[i] = s.Values
		f.Legend = append(f.Legend, legendItem{Name: seriesName(clean(s.Name), i), Colour: colours[i]})
	}
	var b svgWriter
	if len(c.Buckets) == 0 || len(c.Series) == 0 {
		emptyChart(&b, id, f.Title, "Histogram with no data.")
		f.SVG = b.String()
		return f, nil
	}
	rows := make([]row, len(c.Buckets))
	for k, bucket := range c.Buckets {
		rows[k] = row{label: clean(bucket)}
		lines := []string{rows[k].label}
		for i, s := range c.Series {
			lines = append(lines, clean(seriesName(s.Name, i))+": "+c.Unit.Format(s.Values[k]))
		}
		rows[k].tip = strings.Join(lines, "\n")
	}
	var d strings.Builder
	fmt.Fprintf(&d, "Histogram over %d buckets from %s to %s.", len(rows), rows[0].label, rows[len(rows)-1].label)
	for i, s := range c.Series {
		total, peak := 0.0, 0
		for k, v := range s.Values {
			total += nanAsZero(v)
			if nanAsZero(v) > nanAsZero(s.Values[peak]) {
				peak = k
			}
		}
		fmt.Fprintf(&d, " %s: %s in all, most in %s.", clean(seriesName(s.Name, i)), c.Unit.Format(total), rows[peak].label)
	}
	drawColumns(&b, id, f.Title, d.String(), c.YLabel, c.Unit, rows, values, colours, false)
	f.SVG = b.String()
	return f, nil
}

// row is one bar (or stack, or bucket) ready to draw.
type row struct {
	label  string
	values []float64 // the parts, stacked
	total  string    // formatted value shown at the end of a row
	note   string
	tip    string // tooltip lines, parts cleaned
}

// drawRows draws horizontal bars, one row each: the label right-aligned on the left (shortened
// in the middle when long), the stacked parts, and the total and note after the bar. A value
// axis with grid lines runs along the top.
func drawRows(b *svgWriter, id, title, desc string, unit Unit, rows []row, colours []string) {
	labelW, valueW := 0.0, 0.0
	totals := make([]float64, len(rows))
	for i, r := range rows {
		for _, v := range r.values {
			totals[i] += v
		}
		labelW = math.Max(labelW, textWidth(r.label, fontSize))
		valueW = math.Max(valueW, textWidth(r.total+noteSuffix(r.note), fontSize))
	}
	labelW = math.Min(labelW, chartWidth*maxLabelShare)
	valueW = math.Min(valueW, chartWidth*0.25)
	left := labelW + 12
	right := chartWidth - valueW - 10
	domain, broken := scaleMax(totals)
	xs := valueScale(unit, 0, domain, int((right-left)/110))
	xAt := func(v float64) float64 { return math.Min(left+(v-xs.lo)/(xs.hi-xs.lo)*(right-left), right) }
	height := rowAxisHeight + float64(len(rows))*rowHeight + 6

	if broken {
		desc += " The longest bar is cut short so that the others stay readable."
	}
	openChart(b, id, height, title, desc)
	for i, v := range xs.ticks {
		x := xAt(v)
		b.line(x, rowAxisHeight-6, x, height-6, "grid")
		anchor := "middle"
		if i == len(xs.ticks)-1 && x+textWidth(xs.labels[i], fontSize)/2 > chartWidth {
			anchor = "end"
		}
		b.text(x, 14, "tick", anchor, xs.labels[i], "")
	}
	for i, r := range rows {
		y := rowAxisHeight + float64(i)*rowHeight
		b.s(`<g class="row"><title>`, escTip(r.tip), "</title>\n")
		b.rect(0, y, chartWidth, rowHeight, "", "hit", "")
		mid := y + rowHeight/2 + 4
		short, _ := fit(r.label, labelW, fontSize, true)
		b.text(left-8, mid, "", "end", short, "")
		x, sum := left, 0.0
		for j, v := range r.values {
			sum += v
			end := xAt(sum)
			b.rect(x, y+(rowHeight-rowBar)/2, end-x, rowBar, colours[j%len(colours)], "", "")
			x = end
		}
		if totals[i] > xs.hi {
			breakMark(b, right-16, y+(rowHeight-rowBar)/2, rowBar, false)
		}
		value, _ := fit(r.total+noteSuffix(r.note), valueW, fontSize, false)
		if r.note == "" || !strings.HasPrefix(value, r.total+" · ") {
			b.text(x+6, mid, "", "", value, "")
		} else {
			b.s(`<text x="`, num(x+6), `" y="`, num(mid), `">`, esc(r.total), `<tspan class="note">`, esc(strings.TrimPrefix(value, r.total)), "</tspan></text>\n")
		}
		b.s("</g>\n")
	}
	b.line(left, rowAxisHeight-6, left, height-6, "axis")
	b.s("</svg>")
}

// scaleMax is the largest value an axis must show for bars of values vs. When one bar is
// more than breakRatio times the next (all the other repositories against the top 20) and
// there are at least minBarsToBreak bars, the
// axis stops at the next one and broken reports that the largest bar is to be cut short,
// with a break mark and its value label, rather than squashing every other bar.
func scaleMax(vs []float64) (hi float64, broken bool) {
	first, second, positive := 0.0, 0.0, 0
	for _, v := range vs {
		if v > 0 {
			positive++
		}
		switch {
		case v > first:
			first, second = v, first
		case v > second:
			second = v
		}
	}
	if positive >= minBarsToBreak && first > breakRatio*second {
		return second, true
	}
	return first, false
}

// breakMark draws the two slanted strokes that show a bar cut short, across a horizontal bar
// at x (or, vertical, across a column at height y = at), breadth wide.
func breakMark(b *svgWriter, at, y, breadth float64, vertical bool) {
	var d strings.Builder
	for _, off := range []float64{0, 5} {
		if vertical {
			x := at
			d.WriteString("M" + num(x-2) + " " + num(y+off+3) + "L" + num(x+breadth+2) + " " + num(y+off-3))
		} else {
			d.WriteString("M" + num(at+off-3) + " " + num(y+breadth+2) + "L" + num(at+off+3) + " " + num(y-2))
		}
	}
	b.s(`<path class="break" d="`, d.String(), `"/>`, "\n")
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " · " + note
}

// drawColumns draws vertical bars: for each row (a bar, or a bucket of a histogram) one bar per
// series side by side, on a value axis with grid lines. Labels that do not fit under their
// column are tilted, and shortened; with values set, bars show their value on top when it fits.
func drawColumns(b *svgWriter, id, title, desc, yLabel string, unit Unit, rows []row, series [][]float64, colours []string, values bool) {
	hi, broken := 0.0, false
	if values { // a bar chart: one bar may be cut short
		vs := make([]float64, len(series[0]))
		for i, v := range series[0] {
			vs[i] = nanAsZero(v)
		}
		hi, broken = scaleMax(vs)
	} else {
		for _, s := range series {
			for _, v := range s {
				hi = math.Max(hi, nanAsZero(v))
			}
		}
	}
	ys := valueScale(unit, 0, hi, 5)
	tickW := 0.0
	for _, l := range ys.labels {
		tickW = math.Max(tickW, textWidth(l, fontSize))
	}
	left, right := math.Max(tickW+12, 36), chartWidth-8
	pitch := (right - left) / float64(len(rows))

	// Labels: level when the widest fits its column, else tilted, with the plot moved right
	// so that the first label has room to the left of its column.
	widest := 0.0
	for _, r := range rows {
		widest = math.Max(widest, textWidth(r.label, fontSize))
	}
	tilt := values && widest > pitch-8 // histogram buckets are short: shorten, never tilt
	sin, cos := math.Sincos(columnLabelTilt * math.Pi / 180)
	labelRoom := pitch - 8
	every := 1
	if tilt {
		labelRoom = math.Min(widest, maxColumnLabel)
		left = math.Max(left, math.Min(labelRoom*cos, 130)-pitch/2+8)
		pitch = (right - left) / float64(len(rows))
		// Tilted labels of neighbouring columns are pitch·sin apart; keep a line between them.
		every = max(1, int(math.Ceil(lineHeight/(pitch*sin))))
	}
	top := 10.0
	if yLabel != "" {
		top += lineHeight
	}
	if values {
		top += lineHeight
	}
	bottom := top + columnPlotH
	height := bottom + 28
	if tilt {
		height = bottom + 16 + labelRoom*sin + 8
	}
	yAt := func(v float64) float64 { return math.Max(bottom-(v-ys.lo)/(ys.hi-ys.lo)*columnPlotH, top) }

	if broken {
		desc += " The tallest bar is cut short so that the others stay readable."
	}
	openChart(b, id, height, title, desc)
	if yLabel != "" {
		b.label(0, 14, chartWidth/2, "tick", "", yLabel, false)
	}
	for i, v := range ys.ticks {
		y := yAt(v)
		b.line(left, y, right, y, "grid")
		b.text(left-8, y+4, "tick", "end", ys.labels[i], "")
	}
	group := pitch * 0.78
	if len(series) == 1 {
		group = math.Min(pitch*0.7, 64)
	}
	barW := group / float64(len(series))
	for k, r := range rows {
		cx := left + (float64(k)+0.5)*pitch
		b.s(`<g class="row"><title>`, escTip(r.tip), "</title>\n")
		b.rect(left+float64(k)*pitch, top, pitch, bottom-top, "", "hit", "")
		for i, s := range series {
			v := nanAsZero(s[k])
			x := cx - group/2 + float64(i)*barW
			b.rect(x+0.5, yAt(v), barW-1, yAt(0)-yAt(v), colours[i%len(colours)], "", "")
			if v > ys.hi {
				breakMark(b, x+0.5, top+14, barW-1, true)
			}
			if values && !math.IsNaN(s[k]) {
				if label := unit.Format(v); textWidth(label, fontSize) <= pitch-2 {
					b.text(cx, yAt(v)-5, "", "middle", label, "")
				}
			}
		}
		if k%every == 0 {
			if tilt {
				// Tilted labels end under their column; keep the first ones inside the chart.
				room := math.Min(labelRoom, (cx-4)/cos)
				short, _ := fit(r.label, room, fontSize, true)
				b.s(`<text class="tick" text-anchor="end" transform="translate(`, num(cx+4), " ", num(bottom+14),
					") rotate(-", num(columnLabelTilt), `)">`, esc(short), "</text>\n")
			} else {
				short, _ := fit(r.label, labelRoom, fontSize, false)
				b.text(cx, bottom+19, "tick", "middle", short, "")
			}
		}
		b.s("</g>\n")
	}
	b.line(left, yAt(0), right, yAt(0), "axis")
	b.s("</svg>")
}

// describeBars summarises bars for screen readers: how many, and the largest three.
func describeBars(kind string, unit Unit, rows []row) string {
	idx := make([]int, len(rows))
	sums := make([]float64, len(rows))
	for i, r := range rows {
		idx[i] = i
		for _, v := range r.values {
			sums[i] += v
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return sums[idx[a]] > sums[idx[b]] })
	var parts []string
	for _, i := range idx[:min(3, len(idx))] {
		parts = append(parts, fmt.Sprintf("%s (%s)", rows[i].label, unit.Format(sums[i])))
	}
	return fmt.Sprintf("%s, %d bars. Largest: %s.", kind, len(rows), strings.Join(parts, ", "))
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s)
	}
	return out
}

func nanAsZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
