package htmlreport

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// LineChart plots series over a shared x axis of times or of labels. The y axis starts at
// zero (or below, for negative values), so that growth is not exaggerated.
type LineChart struct {
	Title  string
	YLabel string // what the y axis measures ("stored", "monthly cost"); shown above it
	YUnit  Unit
	// The x axis: set Times (increasing) or Labels, one entry per value of each series.
	Times   []time.Time
	Labels  []string
	Series  []Series
	Markers []Marker
}

// Marker draws a labelled vertical line at one x position: "quota hit, day 41".
type Marker struct {
	X     int // index into Times or Labels
	Label string
}

// Layout of a line chart, in viewBox units.
const (
	linePlotHeight = 260.0
	// lineDotsUpTo is the number of points up to which each value also gets a dot, so that
	// sparse series (twelve months) show where the data is.
	lineDotsUpTo = 40
	// maxMarkerRows is how many rows of marker labels may stack above the plot before labels
	// are shortened to fit.
	maxMarkerRows = 3
)

func (c LineChart) render(id string) (figure, error) {
	f := figure{Title: clean(c.Title)}
	n := len(c.Labels)
	if len(c.Times) > 0 {
		if n > 0 {
			return f, errors.New("both Times and Labels are set; set one")
		}
		n = len(c.Times)
		for i := 1; i < n; i++ {
			if c.Times[i].Before(c.Times[i-1]) {
				return f, fmt.Errorf("the times are not increasing at index %d", i)
			}
		}
	}
	lo, hi, seen := 0.0, 0.0, false // the y axis always shows zero
	for _, s := range c.Series {
		if len(s.Values) != n {
			return f, fmt.Errorf("series %q has %d values for %d x positions", s.Name, len(s.Values), n)
		}
		if err := checkValues(fmt.Sprintf("series %q", s.Name), s.Values, true); err != nil {
			return f, err
		}
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				lo, hi, seen = math.Min(lo, v), math.Max(hi, v), true
			}
		}
	}
	for _, m := range c.Markers {
		if m.X < 0 || m.X >= n {
			return f, fmt.Errorf("marker %q is at x index %d, outside 0–%d", m.Label, m.X, n-1)
		}
	}
	for i, s := range c.Series {
		colour, dash := style(i, s.Dashed)
		f.Legend = append(f.Legend, legendItem{Name: seriesName(s.Name, i), Colour: colour, Dash: dash, Line: true})
	}
	var b svgWriter
	if n == 0 || !seen {
		emptyChart(&b, id, f.Title, "Line chart with no data.")
		f.SVG = b.String()
		return f, nil
	}

	// Horizontal layout: y tick labels on the left, the plot to the right edge.
	ys := valueScale(c.YUnit, lo, hi, 5)
	tickW := 0.0
	for _, l := range ys.labels {
		tickW = math.Max(tickW, textWidth(l, fontSize))
	}
	left, right := math.Max(tickW+12, 36), chartWidth-12
	xAt := c.xPositions(n, left, right)

	// Vertical layout: the y label, rows of marker labels, the plot, the x tick labels.
	top := 8.0
	if c.YLabel != "" {
		top += lineHeight
	}
	marks := placeMarkers(c.Markers, xAt)
	rows := 0
	for _, m := range marks {
		rows = max(rows, m.row+1)
	}
	top += float64(rows) * lineHeight
	if rows > 0 {
		top += 4
	}
	bottom := top + linePlotHeight
	height := bottom + 30
	yAt := func(v float64) float64 { return bottom - (v-ys.lo)/(ys.hi-ys.lo)*linePlotHeight }

	openChart(&b, id, height, f.Title, c.describe(n))
	if c.YLabel != "" {
		b.label(0, 14, chartWidth/2, "tick", "", c.YLabel, false)
	}
	for i, v := range ys.ticks {
		y := yAt(v)
		b.line(left, y, right, y, "grid")
		b.text(left-8, y+4, "tick", "end", ys.labels[i], "")
	}
	zero := yAt(0) // the scale always spans zero
	b.line(left, zero, right, zero, "axis")
	c.xAxis(&b, n, xAt, left, right, bottom)

	for i, s := range c.Series {
		colour, dash := style(i, s.Dashed)
		drawLine(&b, s.Values, xAt, yAt, colour, dash, n <= lineDotsUpTo)
	}
	for _, m := range marks {
		labelY := top - 4 - float64(m.row)*lineHeight
		b.line(m.x, labelY+4, m.x, bottom, "marker")
		if m.width > 0 {
			b.label(m.textX, labelY, m.width, "halo", m.anchor, m.label, false)
		}
	}
	// Transparent columns, one per x position, show every series' value on hover.
	for i := range n {
		x0, x1 := left, right
		if i > 0 {
			x0 = (xAt[i-1] + xAt[i]) / 2
		}
		if i < n-1 {
			x1 = (xAt[i] + xAt[i+1]) / 2
		}
		if x1-x0 < 0.05 {
			continue
		}
		lines := []string{c.xName(i)}
		for k, s := range c.Series {
			lines = append(lines, clean(seriesName(s.Name, k))+": "+c.YUnit.Format(s.Values[i]))
		}
		b.rect(x0, top, x1-x0, linePlotHeight, "", "hit", strings.Join(lines, "\n"))
	}
	// Wide transparent strokes over the marker lines name them on hover, even those whose
	// label had no room.
	for _, m := range marks {
		b.s(`<line x1="`, num(m.x), `" y1="`, num(top), `" x2="`, num(m.x), `" y2="`, num(bottom),
			`" class="marker-hit"><title>`, esc(m.label+" ("+c.xName(m.index)+")"), "</title></line>\n")
	}
	b.s("</svg>")
	f.SVG = b.String()
	return f, nil
}

// xPositions maps each x index to a horizontal coordinate between left and right: by time
// when the axis has times, evenly otherwise.
func (c LineChart) xPositions(n int, left, right float64) []float64 {
	xs := make([]float64, n)
	for i := range n {
		switch {
		case n == 1:
			xs[i] = (left + right) / 2
		case len(c.Times) > 0:
			span := c.Times[n-1].Sub(c.Times[0])
			if span == 0 {
				xs[i] = (left + right) / 2
			} else {
				xs[i] = left + float64(c.Times[i].Sub(c.Times[0]))/float64(span)*(right-left)
			}
		default:
			xs[i] = left + float64(i)/float64(n-1)*(right-left)
		}
	}
	return xs
}

// xName names x position i in tooltips and descriptions.
func (c LineChart) xName(i int) string {
	if len(c.Times) > 0 {
		t := c.Times[i]
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2006-01-02")
		}
		return t.Format("2006-01-02 15:04")
	}
	return clean(c.Labels[i])
}

// xAxis draws the ticks and labels under the plot: natural time boundaries for times, every
// k-th label for labels, each label kept within the chart.
func (c LineChart) xAxis(b *svgWriter, n int, xAt []float64, left, right, bottom float64) {
	plotW := right - left
	put := func(x float64, label string, room float64) {
		b.line(x, bottom, x, bottom+5, "axis")
		short, cut := fit(label, room, fontSize, false)
		w := textWidth(short, fontSize)
		cx := math.Min(math.Max(x, w/2), chartWidth-w/2)
		tip := ""
		if cut {
			tip = clean(label)
		}
		b.text(cx, bottom+19, "tick", "middle", short, tip)
	}
	if len(c.Times) > 0 {
		t0, t1 := c.Times[0], c.Times[n-1]
		ticks, layout := timeTicks(t0, t1, int(plotW/90))
		for _, t := range ticks {
			x := left + plotW/2
			if span := t1.Sub(t0); span > 0 {
				x = left + float64(t.Sub(t0))/float64(span)*plotW
			}
			put(x, t.Format(layout), 120)
		}
		return
	}
	widest := 0.0
	for _, l := range c.Labels {
		widest = math.Max(widest, textWidth(clean(l), fontSize))
	}
	slot := math.Min(widest, 140) + 16
	every := 1
	if n > 1 {
		every = max(1, int(math.Ceil(slot/(plotW/float64(n-1)))))
	}
	room := 140.0
	if n > 1 {
		room = math.Min(140, float64(every)*plotW/float64(n-1)-16)
	}
	for i := 0; i < n; i += every {
		put(xAt[i], c.Labels[i], room)
	}
}

// drawLine draws one series as a path broken at NaN values; points with no neighbour (and
// every point, when dots is set) get a dot so that they stay visible.
func drawLine(b *svgWriter, values, xAt []float64, yAt func(float64) float64, colour, dash string, dots bool) {
	var d strings.Builder
	var lone []int
	for i, v := range values {
		if math.IsNaN(v) {
			continue
		}
		prev := i > 0 && !math.IsNaN(values[i-1])
		next := i < len(values)-1 && !math.IsNaN(values[i+1])
		if dots || (!prev && !next) {
			lone = append(lone, i)
		}
		cmd := "L"
		if !prev {
			cmd = "M"
		}
		d.WriteString(cmd + num(xAt[i]) + " " + num(yAt(v)))
	}
	if d.Len() > 0 {
		b.s(`<path d="`, d.String(), `" fill="none" stroke="`, colour, `" stroke-width="2.25" stroke-linejoin="round" stroke-linecap="round"`)
		if dash != "" {
			b.s(` stroke-dasharray="`, dash, `"`)
		}
		b.s("/>\n")
	}
	for _, i := range lone {
		b.s(`<circle cx="`, num(xAt[i]), `" cy="`, num(yAt(values[i])), `" r="3" fill="`, colour, `"/>`, "\n")
	}
}

// placedMarker is a marker with its label laid out in one of the rows above the plot.
type placedMarker struct {
	index           int // of the x position
	label           string
	x, textX, width float64
	anchor          string
	row             int
}

// placeMarkers lays the marker labels out above the plot: each label starts right of its
// line (or ends left of it near the right edge) in the lowest row where it does not collide
// with another; when every row is taken it goes, shortened, where there is most room.
func placeMarkers(markers []Marker, xAt []float64) []placedMarker {
	ms := make([]placedMarker, len(markers))
	for i, m := range markers {
		ms[i] = placedMarker{label: clean(m.Label), x: xAt[m.X], index: m.X}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].x < ms[j].x })
	const gap = 10.0
	// ends[r] is where the last label in row r ends.
	ends := make([]float64, 0, maxMarkerRows)
	for i := range ms {
		m := &ms[i]
		w := math.Min(textWidth(m.label, fontSize), chartWidth*0.4)
		start := m.x + 4
		m.anchor = "start"
		if start+w > chartWidth {
			start = m.x - 4 - w
			m.anchor = "end"
		}
		row := -1
		for r, end := range ends {
			if end+gap <= start {
				row = r
				break
			}
		}
		if row < 0 && len(ends) < maxMarkerRows {
			ends = append(ends, math.Inf(-1))
			row = len(ends) - 1
		}
		if row < 0 { // every row is taken: start after the row that ends first, shortened
			row = 0
			for r := range ends {
				if ends[r] < ends[row] {
					row = r
				}
			}
			start = math.Max(ends[row]+gap, m.x+4)
			m.anchor = "start"
			w = math.Max(chartWidth-start, 0)
			if w < 3*fontSize { // no room left on the line: keep the line, named on hover
				w = 0
			}
		}
		m.row, m.width = row, w
		m.textX = start
		if m.anchor == "end" {
			m.textX = start + w
		}
		ends[row] = start + math.Min(w, textWidth(m.label, fontSize))
	}
	return ms
}

// describe summarises the chart for screen readers.
func (c LineChart) describe(n int) string {
	var d strings.Builder
	fmt.Fprintf(&d, "Line chart of %d series over %d points", len(c.Series), n)
	if n > 0 {
		fmt.Fprintf(&d, ", from %s to %s", c.xName(0), c.xName(n-1))
	}
	d.WriteString(".")
	for i, s := range c.Series {
		first, last, peak := math.NaN(), math.NaN(), math.NaN()
		for _, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			if math.IsNaN(first) {
				first = v
			}
			last = v
			if math.IsNaN(peak) || v > peak {
				peak = v
			}
		}
		fmt.Fprintf(&d, " %s: %s at the start, %s at the end, peak %s.", clean(seriesName(s.Name, i)),
			c.YUnit.Format(first), c.YUnit.Format(last), c.YUnit.Format(peak))
	}
	for _, m := range c.Markers {
		fmt.Fprintf(&d, " Marker at %s: %s.", c.xName(m.X), clean(m.Label))
	}
	return d.String()
}

// seriesName names a series, or numbers it when it has no name.
func seriesName(name string, i int) string {
	if name == "" {
		return fmt.Sprintf("Series %d", i+1)
	}
	return name
}

// openChart starts a chart's <svg> element with its accessible name and description.
func openChart(b *svgWriter, id string, height float64, title, desc string) {
	if title == "" {
		title = "Chart"
	}
	b.s(`<svg class="chart" id="`, id, `-svg" viewBox="0 0 `, num(chartWidth), " ", num(height),
		`" role="img" aria-label="`, esc(title), `" aria-describedby="`, id, `-desc">`, "\n")
	b.s("<title>", esc(title), "</title>\n")
	b.s(`<desc id="`, id, `-desc">`, esc(desc), "</desc>\n")
}

// emptyChart draws a chart that has nothing to show.
func emptyChart(b *svgWriter, id, title, desc string) {
	openChart(b, id, 60, title, desc)
	b.text(chartWidth/2, 36, "empty", "middle", "No data", "")
	b.s("</svg>")
}
