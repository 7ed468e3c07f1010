package htmlreport_test

import (
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/htmlreport"
)

// TestReportInChromium renders a demanding report in headless Chromium through
// scripts/screenshot.sh: 500 repositories with names of over 100 characters, three 90-day
// series with markers and every kind of figure. It fails when anything overflows at 1280 px
// (even a table frame that has to scroll), when chart text is clipped or overlaps, or when
// the screenshot is not a full-page PNG 1280 px wide. A second page, broken on purpose,
// shows that the check finds what it looks for. Without Chromium the test skips, unless
// SHIPSHAPE_REQUIRE_CHROMIUM=1.
func TestReportInChromium(t *testing.T) {
	t.Parallel()
	browser := findChromium()
	if browser == "" {
		const install = "install it with apt-get install -y chromium, or set CHROMIUM to a Chromium binary"
		if os.Getenv("SHIPSHAPE_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("Chromium is not installed and SHIPSHAPE_REQUIRE_CHROMIUM=1: %s", install)
		}
		t.Skipf("Chromium is not installed, so the report was not checked in a browser: %s (SHIPSHAPE_REQUIRE_CHROMIUM=1 makes this a failure)", install)
	}
	screenshot := func(t *testing.T, report, shot string) (string, error) {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "screenshot.sh"), report, shot, "1280")
		cmd.Env = append(os.Environ(), "CHROMIUM="+browser)
		out, err := cmd.CombinedOutput()
		t.Logf("screenshot.sh %s:\n%s", filepath.Base(report), out)
		return string(out), err
	}

	t.Run("demanding report", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		report, shot := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.png")
		f, err := os.Create(report)
		if err != nil {
			t.Fatal(err)
		}
		if err := htmlreport.Write(f, demoDocument(500)); err != nil {
			t.Fatalf("Write() = %v", err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		out, err := screenshot(t, report, shot)
		if err != nil {
			t.Fatalf("screenshot.sh: %v", err)
		}
		if strings.Contains(out, "scroller:") {
			t.Errorf("a frame scrolls sideways at 1280 px; the page should fit")
		}
		pf, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer pf.Close()
		cfg, err := png.DecodeConfig(pf)
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if cfg.Width != 1280 || cfg.Height < 10000 {
			t.Errorf("screenshot is %d × %d px, want 1280 px wide and the full page (≥ 10,000 px)", cfg.Width, cfg.Height)
		}
	})

	t.Run("the check finds overflow", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		report := filepath.Join(dir, "broken.html")
		const broken = `<!DOCTYPE html><html><head><style>.box{width:300px;white-space:nowrap;overflow:hidden}</style></head><body>
<div class="box">` + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + `</div>
<div style="width:1500px">wider than the window</div>
<svg class="chart" id="c" viewBox="0 0 200 50" width="400"><text x="150" y="20">past the right edge</text><text x="10" y="40">one</text><text x="12" y="42">two</text></svg>
</body></html>`
		if err := os.WriteFile(report, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := screenshot(t, report, filepath.Join(dir, "broken.png"))
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("screenshot.sh of a broken page = %v, want exit status 1", err)
		}
		for _, want := range []string{"overflow: div.box", "offscreen: div", `clipped: svg#c text "past the right edge"`, `overlap: svg#c text "one" and "two"`} {
			if !strings.Contains(out, want) {
				t.Errorf("screenshot.sh did not report %q", want)
			}
		}
	})
}

// findChromium is $CHROMIUM, or the first Chromium or Chrome on the PATH, or "".
func findChromium() string {
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if c := os.Getenv("CHROMIUM"); c != "" {
		names = []string{c}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}
