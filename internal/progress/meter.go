package progress

import (
	"sync"
	"sync/atomic"
	"time"
)

// status is how far the current phase has come.
type status struct {
	name        string
	done, total int64 // total <= 0: not known
	elapsed     time.Duration
	// rate is steps a second since the phase started, not counting those done before it.
	rate float64
}

// view shows the phases a meter runs. The meter calls it with its lock held, so a view
// needs no lock of its own and its writes never interleave.
type view interface {
	// begin is called when a phase starts, tick every interval while it runs, and end
	// when it ends.
	begin(s status)
	tick(s status)
	end(s status)
}

// meter counts the steps of the current phase and has a view show them: at the start and
// end of each phase, and every interval in between, from a goroutine that runs only while a
// phase does. Add and Grow touch nothing but two atomic counters.
type meter struct {
	done, total atomic.Int64

	view     view
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex
	name  string
	start time.Time
	base  int64         // steps done when the phase started
	stop  chan struct{} // closed when the phase ends; nil when none runs
}

func (m *meter) Phase(name string, done, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endLocked()
	m.name, m.start, m.base = name, m.now(), int64(done)
	m.done.Store(int64(done))
	m.total.Store(int64(max(total, 0)))
	m.stop = make(chan struct{})
	m.view.begin(m.statusLocked())
	go m.run(m.stop)
}

func (m *meter) Grow(n int) { m.total.Add(int64(n)) }
func (m *meter) Add(n int)  { m.done.Add(int64(n)) }

func (m *meter) End() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endLocked()
}

func (m *meter) endLocked() {
	if m.stop == nil {
		return
	}
	close(m.stop)
	m.stop = nil
	m.view.end(m.statusLocked())
}

// run ticks the view every interval until stop is closed. A tick that lost the race with
// the end of its phase is dropped: once End returns, the phase's view is never called again.
func (m *meter) run(stop chan struct{}) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.mu.Lock()
			if m.stop == stop {
				m.view.tick(m.statusLocked())
			}
			m.mu.Unlock()
		}
	}
}

func (m *meter) statusLocked() status {
	s := status{name: m.name, done: m.done.Load(), total: m.total.Load(), elapsed: m.now().Sub(m.start)}
	if secs := s.elapsed.Seconds(); secs > 0 {
		s.rate = float64(s.done-m.base) / secs
	}
	return s
}
