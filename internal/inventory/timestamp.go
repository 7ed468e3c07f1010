package inventory

import (
	"bytes"
	"time"
)

// parseRFC3339 parses "YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)" into UTC. It also accepts a
// lower-case t or a space as the separator, and offsets written ±hhmm or ±hh, as ISO 8601
// writers sometimes produce. It avoids time.Parse, which is slow on hot paths.
func parseRFC3339(s []byte) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") ||
		s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
		(s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	s = s[19:]
	nsec := 0
	if len(s) > 0 && (s[0] == '.' || s[0] == ',') {
		n := 1
		scale := 100_000_000
		for ; n < len(s) && '0' <= s[n] && s[n] <= '9'; n++ {
			nsec += int(s[n]-'0') * scale
			scale /= 10
		}
		if n == 1 {
			return time.Time{}, false
		}
		s = s[n:]
	}
	if len(s) == 0 {
		return time.Time{}, false
	}
	offset := 0
	switch s[0] {
	case 'Z', 'z':
		if len(s) != 1 {
			return time.Time{}, false
		}
	case '+', '-':
		var hh, mm int
		var ok bool
		switch z := s[1:]; {
		case len(z) == 5 && z[2] == ':':
			hh, ok = digits(z[0:2])
			if ok {
				mm, ok = digits(z[3:5])
			}
		case len(z) == 4:
			hh, ok = digits(z[0:2])
			if ok {
				mm, ok = digits(z[2:4])
			}
		case len(z) == 2:
			hh, ok = digits(z)
		}
		if !ok || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		offset = hh*3600 + mm*60
		if s[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// parseEpoch parses a JSON number of seconds since the Unix epoch, such as 1714557600,
// 1714557600.123 or 1.714557600123E9 (the way ECR's API writes them), into UTC. It works on
// the decimal digits rather than a float64, so fractions are exact to the nanosecond.
func parseEpoch(b []byte) (time.Time, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	mantissa, exp := b, 0
	if e := bytes.IndexAny(b, "eE"); e >= 0 {
		mantissa = b[:e]
		x := b[e+1:]
		expNeg := len(x) > 0 && x[0] == '-'
		if len(x) > 0 && (x[0] == '-' || x[0] == '+') {
			x = x[1:]
		}
		v, ok := digits(x)
		if !ok || len(x) == 0 || len(x) > 3 {
			return time.Time{}, false
		}
		exp = v
		if expNeg {
			exp = -v
		}
	}
	intPart, frac, _ := bytes.Cut(mantissa, []byte{'.'})
	if len(intPart) == 0 {
		return time.Time{}, false
	}
	// The number is 0.d × 10^point, d being the digits of both parts.
	var buf [64]byte
	d := buf[:0]
	for _, part := range [][]byte{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			if len(d) < cap(d) {
				d = append(d, c)
			}
		}
	}
	point := len(intPart) + exp
	for len(d) > 0 && d[0] == '0' {
		d, point = d[1:], point-1
	}
	if point > 12 && len(d) > 0 {
		return time.Time{}, false
	}
	digit := func(i int) int64 {
		if i < 0 || i >= len(d) {
			return 0
		}
		return int64(d[i] - '0')
	}
	var sec, nsec int64
	for i := range max(point, 0) {
		sec = sec*10 + digit(i)
	}
	for i := point; i < point+9; i++ {
		nsec = nsec*10 + digit(i)
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec).UTC(), true
}

// digits parses s, decimal digits only. It does not check for overflow: callers bound the
// length of s (nine digits always fit).
func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
