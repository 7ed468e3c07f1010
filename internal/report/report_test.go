package report_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/report"
)

func TestFormats(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{report.Bytes(512), "512 B"},
		{report.Bytes(1536), "1.5 KiB"},
		{report.Bytes(8073681856), "7.5 GiB"},
		{report.Thousands(1183), "1,183"},
		{report.Thousands(-1234567), "-1,234,567"},
		{report.Thousands(12), "12"},
		{report.Percent(1, 3), " (33%)"},
		{report.Percent(1, 0), ""},
		{report.Cell("a|b <c>\nd"), `a\|b &lt;c&gt; d`},
		{report.Repository(""), "(unnamed repository)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

type failing struct{ n int }

func (f *failing) Write(b []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestWriterKeepsFirstError(t *testing.T) {
	t.Parallel()
	f := &failing{}
	w := &report.Writer{W: f}
	for range 3 {
		if n, err := w.Write([]byte("x")); n != 1 || err != nil {
			t.Fatalf("Write() = %d, %v; want 1, nil", n, err)
		}
	}
	if w.Err == nil || f.n != 1 {
		t.Errorf("Writer kept %v after %d writes, want the first error after 1", w.Err, f.n)
	}
}

// TestWriteTextChart: each curve is drawn with its own mark at the height of its values,
// the axis is labelled with the largest value and zero, and the legend names the curves.
func TestWriteTextChart(t *testing.T) {
	var b strings.Builder
	rising := report.Curve{Name: "no policy", Values: []float64{0, 1, 2, 3, 4}}
	flat := report.Curve{Name: "keep 10", Values: []float64{0, 1, 1, 1, 1}}
	if err := report.WriteTextChart(&b, []report.Curve{rising, flat}, 5, 40, func(v float64) string { return fmt.Sprintf("%.0f GiB", v) }, "day 0", "day 4"); err != nil {
		t.Fatal(err)
	}
	want := `4 GiB |    *
      |   * 
      |  *  
      | ++++
0 GiB |+    
      +-----
       day 0 day 4
       * no policy   + keep 10
`
	if b.String() != want {
		t.Errorf("chart:\n%s\nwant:\n%s", b.String(), want)
	}
}
