// Package progresstest records what code tells a progress.Reporter, for tests.
package progresstest

import (
	"fmt"
	"sync"

	"github.com/shipshape-dev/shipshape/internal/progress"
)

// Phase is one phase as a Recorder saw it.
type Phase struct {
	Name string
	// StartDone and StartTotal are what Phase was given.
	StartDone, StartTotal int
	// Done and Total are the counts when the phase ended, or now if it runs still.
	Done, Total int
	Ended       bool
}

// Recorder is a progress.Reporter that remembers the phases it was told of, with their
// counts, and the order of events. It is safe for concurrent use; the zero value is ready.
type Recorder struct {
	mu     sync.Mutex
	phases []Phase
	events []string
	// stray counts Add and Grow calls made while no phase ran.
	stray int
}

var _ progress.Reporter = (*Recorder)(nil)

func (r *Recorder) Phase(name string, done, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked()
	r.phases = append(r.phases, Phase{Name: name, StartDone: done, StartTotal: total, Done: done, Total: max(total, 0)})
	r.events = append(r.events, fmt.Sprintf("phase %s %d/%d", name, done, total))
}

func (r *Recorder) Grow(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.currentLocked(); p != nil {
		p.Total += n
	} else {
		r.stray++
	}
}

func (r *Recorder) Add(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.currentLocked(); p != nil {
		p.Done += n
	} else {
		r.stray++
	}
}

func (r *Recorder) End() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked()
}

// Note adds an event of the test's own (a request sent, say) to the log Events returns, to
// show what happened in which phase.
func (r *Recorder) Note(event string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event)
}

// Phases returns the phases in the order they started.
func (r *Recorder) Phases() []Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Phase(nil), r.phases...)
}

// Names returns the names of the phases in the order they started.
func (r *Recorder) Names() []string {
	var names []string
	for _, p := range r.Phases() {
		names = append(names, p.Name)
	}
	return names
}

// Events returns, in order, "phase NAME DONE/TOTAL" for each phase started, "end NAME
// DONE/TOTAL" for each ended (by End or by the next phase), and the notes.
func (r *Recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// Stray returns how many Add and Grow calls came while no phase ran.
func (r *Recorder) Stray() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stray
}

func (r *Recorder) currentLocked() *Phase {
	if n := len(r.phases); n > 0 && !r.phases[n-1].Ended {
		return &r.phases[n-1]
	}
	return nil
}

func (r *Recorder) endLocked() {
	if p := r.currentLocked(); p != nil {
		p.Ended = true
		r.events = append(r.events, fmt.Sprintf("end %s %d/%d", p.Name, p.Done, p.Total))
	}
}
