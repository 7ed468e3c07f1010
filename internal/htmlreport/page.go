package htmlreport

// page is what the page template shows: a Document with cleaned text and drawn figures.
type page struct {
	Title, Subtitle         string
	Generated, GeneratedISO string
	Sections                []pageSection
}

type pageSection struct {
	ID, Heading string
	Paragraphs  []string
	Figures     []pageFigure
	Tables      []pageTable
	Notes       []string
}

type pageFigure struct {
	ID string
	figure
}

// sample draws the legend item's colour sample.
func (l legendItem) sample(b *svgWriter) {
	b.s(`<svg class="sample" viewBox="0 0 24 12" aria-hidden="true">`)
	if l.Line {
		b.s(`<line x1="1" y1="6" x2="23" y2="6" stroke="`, l.Colour, `" stroke-width="3"`)
		if l.Dash != "" {
			b.s(` stroke-dasharray="`, l.Dash, `"`)
		}
		b.s(`/>`)
	} else {
		b.s(`<rect x="5" y="0" width="12" height="12" rx="2" fill="`, l.Colour, `"/>`)
	}
	b.s(`</svg>`)
}

type pageTable struct {
	ID, Caption string
	Columns     []pageCell
	Rows        [][]pageCell
	Footer      []pageCell
}

type pageCell struct {
	Text  string
	Class string // "num" for numeric columns, "short" for text short enough never to wrap
}

// css is the page's only style sheet: system fonts, a light and a dark theme, print rules.
// Charts take their text and axis colours from it, their data colours from the palette.
// Charts scale with the page down to 640 px, below which they scroll sideways in their
// frame (.plot) rather than shrink their text out of legibility; tables wrap long cells and
// scroll sideways (.table-wrap) only when their short cells alone are too wide.
const css = `:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--rule:#d1d9e0;--grid:#e4e8ec;--axis:#818b98;--accent:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9aa4ae;--bg:#0d1117;--panel:#151b23;--rule:#3d444d;--grid:#262c36;--axis:#6e7781;--accent:#4493f8}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
.page{max-width:1200px;margin:0 auto;padding:2rem 1.5rem 4rem}
header{margin-bottom:1.5rem}
h1{font-size:1.9rem;line-height:1.2;margin:0 0 .35rem;overflow-wrap:anywhere}
h2{font-size:1.4rem;line-height:1.3;margin:2.75rem 0 1rem;padding-bottom:.3rem;border-bottom:1px solid var(--rule);overflow-wrap:anywhere}
p{margin:0 0 1rem;max-width:80ch;overflow-wrap:anywhere}
.subtitle{font-size:1.15rem;color:var(--muted);margin:0 0 .35rem}
.generated{font-size:.875rem;color:var(--muted);margin:0}
a{color:var(--accent)}
nav{background:var(--panel);border:1px solid var(--rule);border-radius:6px;padding:.75rem 1.25rem}
nav h2{font-size:1rem;margin:0;padding:0;border:0}
nav ol{margin:.35rem 0 0;padding-left:1.4rem;columns:2 18rem;column-gap:2.5rem}
nav li{overflow-wrap:anywhere;break-inside:avoid}
figure{margin:1.75rem 0;break-inside:avoid}
figcaption{font-weight:600;margin-bottom:.35rem;overflow-wrap:anywhere}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.2rem 1.25rem;margin:0 0 .5rem;padding:0;font-size:.875rem}
.legend li{display:flex;align-items:center;gap:.4rem;min-width:0;overflow-wrap:anywhere}
.sample{flex:none;width:24px;height:12px}
.plot{overflow-x:auto}
.chart{display:block;width:100%;min-width:640px;height:auto;overflow:hidden;font-size:12px;font-variant-numeric:tabular-nums}
.chart text{fill:var(--fg)}
.chart .tick,.chart .note{fill:var(--muted)}
.chart .grid{stroke:var(--grid);stroke-width:1}
.chart .axis{stroke:var(--axis);stroke-width:1}
.chart .marker{stroke:var(--fg);stroke-width:1;stroke-dasharray:4 3;opacity:.6}
.chart .hit{fill:transparent}
.chart .marker-hit{stroke:transparent;stroke-width:9}
.chart .hit:hover,.chart .row:hover .hit{fill:var(--fg);fill-opacity:.07}
.chart .empty{fill:var(--muted);font-size:14px}
.chart .break{fill:none;stroke:var(--bg);stroke-width:2.5}
.chart .halo{paint-order:stroke;stroke:var(--bg);stroke-width:4px;stroke-linejoin:round}
.table-wrap{overflow-x:auto;margin:1.75rem 0;border:1px solid var(--rule);border-radius:6px}
table{width:100%;border-collapse:collapse;font-size:.875rem}
caption{caption-side:top;text-align:left;font-weight:600;padding:.6rem .75rem;overflow-wrap:anywhere}
th,td{padding:.35rem .75rem;text-align:left;vertical-align:top;overflow-wrap:anywhere;border-top:1px solid var(--rule)}
thead th{background:var(--panel);font-weight:600}
tbody tr:nth-child(even){background:var(--panel)}
tfoot td{font-weight:600;border-top:2px solid var(--rule)}
td.short{white-space:nowrap;overflow-wrap:normal}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;overflow-wrap:normal}
.notes{font-size:.875rem;color:var(--muted);padding-left:1.25rem;max-width:80ch}
.notes li{overflow-wrap:anywhere}
@media (max-width:640px){.page{padding:1rem .75rem 2rem}h1{font-size:1.5rem}}
@media print{:root{--fg:#000;--muted:#444;--bg:#fff;--panel:#f3f3f3;--rule:#bbb;--grid:#ddd;--axis:#777;--accent:#000}
.page{max-width:none;padding:0}nav{break-after:page}a{text-decoration:none}
h2{break-after:avoid}.chart{min-width:0}.plot,.table-wrap{overflow:visible}.table-wrap{border:0}thead{display:table-header-group}tr{break-inside:avoid}}
@page{margin:1.5cm}
`

// writePage writes the page. It does not use html/template: that package calls methods
// through reflection, which turns off the linker's dead-code elimination and made the
// shipshape binary 35 MB larger. Every text goes through esc instead, every attribute value
// is double-quoted, and the only markup passed through is the charts' SVG, which escapes
// its own text (svg.go).
func writePage(b *svgWriter, p page) {
	b.s("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
		"<meta name=\"color-scheme\" content=\"light dark\">\n",
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
		"<title>", esc(p.Title), "</title>\n<style>", css, "</style>\n</head>\n<body>\n<div class=\"page\">\n<header>\n",
		"<h1>", esc(p.Title), "</h1>\n")
	if p.Subtitle != "" {
		b.s(`<p class="subtitle">`, esc(p.Subtitle), "</p>\n")
	}
	if p.Generated != "" {
		b.s(`<p class="generated">Generated <time datetime="`, esc(p.GeneratedISO), `">`, esc(p.Generated), "</time></p>\n")
	}
	b.s("</header>\n")
	if len(p.Sections) > 0 {
		b.s("<nav aria-labelledby=\"toc\">\n<h2 id=\"toc\">Contents</h2>\n<ol>\n")
		for _, s := range p.Sections {
			b.s(`<li><a href="#`, s.ID, `">`, esc(s.Heading), "</a></li>\n")
		}
		b.s("</ol>\n</nav>\n")
	}
	b.s("<main>\n")
	for _, s := range p.Sections {
		b.s(`<section id="`, s.ID, `" aria-labelledby="`, s.ID, `-h">`, "\n", `<h2 id="`, s.ID, `-h">`, esc(s.Heading), "</h2>\n")
		for _, para := range s.Paragraphs {
			b.s("<p>", esc(para), "</p>\n")
		}
		for _, f := range s.Figures {
			writeFigure(b, f)
		}
		for _, t := range s.Tables {
			writeTable(b, t)
		}
		if len(s.Notes) > 0 {
			b.s(`<ul class="notes">`, "\n")
			for _, n := range s.Notes {
				b.s("<li>", esc(n), "</li>\n")
			}
			b.s("</ul>\n")
		}
		b.s("</section>\n")
	}
	b.s("</main>\n</div>\n</body>\n</html>\n")
}

func writeFigure(b *svgWriter, f pageFigure) {
	b.s(`<figure id="`, f.ID, `">`, "\n")
	if f.Title != "" {
		b.s("<figcaption>", esc(f.Title), "</figcaption>\n")
	}
	if len(f.Legend) > 0 {
		b.s(`<ul class="legend">`, "\n")
		for _, l := range f.Legend {
			b.s("<li>")
			l.sample(b)
			b.s(esc(l.Name), "</li>\n")
		}
		b.s("</ul>\n")
	}
	b.s(`<div class="plot">`, f.SVG, "</div>\n</figure>\n")
}

func writeTable(b *svgWriter, t pageTable) {
	b.s(`<div class="table-wrap" role="region" tabindex="0"`)
	if t.Caption != "" {
		b.s(` aria-label="`, esc(t.Caption), `"`)
	}
	b.s(">\n", `<table id="`, t.ID, `">`, "\n")
	if t.Caption != "" {
		b.s("<caption>", esc(t.Caption), "</caption>\n")
	}
	b.s("<thead><tr>")
	for _, c := range t.Columns {
		b.s(`<th scope="col"`, classAttr(c.Class), ">", esc(c.Text), "</th>")
	}
	b.s("</tr></thead>\n<tbody>\n")
	row := func(cells []pageCell) {
		b.s("<tr>")
		for _, c := range cells {
			b.s("<td", classAttr(c.Class), ">", esc(c.Text), "</td>")
		}
		b.s("</tr>")
	}
	for _, r := range t.Rows {
		row(r)
		b.s("\n")
	}
	b.s("</tbody>\n")
	if t.Footer != nil {
		b.s("<tfoot>")
		row(t.Footer)
		b.s("</tfoot>\n")
	}
	b.s("</table>\n</div>\n")
}

func classAttr(class string) string {
	if class == "" {
		return ""
	}
	return ` class="` + class + `"`
}
