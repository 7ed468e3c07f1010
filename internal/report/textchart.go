package report

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Curve is one series of a text chart.
type Curve struct {
	Name   string
	Values []float64
}

// curveMarks are the marks of the curves, in order; where curves meet, the later wins.
var curveMarks = []rune{'*', '+', 'o', 'x'}

// WriteTextChart draws curves as a chart of height rows and at most width columns (each
// column the last value of the points it stands for), with the y axis labelled by label,
// x labels at both ends, and a legend: the terminal's view of a line chart.
func WriteTextChart(w io.Writer, curves []Curve, height, width int, label func(float64) string, xFirst, xLast string) error {
	n := 0
	hi := 0.0
	for _, c := range curves {
		n = max(n, len(c.Values))
		for _, v := range c.Values {
			hi = math.Max(hi, v)
		}
	}
	if n == 0 || height < 2 || width < 2 {
		return nil
	}
	cols := min(width, n)
	if hi <= 0 {
		hi = 1
	}
	grid := make([][]rune, height)
	for i := range grid {
		grid[i] = []rune(strings.Repeat(" ", cols))
	}
	for ci, c := range curves {
		mark := curveMarks[ci%len(curveMarks)]
		for col := range cols {
			i := min(len(c.Values)-1, (col+1)*n/cols-1)
			if i < 0 {
				continue
			}
			row := int(math.Round(c.Values[i] / hi * float64(height-1)))
			grid[height-1-row][col] = mark
		}
	}
	top, bottom := label(hi), label(0)
	pad := max(len(top), len(bottom))
	ew := &Writer{W: w}
	for i, line := range grid {
		y := ""
		switch i {
		case 0:
			y = top
		case height - 1:
			y = bottom
		}
		fmt.Fprintf(ew, "%*s |%s\n", pad, y, string(line))
	}
	fmt.Fprintf(ew, "%*s +%s\n", pad, "", strings.Repeat("-", cols))
	gap := max(1, cols-len(xFirst)-len(xLast))
	fmt.Fprintf(ew, "%*s  %s%s%s\n", pad, "", xFirst, strings.Repeat(" ", gap), xLast)
	var legend []string
	for ci, c := range curves {
		legend = append(legend, fmt.Sprintf("%c %s", curveMarks[ci%len(curveMarks)], c.Name))
	}
	fmt.Fprintf(ew, "%*s  %s\n", pad, "", strings.Join(legend, "   "))
	return ew.Err
}
