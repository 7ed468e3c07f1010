package progress

import (
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

const (
	// barRefresh is how often a bar is redrawn: smooth to the eye, a negligible load.
	barRefresh = 100 * time.Millisecond
	// barWidth bounds the bar itself; the counts come after it.
	barWidth = 30
	// defaultColumns is the terminal width assumed when it cannot be asked.
	defaultColumns = 80
)

// spinner turns in place of a bar while the total is not known.
var spinner = [...]byte{'|', '/', '-', '\\'}

// bar draws the current phase on one line of a terminal, redrawn in place, and clears it
// when the phase ends.
type bar struct {
	meter
	w       io.Writer
	columns int // of the terminal, found when a phase starts
	drawn   int // width of what is on the line now
	turn    int // of the spinner
}

// NewBar returns a Reporter for a terminal: from the moment a phase starts, a line on w
// shows its name with a bar (a spinner while the total is not known), the counts, the rate
// and the time elapsed, redrawn every tenth of a second; the line is cleared when the phase
// ends.
func NewBar(w io.Writer) Reporter {
	return newBar(w, time.Now)
}

func newBar(w io.Writer, now func() time.Time) *bar {
	b := &bar{w: w}
	b.meter = meter{view: b, interval: barRefresh, now: now}
	return b
}

func (b *bar) begin(s status) {
	b.columns = columns(b.w)
	b.tick(s)
}

func (b *bar) tick(s status) {
	b.draw(b.line(s))
	b.turn++
}

func (b *bar) end(status) { b.draw("") }

// line is what the bar shows for s, at most b.columns-1 wide so that the terminal never
// wraps it (a wrapped line cannot be redrawn in place).
func (b *bar) line(s status) string {
	stats := " " + fraction(s)
	if s.total > 0 {
		stats += "  " + thousands(pct(s)) + "%"
	}
	stats += "  " + perSecond(s.rate) + "  " + clock(s.elapsed)

	room := b.columns - 1
	var gauge string
	if s.total > 0 {
		// "name [===>   ]" with the bar as wide as the room allows.
		width := min(barWidth, room-utf8.RuneCountInString(s.name)-len(stats)-3)
		if width >= 5 {
			filled := int(int64(width) * pct(s) / 100)
			g := strings.Repeat("=", filled)
			if filled < width {
				g += ">" + strings.Repeat(" ", width-filled-1)
			}
			gauge = " [" + g + "]"
		}
	} else {
		gauge = " " + string(spinner[b.turn%len(spinner)])
	}
	line := s.name + gauge + stats
	if utf8.RuneCountInString(line) > room {
		line = string([]rune(line)[:max(room, 0)])
	}
	return line
}

// draw replaces what is on the line with text, blanking what text does not cover.
func (b *bar) draw(text string) {
	n := utf8.RuneCountInString(text)
	pad := max(b.drawn-n, 0)
	out := "\r" + text + strings.Repeat(" ", pad)
	if text == "" {
		out += "\r" // at the start of the blank line, for what comes next
	}
	io.WriteString(b.w, out)
	b.drawn = n
}

// columns is the width of the terminal w writes to.
func columns(w io.Writer) int {
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return width
		}
	}
	return defaultColumns
}
