package htmlreport

import (
	"html"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Geometry shared by every chart, in viewBox units. The SVG scales to the width of the page
// (at most about 1150 px), so 12 units of font size show as 12–14 px on a desktop.
const (
	chartWidth = 960.0
	fontSize   = 12.0
	// lineHeight is the vertical room one line of chart text takes.
	lineHeight = 16.0
	// maxLabelShare caps the share of the chart width that category labels (repository
	// names) may take; longer ones are shortened with an ellipsis.
	maxLabelShare = 0.34
)

// palette is the Okabe–Ito palette, distinguishable with the common colour-vision
// deficiencies, ordered so that the first colours contrast best on white and on dark grey;
// yellow, weak on white, comes last.
var palette = [...]string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#999999", "#F0E442"}

// dashes tell apart series that share a colour once the palette has been used up.
var dashes = [...]string{"", "6 4", "2 3", "10 3 2 3"}

// style is the colour and dash pattern of the i-th series; dashed asks for a dash even for
// the first round of colours.
func style(i int, dashed bool) (colour, dash string) {
	colour = palette[i%len(palette)]
	dash = dashes[(i/len(palette))%len(dashes)]
	if dashed && dash == "" {
		dash = dashes[1]
	}
	return colour, dash
}

// clean makes untrusted text safe to lay out: valid UTF-8, no control characters (newlines
// become spaces) and no bidirectional overrides, which could make a name display as another.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unsafeRune(r):
			return -1
		}
		return r
	}, s)
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F
}

// esc escapes text for SVG/HTML text and double-quoted attribute values.
func esc(s string) string { return html.EscapeString(clean(s)) }

// escTip escapes a tooltip of several lines separated by "\n"; callers clean untrusted
// parts before joining them, so only their own line breaks remain.
func escTip(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = esc(l)
	}
	return strings.Join(lines, "\n")
}

// textWidth estimates the width of s set in the system sans-serif at size. There are no font
// metrics to measure with, so the estimate errs wide: truncation must never let text overflow.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w * size
}

func runeWidth(r rune) float64 {
	switch {
	case strings.ContainsRune("iIjlt.,:;|!'`()[]{} ", r):
		return 0.34
	case strings.ContainsRune("fr-/\\\"", r):
		return 0.45
	case strings.ContainsRune("MWmw@%", r):
		return 0.9
	case r >= 'A' && r <= 'Z':
		return 0.7
	case r < 0x80:
		return 0.6
	case r == '…':
		return 1.0
	case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || (r >= 0xFF00 && r <= 0xFFEF) || r >= 0x1F000:
		return 1.05
	default:
		return 0.7
	}
}

// fit shortens s with an ellipsis until it fits in width at size. With middle set it keeps
// the start and the end ("platform/…/checkout-api"), which tells long repository names
// apart better than their shared prefixes do; otherwise it cuts the end. It reports whether
// it shortened s.
func fit(s string, width, size float64, middle bool) (string, bool) {
	s = clean(s)
	if textWidth(s, size) <= width {
		return s, false
	}
	runes := []rune(s)
	budget := width/size - runeWidth('…')
	if budget <= 0 {
		return "…", true
	}
	if !middle {
		w, i := 0.0, 0
		for ; i < len(runes) && w+runeWidth(runes[i]) <= budget; i++ {
			w += runeWidth(runes[i])
		}
		return strings.TrimRight(string(runes[:i]), " ") + "…", true
	}
	// Give the tail, where repository names differ, three fifths of the room.
	headBudget := budget * 0.4
	w, head := 0.0, 0
	for ; head < len(runes) && w+runeWidth(runes[head]) <= headBudget; head++ {
		w += runeWidth(runes[head])
	}
	tail := len(runes)
	for tail > head && w+runeWidth(runes[tail-1]) <= budget {
		tail--
		w += runeWidth(runes[tail])
	}
	return string(runes[:head]) + "…" + string(runes[tail:]), true
}

// num formats a coordinate with at most one decimal, which is far below a pixel and keeps
// the output small and deterministic.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// svgWriter builds the markup of one chart. Every attribute value it writes is either a
// number it formatted or text passed through esc.
type svgWriter struct{ strings.Builder }

func (b *svgWriter) s(parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
}

// text writes a text element at (x, y); class and anchor may be empty; tooltip, when set,
// becomes a <title> child that browsers show on hover (the full text of a shortened label).
func (b *svgWriter) text(x, y float64, class, anchor, content, tooltip string) {
	b.s(`<text x="`, num(x), `" y="`, num(y), `"`)
	if class != "" {
		b.s(` class="`, class, `"`)
	}
	if anchor != "" && anchor != "start" {
		b.s(` text-anchor="`, anchor, `"`)
	}
	b.s(">")
	if tooltip != "" {
		b.s("<title>", escTip(tooltip), "</title>")
	}
	b.s(esc(content), "</text>\n")
}

// label writes a text element holding s shortened to width, with the full s as its tooltip
// when it had to be shortened.
func (b *svgWriter) label(x, y, width float64, class, anchor, s string, middle bool) {
	short, cut := fit(s, width, fontSize, middle)
	tip := ""
	if cut {
		tip = clean(s)
	}
	b.text(x, y, class, anchor, short, tip)
}

func (b *svgWriter) line(x1, y1, x2, y2 float64, class string) {
	b.s(`<line x1="`, num(x1), `" y1="`, num(y1), `" x2="`, num(x2), `" y2="`, num(y2), `" class="`, class, `"/>`, "\n")
}

// rect writes a filled rectangle; tooltip, when set, becomes its <title>.
func (b *svgWriter) rect(x, y, w, h float64, fill, class, tooltip string) {
	b.s(`<rect x="`, num(x), `" y="`, num(y), `" width="`, num(math.Max(w, 0)), `" height="`, num(math.Max(h, 0)), `"`)
	if fill != "" {
		b.s(` fill="`, fill, `"`)
	}
	if class != "" {
		b.s(` class="`, class, `"`)
	}
	if tooltip == "" {
		b.s("/>\n")
		return
	}
	b.s("><title>", escTip(tooltip), "</title></rect>\n")
}
