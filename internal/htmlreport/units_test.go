package htmlreport

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNiceTicks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		lo, hi, minStep float64
		target          int
		wantTicks       []float64
		wantStep        float64
	}{
		{name: "unit range", lo: 0, hi: 1, target: 5, wantTicks: []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}, wantStep: 0.2},
		{name: "rounds out to steps of 2", lo: 0, hi: 9.3, target: 5, wantTicks: []float64{0, 2, 4, 6, 8, 10}, wantStep: 2},
		{name: "steps of 5", lo: 0, hi: 23, target: 5, wantTicks: []float64{0, 5, 10, 15, 20, 25}, wantStep: 5},
		{name: "steps of 10", lo: 0, hi: 37, target: 5, wantTicks: []float64{0, 10, 20, 30, 40}, wantStep: 10},
		{name: "negative lower bound", lo: -12, hi: 31, target: 4, wantTicks: []float64{-20, 0, 20, 40}, wantStep: 20},
		{name: "not from zero", lo: 1210, hi: 1290, target: 4, wantTicks: []float64{1200, 1220, 1240, 1260, 1280, 1300}, wantStep: 20},
		{name: "counts never tick at fractions", lo: 0, hi: 3, target: 5, minStep: 1, wantTicks: []float64{0, 1, 2, 3}, wantStep: 1},
		{name: "empty range", lo: 5, hi: 5, target: 5, wantTicks: []float64{5, 5.2, 5.4, 5.6000000000000005, 5.800000000000001, 6}, wantStep: 0.2},
		{name: "reversed bounds", lo: 10, hi: 0, target: 2, wantTicks: []float64{0, 5, 10}, wantStep: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ticks, step := niceTicks(tt.lo, tt.hi, tt.target, tt.minStep)
			if diff := cmp.Diff(tt.wantTicks, ticks); diff != "" {
				t.Errorf("niceTicks(%v, %v, %d) ticks (-want +got):\n%s", tt.lo, tt.hi, tt.target, diff)
			}
			if step != tt.wantStep {
				t.Errorf("niceTicks(%v, %v, %d) step = %v, want %v", tt.lo, tt.hi, tt.target, step, tt.wantStep)
			}
		})
	}
}

func TestValueScaleLabels(t *testing.T) {
	t.Parallel()
	const gib = 1 << 30
	tests := []struct {
		name   string
		unit   Unit
		lo, hi float64
		want   []string
	}{
		{name: "bytes tick in binary units", unit: Bytes, hi: 4.4 * (1 << 40), want: []string{"0", "1 TiB", "2 TiB", "3 TiB", "4 TiB", "5 TiB"}},
		{name: "fractional GiB", unit: Bytes, hi: 2.2 * gib, want: []string{"0", "0.5 GiB", "1.0 GiB", "1.5 GiB", "2.0 GiB", "2.5 GiB"}},
		{name: "small byte counts stay whole", unit: Bytes, hi: 3, want: []string{"0", "1 B", "2 B", "3 B"}},
		{name: "thousands of dollars", unit: USD, hi: 4430, want: []string{"$0", "$1k", "$2k", "$3k", "$4k", "$5k"}},
		{name: "cents", unit: USD, hi: 0.9, want: []string{"$0", "$0.20", "$0.40", "$0.60", "$0.80", "$1.00"}},
		{name: "millions of dollars", unit: USD, hi: 2.5e6, want: []string{"$0", "$0.5M", "$1.0M", "$1.5M", "$2.0M", "$2.5M"}},
		{name: "counts with separators", unit: Count, hi: 23000, want: []string{"0", "5,000", "10,000", "15,000", "20,000", "25,000"}},
		{name: "negative counts", unit: Count, lo: -20, hi: 20, want: []string{"-20", "-10", "0", "10", "20"}},
		{name: "all zero", unit: Count, want: []string{"0", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := valueScale(tt.unit, tt.lo, tt.hi, 5)
			if diff := cmp.Diff(tt.want, got.labels); diff != "" {
				t.Errorf("valueScale(%v, %v, %v) labels (-want +got):\n%s", tt.unit, tt.lo, tt.hi, diff)
			}
			if got.lo > tt.lo || got.hi < tt.hi {
				t.Errorf("valueScale(%v, %v, %v) spans [%v, %v], which does not cover the data", tt.unit, tt.lo, tt.hi, got.lo, got.hi)
			}
		})
	}
}

func TestUnitFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unit Unit
		v    float64
		want string
	}{
		{Bytes, 0, "0 B"},
		{Bytes, 512, "512 B"},
		{Bytes, 1023.6, "1.00 KiB"},
		{Bytes, 1536, "1.50 KiB"},
		{Bytes, 12.34 * (1 << 30), "12.3 GiB"},
		{Bytes, 123.4 * (1 << 30), "123 GiB"},
		{Bytes, 1023.9 * (1 << 20), "1.00 GiB"},
		{Bytes, 3 * (1 << 40), "3.00 TiB"},
		{Bytes, -2048, "-2.00 KiB"},
		{USD, 0, "$0.00"},
		{USD, 12.345, "$12.35"},
		{USD, 999.994, "$999.99"},
		{USD, 999.999, "$1.00k"},
		{USD, 12345, "$12.3k"},
		{USD, 4.56e6, "$4.56M"},
		{USD, 7.2e9, "$7.20B"},
		{USD, -3, "-$3.00"},
		{Count, 0, "0"},
		{Count, 1234567, "1,234,567"},
		{Count, 1234.5, "1,234.5"},
		{Count, -1000, "-1,000"},
		{Count, math.NaN(), "–"},
		{Bytes, math.NaN(), "–"},
	}
	for _, tt := range tests {
		if got := tt.unit.Format(tt.v); got != tt.want {
			t.Errorf("Unit(%d).Format(%v) = %q, want %q", tt.unit, tt.v, got, tt.want)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		start, end time.Time
		max        int
		want       []string
	}{
		{name: "a week, daily", start: day(2026, 6, 1), end: day(2026, 6, 7), max: 10,
			want: []string{"Jun 1", "Jun 2", "Jun 3", "Jun 4", "Jun 5", "Jun 6", "Jun 7"}},
		{name: "90 days, on Mondays", start: day(2026, 3, 4), end: day(2026, 6, 1), max: 10,
			want: []string{"Mar 16", "Mar 30", "Apr 13", "Apr 27", "May 11", "May 25"}},
		{name: "two years, by quarter", start: day(2025, 2, 10), end: day(2026, 12, 1), max: 10,
			want: []string{"Apr 2025", "Jul 2025", "Oct 2025", "Jan 2026", "Apr 2026", "Jul 2026", "Oct 2026"}},
		{name: "a day, by hours", start: day(2026, 6, 1), end: day(2026, 6, 1).Add(10 * time.Hour), max: 6,
			want: []string{"00:00", "02:00", "04:00", "06:00", "08:00", "10:00"}},
		{name: "across new year", start: day(2025, 12, 28), end: day(2026, 1, 3), max: 4,
			want: []string{"Dec 28 2025", "Dec 30 2025", "Jan 1 2026", "Jan 3 2026"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ticks, layout := timeTicks(tt.start, tt.end, tt.max)
			var got []string
			for _, tick := range ticks {
				got = append(got, tick.Format(layout))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("timeTicks(%v, %v, %d) (-want +got):\n%s", tt.start, tt.end, tt.max, diff)
			}
		})
	}
}

func TestFit(t *testing.T) {
	t.Parallel()
	long := "acme-corp/payments/services/payments-very-long-service-name-that-keeps-going/api-000"
	tests := []struct {
		name    string
		s       string
		width   float64
		middle  bool
		want    string
		wantCut bool
	}{
		{name: "fits", s: "payments/api", width: 200, want: "payments/api"},
		{name: "middle keeps both ends", s: long, width: 200, middle: true, want: "acme-corp/…eps-going/api-000", wantCut: true},
		{name: "end", s: long, width: 200, want: "acme-corp/payments/services…", wantCut: true},
		{name: "no room", s: long, width: 5, want: "…", wantCut: true},
		{name: "control characters and bidi overrides go", s: "a\u202eb\nc", width: 200, want: "ab c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, cut := fit(tt.s, tt.width, fontSize, tt.middle)
			if got != tt.want || cut != tt.wantCut {
				t.Errorf("fit(%q, %v) = %q, %v; want %q, %v", tt.s, tt.width, got, cut, tt.want, tt.wantCut)
			}
			if w := textWidth(got, fontSize); cut && w > tt.width && got != "…" {
				t.Errorf("fit(%q, %v) = %q, %v units wide", tt.s, tt.width, got, w)
			}
		})
	}
}
