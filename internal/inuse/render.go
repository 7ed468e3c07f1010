package inuse

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// WriteJSON writes the rows and the sources that failed as an indented JSON object
// {"uses": […], "failures": […]}, the stable form for scripts.
func WriteJSON(w io.Writer, rows []Row, failures []string) error {
	if rows == nil {
		rows = []Row{}
	}
	if failures == nil {
		failures = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		Uses     []Row    `json:"uses"`
		Failures []string `json:"failures"`
	}{rows, failures})
}

// WriteTable writes the rows for people: a table of the resolved ones, then the
// unresolved ones with their reasons, then the counts.
func WriteTable(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tDIGEST\tIMAGE\tWHERE")
	var unresolved []Row
	for _, r := range rows {
		if r.Unresolved != "" {
			unresolved = append(unresolved, r)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Repository, cmp.Or(inventory.ShortDigest(r.Digest), "-"), r.Image, r.Where)
	}
	tw.Flush()
	for _, r := range unresolved {
		fmt.Fprintf(bw, "unresolved: %s: %q: %s\n", r.Where, r.Image, r.Unresolved)
	}
	n := len(rows) - len(unresolved)
	noun := "image references"
	if n == 1 {
		noun = "image reference"
	}
	fmt.Fprintf(bw, "%d %s in use", n, noun)
	if len(unresolved) > 0 {
		fmt.Fprintf(bw, ", %d unresolved", len(unresolved))
	}
	fmt.Fprintln(bw, ".")
	return bw.Flush()
}

// Write writes the rows and failures in format: report.Table or report.JSON.
func Write(w io.Writer, rows []Row, failures []string, format string) error {
	if format == report.JSON {
		return WriteJSON(w, rows, failures)
	}
	return WriteTable(w, rows)
}
