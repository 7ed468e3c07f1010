// Package progress tells people on standard error how far a long operation has come.
//
// Work comes in phases ("tags", "manifests", "re-check", "delete" …), one at a time. The
// code doing the work tells a Reporter when a phase starts and counts steps as they are
// done, from as many goroutines as it likes; the Reporter decides what to show and when.
// Counting is one atomic addition: the output is written by a ticker of the Reporter's
// own, never by the goroutines doing the work.
//
// New chooses what the command line wants: a bar on a terminal, a line every
// DefaultInterval in a log (CI, a file, a pipe), or nothing (--quiet).
package progress

import (
	"io"
	"time"
)

// Reporter is told how far work has come. Its methods are safe for concurrent use; Add
// and Grow are cheap enough to call once per request.
//
// Code that reports takes a Reporter that may be nil (no progress); see Nop.
type Reporter interface {
	// Phase starts the phase called name, ending the one before: done of total steps are
	// done already (a run resumed part-way), and total <= 0 means not known yet.
	Phase(name string, done, total int)
	// Grow adds n steps to the total of the current phase, as work is found.
	Grow(n int)
	// Add records n more steps done in the current phase.
	Add(n int)
	// End ends the current phase, if one is running.
	End()
}

// DefaultInterval is how often NewLines writes a line while a phase runs: often enough
// that a CI log shows the job is alive, seldom enough not to fill the log.
const DefaultInterval = 10 * time.Second

// New returns the Reporter a command wants on w, its standard error: Nop when quiet, a bar
// (NewBar) when w is a terminal, otherwise a line every DefaultInterval (NewLines).
func New(w io.Writer, terminal, quiet bool) Reporter {
	switch {
	case quiet:
		return Nop{}
	case terminal:
		return NewBar(w)
	}
	return NewLines(w, DefaultInterval)
}

// Nop is a Reporter that reports nothing.
type Nop struct{}

func (Nop) Phase(string, int, int) {}
func (Nop) Grow(int)               {}
func (Nop) Add(int)                {}
func (Nop) End()                   {}

// OrNop returns r, or Nop when r is nil: what code that reports does with the Reporter it
// is given.
func OrNop(r Reporter) Reporter {
	if r == nil {
		return Nop{}
	}
	return r
}

var (
	_ Reporter = Nop{}
	_ Reporter = (*lines)(nil)
	_ Reporter = (*bar)(nil)
)
