package settings

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shipshape-dev/shipshape/internal/report"
)

// Summary counts the outcomes by status.
type Summary struct {
	Settings  int `json:"settings"`
	Unchanged int `json:"unchanged"`
	Updated   int `json:"updated"`
	Created   int `json:"created"`
	Failed    int `json:"failed"`
	Drifted   int `json:"drifted"`
	// WouldUpdate and WouldCreate count what a dry run would write (ensure --dry-run).
	WouldUpdate int `json:"wouldUpdate,omitempty"`
	WouldCreate int `json:"wouldCreate,omitempty"`
}

// Summary counts the report's outcomes.
func (r Report) Summary() Summary {
	return Summary{
		Settings: len(r.Outcomes), Unchanged: r.Count(Unchanged), Updated: r.Count(Updated),
		Created: r.Count(Created), Failed: r.Count(Failed), Drifted: r.Count(Drifted),
		WouldUpdate: r.Count(WouldUpdate), WouldCreate: r.Count(WouldCreate),
	}
}

func (s Summary) String() string {
	if s.WouldUpdate+s.WouldCreate > 0 {
		return fmt.Sprintf("%d settings: %d unchanged, %d would be updated, %d would be created (dry run: nothing written), %d failed, %d drifted",
			s.Settings, s.Unchanged, s.WouldUpdate, s.WouldCreate, s.Failed, s.Drifted)
	}
	return fmt.Sprintf("%d settings: %d unchanged, %d updated, %d created, %d failed, %d drifted",
		s.Settings, s.Unchanged, s.Updated, s.Created, s.Failed, s.Drifted)
}

// WriteJSON writes the report as indented JSON, the stable form for scripts:
// {"summary": {…}, "outcomes": [{registry, repository, setting, status, detail, reason}], "errors": […]}.
func WriteJSON(w io.Writer, r Report) error {
	outcomes := r.Outcomes
	if outcomes == nil {
		outcomes = []Outcome{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Summary  Summary   `json:"summary"`
		Outcomes []Outcome `json:"outcomes"`
		Errors   []string  `json:"errors,omitempty"`
	}{r.Summary(), outcomes, r.Errors})
}

// ANSI colours of the same length, so that coloured cells stay aligned.
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// WriteTable writes one line per repository and setting, then the errors and a summary.
// With color, statuses that are not unchanged are coloured.
func WriteTable(w io.Writer, r Report, color bool) error {
	ew := &report.Writer{W: w}
	if len(r.Outcomes) > 0 {
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REGISTRY\tREPOSITORY\tSETTING\tSTATUS\tDETAIL")
		for _, o := range r.Outcomes {
			status := string(o.Status)
			if c := colorOf(o.Status); color && c != "" {
				status = c + fmt.Sprintf("%-11s", status) + reset
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Registry, repositoryText(o.Repository), o.Setting, status, detailText(o))
		}
		tw.Flush()
		fmt.Fprintln(ew)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(ew, "error: %s\n", e)
	}
	fmt.Fprintf(ew, "Summary: %s\n", r.Summary())
	return ew.Err
}

// WriteMarkdown writes the report for pull-request comments and job summaries.
func WriteMarkdown(w io.Writer, r Report) error {
	ew := &report.Writer{W: w}
	s := r.Summary()
	if s.WouldUpdate+s.WouldCreate > 0 {
		fmt.Fprintf(ew, "### shipshape ensure --dry-run\n\n**%d** would be updated, **%d** would be created, **%d** failed, **%d** drifted, %d unchanged, of %d settings. Nothing was written.\n\n",
			s.WouldUpdate, s.WouldCreate, s.Failed, s.Drifted, s.Unchanged, s.Settings)
	} else {
		fmt.Fprintf(ew, "### shipshape ensure\n\n**%d** updated, **%d** created, **%d** failed, **%d** drifted, %d unchanged, of %d settings.\n\n",
			s.Updated, s.Created, s.Failed, s.Drifted, s.Unchanged, s.Settings)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(ew, "> [!CAUTION]\n> %s\n\n", report.Cell(e))
	}
	if len(r.Outcomes) == 0 {
		return ew.Err
	}
	fmt.Fprintln(ew, "| Registry | Repository | Setting | Status | Detail | Reason |\n|---|---|---|---|---|---|")
	for _, o := range r.Outcomes {
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s |\n", report.Cell(o.Registry), report.Cell(repositoryText(o.Repository)),
			o.Setting, o.Status, report.Cell(o.Detail), report.Cell(o.Reason))
	}
	return ew.Err
}

func repositoryText(name string) string {
	if name == "" {
		return "(registry)"
	}
	return name
}

func detailText(o Outcome) string {
	switch {
	case o.Reason == "":
		return o.Detail
	case o.Detail == "":
		return o.Reason
	}
	return o.Detail + ": " + o.Reason
}

func colorOf(s Status) string {
	switch s {
	case Updated, Created, WouldUpdate, WouldCreate:
		return green
	case Failed:
		return red
	case Drifted:
		return yellow
	}
	return ""
}

// Write writes the report in format: report.Table (coloured when color), report.JSON or
// report.Markdown.
func Write(w io.Writer, r Report, format string, color bool) error {
	switch format {
	case report.JSON:
		return WriteJSON(w, r)
	case report.Markdown:
		return WriteMarkdown(w, r)
	}
	return WriteTable(w, r, color)
}
