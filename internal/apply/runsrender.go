package apply

import (
	"fmt"
	"io"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// WriteRunsAs writes the deletion log in format: report.Table or report.JSON (an array of
// LoggedRun, oldest first).
func WriteRunsAs(w io.Writer, runs []*LoggedRun, format string) error {
	if format == report.JSON {
		if runs == nil {
			runs = []*LoggedRun{}
		}
		return report.WriteJSON(w, runs)
	}
	WriteRuns(w, runs)
	return nil
}

// WriteRuns writes the deletion log for people: each run, then every manifest it removed.
func WriteRuns(w io.Writer, runs []*LoggedRun) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no apply runs recorded")
		return
	}
	for i, r := range runs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		state := "finished"
		if !r.Done {
			state = "interrupted"
		}
		fmt.Fprintf(w, "run %s  %s/%s  %s, %s\n", r.ID, r.Host, r.Repository, r.Started.Local().Format("2006-01-02 15:04"), state)
		fmt.Fprintf(w, "  %d of %d targets removed (%d deleted, %d already gone), %d skipped, %d failed; %s of images\n",
			r.Deleted+r.Gone, r.Targets, r.Deleted, r.Gone, r.Skipped, r.Failed, report.Bytes(r.Bytes))
		if len(r.Quarantines) > 0 {
			fmt.Fprintf(w, "  quarantine: %s\n", strings.Join(r.Quarantines, ", "))
		}
		for _, m := range r.Removed {
			where := ""
			switch {
			case m.Quarantine == "" && len(r.Quarantines) > 0:
				where = "  (no copy kept)"
			case m.Quarantine != "" && len(r.Quarantines) > 1:
				where = "  → " + m.Quarantine
			}
			fmt.Fprintf(w, "  %-7s %s%s  %s  %s%s\n", m.Outcome, inventory.ShortDigest(m.Digest), report.TagList(m.Tags),
				report.Bytes(m.Bytes), m.Reason, where)
		}
	}
}
