// Package report holds the small formatting pieces every human-facing report of shipshape
// shares (plans, audits, settings): sizes, counts, shares, Markdown cells, and a writer
// that keeps the first error.
package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Writer passes writes on to W until one fails, then drops the rest and keeps the error in
// Err, so that rendering code can write freely and check once.
type Writer struct {
	W   io.Writer
	Err error
}

func (e *Writer) Write(b []byte) (int, error) {
	if e.Err != nil {
		return len(b), nil
	}
	_, e.Err = e.W.Write(b)
	return len(b), nil
}

// Bytes formats a byte count with binary units: "12.3 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Thousands formats n with thousands separators: "1,183".
func Thousands(n int) string {
	if n < 0 {
		return "-" + Thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Percent formats part's share of whole as " (61%)", or "" when whole is 0.
func Percent(part, whole int64) string {
	if whole == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.0f%%)", float64(part)*100/float64(whole))
}

// Cell escapes text for a Markdown table cell.
func Cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

// Repository names a repository, or says it has no name.
func Repository(s string) string {
	if s == "" {
		return "(unnamed repository)"
	}
	return s
}

// TagList is " (a, b)" after a digest, or "" without tags.
func TagList(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	return " (" + strings.Join(tags, ", ") + ")"
}
