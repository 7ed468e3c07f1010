#!/usr/bin/env bash
# Full-page screenshot of an HTML report in headless Chromium, and a check that nothing on
# the page overflows horizontally.
#
#   scripts/screenshot.sh REPORT.html OUT.png [WIDTH]   # WIDTH defaults to 1280
#
# The check runs in a temporary copy of the report (the report itself is never changed):
# the copy gets a small script that, once the page has loaded, lists
#   overflow:  elements whose content is wider than their box (scrollWidth > clientWidth),
#              except the frames meant to scroll sideways (.table-wrap around a table,
#              .plot around a chart on a narrow screen), listed as "scroller:" for
#              information;
#   offscreen: elements reaching past the left or right edge of the viewport;
#   clipped:   chart text outside its chart;
#   overlap:   chart text overlapping other (level) text of the same chart;
# and writes the list into the page, which Chromium's --dump-dom reads back. The copy also
# drops the report's Content-Security-Policy, which forbids scripts.
#
# Prints the findings on stdout. Exits 0 when there are none (besides scrollers), 1 when
# there are, 2 on a usage error or when Chromium is missing or fails. The browser is
# $CHROMIUM, else the first of chromium, chromium-browser, google-chrome on the PATH; when
# there is none, root on Debian gets it with apt-get install -y chromium.
set -euo pipefail

usage() {
	sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
[[ $# -ge 2 && $# -le 3 ]] || usage
report=$1 out=$2 width=${3:-1280}
[[ -f $report ]] || { echo "screenshot.sh: no such report: $report" >&2; exit 2; }
[[ $width =~ ^[0-9]+$ && $width -ge 200 ]] || { echo "screenshot.sh: WIDTH must be a number of pixels ≥ 200, not $width" >&2; exit 2; }

# check_height is the window height for the check; max_height caps the screenshot, whose
# window Chromium must allocate whole (about 160 MB at 1280 × 32768).
check_height=2000
max_height=32768
# budget_ms is the virtual time Chromium gives the page to load and run the check.
budget_ms=2000

find_chromium() {
	if [[ -n ${CHROMIUM:-} ]]; then
		command -v "$CHROMIUM"
		return
	fi
	local c
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c"; then
			return
		fi
	done
	return 1
}

if [[ -n ${CHROMIUM:-} ]] && ! command -v "$CHROMIUM" >/dev/null; then
	echo "screenshot.sh: CHROMIUM=$CHROMIUM is not a command" >&2
	exit 2
fi
if ! browser=$(find_chromium); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "screenshot.sh: installing chromium (apt-get install -y chromium)" >&2
		apt-get install -y chromium >&2 || { apt-get update >&2 && apt-get install -y chromium >&2; }
		browser=$(find_chromium) || { echo "screenshot.sh: chromium is still missing after apt-get" >&2; exit 2; }
	else
		echo "screenshot.sh: Chromium is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y chromium)," >&2
		echo "or point CHROMIUM at a Chromium or Chrome binary." >&2
		exit 2
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/check.html" <<'EOF'
<script>
addEventListener("load", function () {
  var vw = document.documentElement.clientWidth, found = [];
  function name(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.getAttribute("class")) s += "." + el.getAttribute("class").trim().split(/\s+/).join(".");
    var svg = el.closest("svg[id]");
    if (svg && svg !== el) s = "svg#" + svg.id + " " + s;
    return s;
  }
  function text(el) {
    var t = "";
    el.childNodes.forEach(function (n) { if (n.nodeName.toLowerCase() !== "title") t += n.textContent; });
    return JSON.stringify(t.trim().slice(0, 60));
  }
  document.body.querySelectorAll("*").forEach(function (el) {
    if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") return; // chart insides: below
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      var kind = el.matches(".table-wrap, .plot") ? "scroller" : "overflow";
      found.push(kind + ": " + name(el) + " is " + el.scrollWidth + " px wide inside " + el.clientWidth + " px");
    }
    if (el.parentElement.closest(".table-wrap, .plot")) return; // clipped by its scrolling frame
    var r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)) {
      found.push("offscreen: " + name(el) + " spans x " + Math.round(r.left) + "–" + Math.round(r.right) + " of a " + vw + " px viewport");
    }
  });
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var box = svg.getBoundingClientRect(), level = [];
    svg.querySelectorAll("text").forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.width === 0) return;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5) {
        found.push("clipped: " + name(t) + " " + text(t) + " reaches outside its chart");
      }
      if (!t.hasAttribute("transform")) level.push({ t: t, r: r });
    });
    for (var i = 0; i < level.length; i++) {
      for (var j = i + 1; j < level.length; j++) {
        var a = level[i].r, b = level[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 2 && b.top < a.bottom - 2) {
          found.push("overlap: " + name(level[i].t) + " " + text(level[i].t) + " and " + text(level[j].t));
        }
      }
    }
  });
  var pre = document.createElement("pre");
  pre.id = "shipshape-check";
  pre.textContent = "height: " + document.documentElement.scrollHeight + "\n" + found.join("\n");
  document.body.appendChild(pre);
});
</script>
EOF
# The copy: no CSP (it would block the script), the script before </body> (or at the end).
sed 's/<meta http-equiv="Content-Security-Policy"[^>]*>//I' "$report" |
	awk -v check="$tmp/check.html" '
		/<\/body>/ && !done { while ((getline line < check) > 0) print line; done = 1 }
		{ print }
		END { if (!done) while ((getline line < check) > 0) print line }' >"$tmp/report.html"

chromium_run() {
	"$browser" --headless --disable-gpu --no-sandbox --no-first-run --hide-scrollbars \
		--force-device-scale-factor=1 --user-data-dir="$tmp/profile" "$@" 2>>"$tmp/chromium.log"
}

if ! chromium_run --window-size="$width,$check_height" --virtual-time-budget="$budget_ms" \
	--dump-dom "file://$(realpath "$tmp/report.html")" >"$tmp/dom.html"; then
	echo "screenshot.sh: chromium failed:" >&2
	tail -20 "$tmp/chromium.log" >&2
	exit 2
fi
result=$(sed -n '/<pre id="shipshape-check">/,/<\/pre>/p' "$tmp/dom.html" |
	sed -e 's/.*<pre id="shipshape-check">//' -e 's/<\/pre>.*//' |
	sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' -e 's/&amp;/\&/g')
if [[ -z $result ]]; then
	echo "screenshot.sh: the check did not run (no result in the page); chromium said:" >&2
	tail -20 "$tmp/chromium.log" >&2
	exit 2
fi
height=$(sed -n 's/^height: //p' <<<"$result")
findings=$(grep -v '^height: ' <<<"$result" || true)

shot_height=$height
if ((shot_height > max_height)); then
	echo "screenshot.sh: the page is $height px tall; the screenshot shows the first $max_height" >&2
	shot_height=$max_height
fi
rm -f "$out"
if ! chromium_run --window-size="$width,$shot_height" --virtual-time-budget="$budget_ms" \
	--screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" >/dev/null || [[ ! -s $out ]]; then
	echo "screenshot.sh: chromium took no screenshot:" >&2
	tail -20 "$tmp/chromium.log" >&2
	exit 2
fi

echo "page: ${width} × ${height} px; screenshot: $out"
if [[ -n $findings ]]; then
	echo "$findings"
fi
if [[ -n $findings ]] && grep -qv '^scroller: ' <<<"$findings"; then
	echo "screenshot.sh: content overflows at $width px (see above)" >&2
	exit 1
fi
echo "no horizontal overflow at $width px"
