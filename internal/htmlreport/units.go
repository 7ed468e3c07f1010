package htmlreport

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Unit says what the numbers of a chart measure, which decides how its axis ticks and value
// labels are formatted. The zero value is Count.
type Unit int

const (
	// Count formats plain numbers with thousands separators: "12,345".
	Count Unit = iota
	// Bytes formats byte counts with binary units: "512 B", "1.50 KiB", "12.3 GiB".
	Bytes
	// USD formats amounts of US dollars: "$12.34" below a thousand, then "$12.3k", "$1.23M",
	// "$4.56B".
	USD
)

// Format formats v in unit u for value labels and tooltips, with three significant digits
// where a suffix is used. NaN, which charts treat as "no data", formats as "–".
func (u Unit) Format(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	switch u {
	case Bytes:
		if math.Round(v) < 1024 {
			return sign + strconv.FormatFloat(math.Round(v), 'f', 0, 64) + " B"
		}
		return sign + scaled(v, 1024, []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"})
	case USD:
		if math.Round(v*100)/100 < 1000 {
			return sign + "$" + strconv.FormatFloat(v, 'f', 2, 64)
		}
		return sign + "$" + scaled(v, 1000, []string{"", "k", "M", "B", "T"})
	default:
		if v == math.Trunc(v) || v >= 1e15 {
			return sign + thousands(strconv.FormatFloat(v, 'f', 0, 64))
		}
		return sign + thousands(strconv.FormatFloat(v, 'f', 1, 64))
	}
}

// scaled divides v ≥ base by base until it is below base, then formats it with three
// significant digits and the matching suffix, moving up a suffix when rounding reaches base.
func scaled(v, base float64, suffixes []string) string {
	i := 0
	for v >= base && i < len(suffixes)-1 {
		v /= base
		i++
	}
	for {
		s := sig3(v)
		if f, _ := strconv.ParseFloat(s, 64); f >= base && i < len(suffixes)-1 {
			v /= base
			i++
			continue
		}
		return s + suffixes[i]
	}
}

// sig3 formats v (≥ 1) with three significant digits: "1.23", "12.3", "123", "1023".
func sig3(v float64) string {
	switch {
	case math.Round(v*100)/100 < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case math.Round(v*10)/10 < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// thousands puts commas between groups of three digits of the integer part of a formatted
// non-negative number.
func thousands(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// scale is a linear axis: its domain [lo, hi] spans the ticks, labelled in the axis unit.
type scale struct {
	lo, hi float64
	ticks  []float64
	labels []string
}

// valueScale returns an axis covering [lo, hi] with about target ticks at 1, 2 or 5 times a
// power of ten of the unit the labels use (so bytes tick at 0, 2, 4 GiB, not at powers of
// ten of bytes). Counts and whole bytes never tick at fractions.
func valueScale(u Unit, lo, hi float64, target int) scale {
	if lo == hi {
		if lo == 0 {
			hi = 1
		} else if lo > 0 {
			lo = 0
		} else {
			hi = 0
		}
	}
	div, suffix := 1.0, ""
	switch u {
	case Bytes:
		names := []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"}
		m := math.Max(math.Abs(lo), math.Abs(hi))
		i := 0
		for m >= 1024 && i < len(names)-1 {
			m /= 1024
			div *= 1024
			i++
		}
		suffix = names[i]
	case USD:
		m := math.Max(math.Abs(lo), math.Abs(hi))
		switch {
		case m >= 1e9:
			div = 1e9
		case m >= 1e6:
			div = 1e6
		case m >= 1e3:
			div = 1e3
		}
		suffix = usdSuffix(div)
	}
	minStep := 0.0
	if u == Count || (u == Bytes && div == 1) {
		minStep = 1
	}
	ticks, step := niceTicks(lo/div, hi/div, target, minStep)
	if u == USD && div < 1e9 && math.Max(math.Abs(ticks[0]), math.Abs(ticks[len(ticks)-1])) >= 1000 {
		// The ticks reach the next suffix: "$1.0M", not "$1,000k".
		for i := range ticks {
			ticks[i] /= 1000
		}
		step /= 1000
		div *= 1000
		suffix = usdSuffix(div)
	}
	dec := decimals(step)
	if u == USD && div == 1 && step < 1 {
		dec = max(dec, 2) // cents
	}
	s := scale{lo: ticks[0] * div, hi: ticks[len(ticks)-1] * div}
	for _, t := range ticks {
		s.ticks = append(s.ticks, t*div)
		sign := ""
		if t < 0 {
			sign, t = "-", -t
		}
		num := thousands(strconv.FormatFloat(t, 'f', dec, 64))
		switch {
		case t == 0 && u == USD:
			s.labels = append(s.labels, "$0")
		case t == 0:
			s.labels = append(s.labels, "0")
		case u == USD:
			s.labels = append(s.labels, sign+"$"+num+suffix)
		default:
			s.labels = append(s.labels, sign+num+suffix)
		}
	}
	return s
}

// usdSuffix names a divisor of dollar amounts: "k" for a thousand, "M", "B".
func usdSuffix(div float64) string {
	switch div {
	case 1e3:
		return "k"
	case 1e6:
		return "M"
	case 1e9:
		return "B"
	}
	return ""
}

// niceTicks returns ticks spaced by 1, 2 or 5 times a power of ten (and at least minStep
// apart), from the last at or below lo to the first at or above hi, about target of them.
func niceTicks(lo, hi float64, target int, minStep float64) (ticks []float64, step float64) {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		hi = lo + 1
	}
	if target < 2 {
		target = 2
	}
	raw := (hi - lo) / float64(target)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch norm := raw / mag; {
	case norm <= 1:
		step = mag
	case norm <= 2:
		step = 2 * mag
	case norm <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	step = math.Max(step, minStep)
	first := math.Floor(lo/step + 1e-9)
	last := math.Ceil(hi/step - 1e-9)
	for i := first; i <= last; i++ {
		v := i * step
		if v == 0 {
			v = 0 // no "-0"
		}
		ticks = append(ticks, v)
	}
	return ticks, step
}

// decimals is the number of decimals a tick step needs: 0 for 1, 2, 5, 10 …, 1 for 0.5 ….
func decimals(step float64) int {
	if step >= 1 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step) - 1e-9))
}

// timeTicks returns the ticks of a time axis from start to end with at most maxTicks of them,
// on natural boundaries: hours, days, Mondays, first days of months, new years; and the
// layout to label them with.
func timeTicks(start, end time.Time, maxTicks int) ([]time.Time, string) {
	if maxTicks < 2 {
		maxTicks = 2
	}
	span := end.Sub(start)
	type step struct {
		hours, days, months int
		layout              string
	}
	dayLayout := "Jan 2"
	if start.Year() != end.Year() {
		dayLayout = "Jan 2 2006"
	}
	steps := []step{
		{hours: 1, layout: "15:04"}, {hours: 2, layout: "15:04"}, {hours: 3, layout: "15:04"},
		{hours: 6, layout: "15:04"}, {hours: 12, layout: "Jan 2 15:04"},
		{days: 1, layout: dayLayout}, {days: 2, layout: dayLayout}, {days: 7, layout: dayLayout},
		{days: 14, layout: dayLayout},
		{months: 1, layout: "Jan 2006"}, {months: 2, layout: "Jan 2006"}, {months: 3, layout: "Jan 2006"},
		{months: 6, layout: "Jan 2006"},
		{months: 12, layout: "2006"}, {months: 24, layout: "2006"}, {months: 60, layout: "2006"},
		{months: 120, layout: "2006"}, {months: 600, layout: "2006"},
	}
	loc := start.Location()
	for i, s := range steps {
		var t time.Time
		next := func(t time.Time) time.Time {
			return t.AddDate(0, s.months, s.days).Add(time.Duration(s.hours) * time.Hour)
		}
		switch {
		case s.hours > 0:
			if span > time.Duration(s.hours*maxTicks)*time.Hour && i < len(steps)-1 {
				continue
			}
			t = time.Date(start.Year(), start.Month(), start.Day(), start.Hour()/s.hours*s.hours, 0, 0, 0, loc)
		case s.days > 0:
			if span > time.Duration(s.days*maxTicks)*24*time.Hour {
				continue
			}
			t = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
			if s.days >= 7 { // weeks start on Monday
				t = t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
			}
		default:
			months := int(span.Hours()/24/30.4) + 1
			if months > s.months*maxTicks && i < len(steps)-1 {
				continue
			}
			m := (int(start.Month()) - 1 + start.Year()*12) / s.months * s.months
			t = time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, loc)
		}
		for t.Before(start) {
			t = next(t)
		}
		var ticks []time.Time
		for ; !t.After(end); t = next(t) {
			ticks = append(ticks, t)
		}
		if len(ticks) <= maxTicks {
			return ticks, s.layout
		}
	}
	return []time.Time{start, end}, "2006-01-02"
}
