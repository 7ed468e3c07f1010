package progress

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// linePrefix starts every line NewLines writes, to tell it apart in a log.
const linePrefix = "shipshape: "

// quietPhase is how long a phase may take without NewLines writing about it: work that
// short is not worth a line.
const quietPhase = time.Second

// lines writes a line for a phase every interval while it runs, and one when it ends if it
// took quietPhase or longer (or wrote a line before).
type lines struct {
	meter
	w       io.Writer
	written bool // a line of the current phase
}

// NewLines returns a Reporter for a log: while a phase runs it writes a line to w every
// interval (0 means DefaultInterval), and one when the phase ends unless it ended within a
// second without a line, e.g.
//
//	shipshape: manifests 1,200/4,500 (26%), 310/s, 00:04 elapsed
//	shipshape: manifests 4,500/4,500 (100%) in 00:15, 300/s
func NewLines(w io.Writer, interval time.Duration) Reporter {
	return newLines(w, interval, time.Now)
}

func newLines(w io.Writer, interval time.Duration, now func() time.Time) *lines {
	if interval <= 0 {
		interval = DefaultInterval
	}
	l := &lines{w: w}
	l.meter = meter{view: l, interval: interval, now: now}
	return l
}

func (l *lines) begin(status) { l.written = false }

func (l *lines) tick(s status) {
	l.written = true
	fmt.Fprintf(l.w, "%s%s, %s, %s elapsed\n", linePrefix, counts(s), perSecond(s.rate), clock(s.elapsed))
}

func (l *lines) end(s status) {
	if !l.written && s.elapsed < quietPhase {
		return
	}
	fmt.Fprintf(l.w, "%s%s in %s, %s\n", linePrefix, counts(s), clock(s.elapsed), perSecond(s.rate))
}

// counts is "name done/total (pct%)", or "name done" when the total is not known.
func counts(s status) string {
	if s.total <= 0 {
		return s.name + " " + fraction(s)
	}
	return fmt.Sprintf("%s %s (%d%%)", s.name, fraction(s), pct(s))
}

// fraction is "done/total", or "done" when the total is not known.
func fraction(s status) string {
	if s.total <= 0 {
		return thousands(s.done)
	}
	return thousands(s.done) + "/" + thousands(s.total)
}

// pct is the share of the total done, in whole percent, at most 100: counters are read
// one after the other, so done may briefly run ahead of a growing total.
func pct(s status) int64 {
	if s.total <= 0 {
		return 0
	}
	return min(100, max(0, s.done*100/s.total))
}

// thousands writes n with a comma every three digits: 12,345.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// perSecond is a rate: "310/s", "2.5/s".
func perSecond(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f/s", max(r, 0))
	}
	return thousands(int64(r+0.5)) + "/s"
}

// clock is a duration as mm:ss, or h:mm:ss from an hour up.
func clock(d time.Duration) string {
	secs := int64(max(d, 0) / time.Second)
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%02d:%02d", secs/60, secs%60)
}
