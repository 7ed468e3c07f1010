package pins

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteDetail writes one pin for people, a "field: value" line per field; an empty field
// shows as "-".
func WriteDetail(w io.Writer, p Pin) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"name", p.Name},
		{"repository", orDash(p.Repository)},
		{"digest", p.Digest},
		{"source sha", p.SourceSHA},
		{"verification", orDash(p.Verified)},
	}
	if p.Reason != "" {
		rows = append(rows, [2]string{"reason", p.Reason})
	}
	rows = append(rows,
		[2]string{"updated", p.UpdatedAt.UTC().Format(time.RFC3339)},
		[2]string{"by", orDash(p.UpdatedBy)},
		[2]string{"version", fmt.Sprint(p.Version)})
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

// WriteTable writes pins as a table, one a row.
func WriteTable(w io.Writer, ps []Pin) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIGEST\tSOURCE\tVERIFICATION\tUPDATED\tBY")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Digest, p.SourceSHA, orDash(p.Verified), p.UpdatedAt.UTC().Format(time.RFC3339), orDash(p.UpdatedBy))
	}
	return tw.Flush()
}

// WriteHistory writes a pin's changes as a table, one a row, in the order given.
func WriteHistory(w io.Writer, changes []Change) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tOP\tDIGEST\tSOURCE\tVERIFICATION\tUPDATED\tBY")
	for _, c := range changes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Version, c.Op, orDash(c.Digest), orDash(c.SourceSHA), orDash(c.Verified), c.UpdatedAt.UTC().Format(time.RFC3339), orDash(c.UpdatedBy))
	}
	return tw.Flush()
}

// orDash shows an empty or blank field as "-", so that every column has a value.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
