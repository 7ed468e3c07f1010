package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a fake time.Now that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tick does what the meter's ticker does at each interval.
func tick(m *meter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop != nil {
		m.view.tick(m.statusLocked())
	}
}

// syncBuffer is a bytes.Buffer that a test may read while a meter's ticker writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) lines() []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// never is an interval no test waits for: the fake-clock tests tick by hand.
const never = time.Hour

func TestLines(t *testing.T) {
	t.Parallel()
	type step struct {
		phase       string // start this phase (with done and total)
		done, total int
		wait        time.Duration
		add, grow   int
		tick, end   bool
	}
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{
			name: "a line at each tick, and one at the end",
			steps: []step{
				{phase: "manifests", total: 4500},
				{wait: 4 * time.Second, add: 1200, tick: true},
				{wait: 11 * time.Second, add: 3300, end: true},
			},
			want: []string{
				"shipshape: manifests 1,200/4,500 (26%), 300/s, 00:04 elapsed",
				"shipshape: manifests 4,500/4,500 (100%) in 00:15, 300/s",
			},
		},
		{
			name: "a phase over within a second says nothing",
			steps: []step{
				{phase: "tags"},
				{wait: 900 * time.Millisecond, add: 1000, end: true},
			},
		},
		{
			name: "a longer phase says when it ends, even with no tick",
			steps: []step{
				{phase: "tags"},
				{wait: 2 * time.Second, add: 2666, end: true},
			},
			want: []string{"shipshape: tags 2,666 in 00:02, 1,333/s"},
		},
		{
			name: "a total not known yet, then found",
			steps: []step{
				{phase: "re-check"},
				{wait: 10 * time.Second, add: 0, tick: true},
				{grow: 2666},
				{wait: 10 * time.Second, add: 500, tick: true},
				{wait: 40 * time.Second, add: 2166, end: true},
			},
			want: []string{
				"shipshape: re-check 0, 0.0/s, 00:10 elapsed",
				"shipshape: re-check 500/2,666 (18%), 25/s, 00:20 elapsed",
				"shipshape: re-check 2,666/2,666 (100%) in 01:00, 44/s",
			},
		},
		{
			name: "the next phase ends the one before",
			steps: []step{
				{phase: "tags"},
				{wait: 3 * time.Second, add: 3000},
				{phase: "manifests", total: 3000},
				{wait: 10 * time.Second, add: 3000, tick: true, end: true},
			},
			want: []string{
				"shipshape: tags 3,000 in 00:03, 1,000/s",
				"shipshape: manifests 3,000/3,000 (100%), 300/s, 00:10 elapsed",
				"shipshape: manifests 3,000/3,000 (100%) in 00:10, 300/s",
			},
		},
		{
			name: "a phase resumed part-way counts its rate from where it started",
			steps: []step{
				{phase: "delete", done: 100, total: 300},
				{wait: 10 * time.Second, add: 50, end: true},
			},
			want: []string{"shipshape: delete 150/300 (50%) in 00:10, 5.0/s"},
		},
		{
			name: "an hour or more",
			steps: []step{
				{phase: "manifests", total: 100_000},
				{wait: time.Hour + 2*time.Minute + 3*time.Second, add: 99_999, tick: true},
			},
			want: []string{"shipshape: manifests 99,999/100,000 (99%), 27/s, 1:02:03 elapsed"},
		},
		{
			name:  "End with no phase running says nothing",
			steps: []step{{end: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			var buf syncBuffer
			l := newLines(&buf, never, c.now)
			for _, s := range tt.steps {
				if s.phase != "" {
					l.Phase(s.phase, s.done, s.total)
				}
				c.advance(s.wait)
				l.Grow(s.grow)
				l.Add(s.add)
				if s.tick {
					tick(&l.meter)
				}
				if s.end {
					l.End()
				}
			}
			if diff := cmp.Diff(tt.want, buf.lines()); diff != "" {
				t.Errorf("lines written (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLinesEveryInterval(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	r := NewLines(&buf, 5*time.Millisecond)
	r.Phase("manifests", 0, 10)
	deadline := time.Now().Add(10 * time.Second)
	for len(buf.lines()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, lines = %q, want 3 at least (one every 5ms)", buf.lines())
		}
		time.Sleep(time.Millisecond)
	}
	r.Add(10)
	r.End()
	got := buf.lines()
	if last := got[len(got)-1]; !strings.HasPrefix(last, "shipshape: manifests 10/10 (100%) in ") {
		t.Errorf("last line = %q, want the end of the phase", last)
	}
	for _, l := range got[:len(got)-1] {
		if !strings.HasPrefix(l, "shipshape: manifests ") || !strings.HasSuffix(l, " elapsed") {
			t.Errorf("line %q, want one of the running phase", l)
		}
	}
	// Nothing once the phase has ended.
	time.Sleep(30 * time.Millisecond)
	if after := buf.lines(); len(after) != len(got) {
		t.Errorf("lines after End = %q, want none", after[len(got):])
	}
}

func TestBar(t *testing.T) {
	t.Parallel()
	c := newClock()
	var buf syncBuffer
	b := newBar(&buf, c.now)

	// Drawn as soon as the phase starts, before any step is done.
	b.Phase("tags", 0, 0)
	if got, want := buf.String(), "\rtags | 0  0.0/s  00:00"; got != want {
		t.Errorf("bar at the start = %q, want %q", got, want)
	}
	c.advance(2 * time.Second)
	b.Add(2000)
	tick(&b.meter)
	if got, want := lastDraw(buf.String()), "tags / 2,000  1,000/s  00:02"; got != want {
		t.Errorf("spinner after 2s = %q, want %q", got, want)
	}

	b.Phase("manifests", 0, 4500)
	c.advance(4 * time.Second)
	b.Add(1200)
	tick(&b.meter)
	if got, want := lastDraw(buf.String()), "manifests [=======>                      ] 1,200/4,500  26%  300/s  00:04"; got != want {
		t.Errorf("bar = %q, want %q", got, want)
	}

	b.End()
	out := buf.String()
	if !strings.HasSuffix(out, "\r") || strings.TrimSpace(lastDraw(strings.TrimSuffix(out, "\r"))) != "" {
		t.Errorf("bar after End ends with %q, want a blank line and the cursor at its start", out[max(0, len(out)-100):])
	}
	n := len(buf.String())
	b.Add(1)
	tick(&b.meter)
	if buf.String()[n:] != "" {
		t.Errorf("bar drew %q after End", buf.String()[n:])
	}
}

// lastDraw is what the last redraw wrote, without the blanks that cover a longer line.
func lastDraw(out string) string {
	return strings.TrimRight(out[strings.LastIndex(out, "\r")+1:], " ")
}

func TestBarFitsTheTerminal(t *testing.T) {
	t.Parallel()
	for _, columns := range []int{80, 50, 30, 10} {
		b := newBar(new(bytes.Buffer), newClock().now)
		b.columns = columns
		for _, s := range []status{
			{name: "manifests", done: 123_456, total: 1_234_567, elapsed: 90 * time.Minute, rate: 12_345},
			{name: "re-check", done: 123_456, elapsed: time.Second},
		} {
			if line := b.line(s); len([]rune(line)) >= columns {
				t.Errorf("line(%+v) in %d columns = %q (%d), want fewer than %d", s, columns, line, len([]rune(line)), columns)
			}
		}
	}
}

func TestConcurrentSteps(t *testing.T) {
	t.Parallel()
	const workers, steps = 64, 1000
	for name, r := range map[string]func(*syncBuffer) Reporter{
		"lines": func(w *syncBuffer) Reporter { return NewLines(w, time.Millisecond) },
		"bar":   func(w *syncBuffer) Reporter { return NewBar(w) },
		"nop":   func(*syncBuffer) Reporter { return Nop{} },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf syncBuffer
			r := r(&buf)
			r.Phase("manifests", 0, 0)
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range steps {
						r.Grow(1)
						r.Add(1)
					}
				})
			}
			wg.Wait()
			if name == "lines" {
				// Wait for a tick: a phase that wrote a line writes one at its end too.
				for deadline := time.Now().Add(10 * time.Second); len(buf.lines()) == 0 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			}
			r.End()
			if name == "lines" {
				got := buf.lines()
				if want := "shipshape: manifests 64,000/64,000 (100%) in "; len(got) == 0 || !strings.HasPrefix(got[len(got)-1], want) {
					t.Errorf("last line = %q, want it to start %q", got[len(got)-1:], want)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		terminal, quiet bool
		want            string
	}{
		{terminal: true, want: "*progress.bar"},
		{terminal: false, want: "*progress.lines"},
		{terminal: true, quiet: true, want: "progress.Nop"},
		{terminal: false, quiet: true, want: "progress.Nop"},
	}
	for _, tt := range tests {
		if got := typeName(New(new(bytes.Buffer), tt.terminal, tt.quiet)); got != tt.want {
			t.Errorf("New(w, %v, %v) is a %s, want a %s", tt.terminal, tt.quiet, got, tt.want)
		}
	}
}

func typeName(r Reporter) string {
	switch r.(type) {
	case *bar:
		return "*progress.bar"
	case *lines:
		return "*progress.lines"
	case Nop:
		return "progress.Nop"
	}
	return "?"
}

func TestQuietWritesNothing(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	r := New(&buf, true, true)
	r.Phase("manifests", 0, 10)
	r.Grow(5)
	r.Add(15)
	time.Sleep(2 * barRefresh)
	r.End()
	if got := buf.String(); got != "" {
		t.Errorf("quiet Reporter wrote %q, want nothing", got)
	}
}

func TestOrNop(t *testing.T) {
	t.Parallel()
	if _, ok := OrNop(nil).(Nop); !ok {
		t.Errorf("OrNop(nil) = %T, want Nop", OrNop(nil))
	}
	r := NewLines(new(bytes.Buffer), 0)
	if OrNop(r) != r {
		t.Errorf("OrNop(r) is not r")
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ got, want string }{
		{thousands(0), "0"},
		{thousands(999), "999"},
		{thousands(1000), "1,000"},
		{thousands(-1234567), "-1,234,567"},
		{perSecond(0), "0.0/s"},
		{perSecond(2.46), "2.5/s"},
		{perSecond(310.4), "310/s"},
		{perSecond(12_345.6), "12,346/s"},
		{clock(0), "00:00"},
		{clock(59*time.Minute + 59*time.Second + 999*time.Millisecond), "59:59"},
		{clock(25 * time.Hour), "25:00:00"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// BenchmarkAdd is what counting a step costs each of many goroutines counting at once,
// with a ticker drawing meanwhile: the price a backend pays per request.
func BenchmarkAdd(b *testing.B) {
	for name, r := range map[string]Reporter{
		"lines": NewLines(new(syncBuffer), time.Millisecond),
		"bar":   NewBar(new(syncBuffer)),
		"nop":   Nop{},
	} {
		b.Run(name, func(b *testing.B) {
			r.Phase("manifests", 0, b.N)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.Add(1)
				}
			})
			r.End()
		})
	}
}

// BenchmarkInventoryCounting is the counting of a 100,000-manifest inventory: a Grow and an
// Add per manifest from 8 goroutines (the default concurrency), to compare with the
// minutes the requests take.
func BenchmarkInventoryCounting(b *testing.B) {
	const manifests, workers = 100_000, 8
	r := NewLines(new(syncBuffer), time.Millisecond)
	for b.Loop() {
		r.Phase("manifests", 0, 0)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range manifests / workers {
					r.Grow(1)
					r.Add(1)
				}
			})
		}
		wg.Wait()
		r.End()
	}
}
