package apply

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// Summary is a run's result with what it freed: the form apply -o json prints.
type Summary struct {
	*Result
	ReclaimedBytes    int64   `json:"reclaimedBytes"`
	MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
	// freed says whether the figures mean anything: false without the inventory.
	freed bool
}

// Summarize prices what res removed from inv (nil when unknown) at price per GB-month.
func Summarize(res *Result, inv *inventory.Inventory, price float64) Summary {
	s := Summary{Result: res}
	if inv != nil {
		removed := res.Removed()
		s.ReclaimedBytes = plan.Reclaimed(inv.Images, func(d string) bool { return removed[d] })
		s.freed = true
	}
	s.MonthlySavingsUSD = plan.MonthlyCost(s.ReclaimedBytes, price)
	return s
}

// WriteSummary writes the run for people: what was skipped or failed, the counts, what it
// freed, and the problems the check afterwards found.
func WriteSummary(w io.Writer, s Summary) {
	res := s.Result
	for _, r := range res.Records {
		if r.Outcome == Skipped || r.Outcome == Failed {
			fmt.Fprintf(w, "%-8s %s%s  %s\n", r.Outcome, inventory.ShortDigest(r.Digest), report.TagList(r.Tags), r.Detail)
		}
	}
	what := "Applied"
	if res.Resumed {
		what = fmt.Sprintf("Resumed the interrupted apply (%d done before)", res.DoneBefore)
	}
	archived := ""
	if res.Archived > 0 {
		archived = fmt.Sprintf(", %d archived", res.Archived)
	}
	notDone := ""
	if n := res.Total - len(res.Records); n > 0 {
		notDone = fmt.Sprintf(", %d not attempted", n)
	}
	fmt.Fprintf(w, "%s on %s: %d deleted%s, %d already gone, %d skipped, %d failed%s.\n",
		what, res.Repository, res.Deleted, archived, res.Gone, res.Skipped, res.Failed, notDone)
	if s.freed && res.Deleted+res.Gone > 0 {
		fmt.Fprintf(w, "Freed %s of blobs no remaining image references, saving $%.2f a month (the registry reclaims the space when it garbage-collects).\n",
			report.Bytes(s.ReclaimedBytes), s.MonthlySavingsUSD)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	if res.Run != "" && res.Deleted+res.Gone > 0 {
		fmt.Fprintf(w, "Run %s: shipshape log --run %s lists what it removed.\n", res.Run, res.Run)
		for _, q := range res.quarantines() {
			fmt.Fprintf(w, "Copies are in the quarantine %s; undo with: shipshape restore --from %s %s --run %s\n", q, q, res.ref, res.Run)
		}
	}
}

// quarantines lists where the run kept copies of what it deleted, each once.
func (r *Result) quarantines() []string {
	var out []string
	for _, rec := range r.Records {
		if rec.Quarantine != "" && !slices.Contains(out, rec.Quarantine) {
			out = append(out, rec.Quarantine)
		}
	}
	return out
}

// Status is what apply --status shows of a repository's journal; its JSON form is what
// apply --status -o json prints.
type Status struct {
	Host       string     `json:"host"`
	Repository string     `json:"repository"`
	Journal    string     `json:"journal"`
	Run        string     `json:"run,omitempty"`
	PlanDigest string     `json:"planDigest,omitempty"`
	Started    *time.Time `json:"started,omitempty"`
	Targets    int        `json:"targets"`
	Finished   int        `json:"finished"`
	Done       bool       `json:"done"`
	Pending    bool       `json:"pending"`
	Remaining  []Record   `json:"remaining"`
	// none says there is no journal.
	none bool
}

// NewStatus describes the journal st at path for host/repo; st nil means there is none.
func NewStatus(host, repo, path string, st *State) Status {
	if st == nil {
		return Status{Host: host, Repository: repo, Journal: path, Remaining: []Record{}, none: true}
	}
	remaining := st.Remaining()
	if remaining == nil {
		remaining = []Record{}
	}
	return Status{Host: st.Host, Repository: st.Repository, Journal: path, Run: st.Run, PlanDigest: st.PlanDigest,
		Started: &st.Started, Targets: st.Targets, Finished: st.Finished, Done: st.Done, Pending: !st.Done, Remaining: remaining}
}

// maxListed bounds the remaining targets a status lists.
const maxListed = 10

// WriteStatus writes s for people.
func WriteStatus(w io.Writer, s Status) {
	ref := s.Host + "/" + s.Repository
	switch {
	case s.none:
		fmt.Fprintf(w, "%s: no apply journal (%s)\n", ref, s.Journal)
		return
	case s.Done:
		fmt.Fprintf(w, "%s: the last apply (run %s, started %s) finished; nothing is pending\n", ref, s.Run, s.Started.Local().Format("2006-01-02 15:04"))
		return
	}
	fmt.Fprintf(w, "%s: an interrupted apply is pending\n", ref)
	fmt.Fprintf(w, "  journal    %s\n  run        %s\n  plan       %s\n  started    %s\n  done       %d of %d\n  remaining  %d\n",
		s.Journal, s.Run, s.PlanDigest, s.Started.Local().Format("2006-01-02 15:04:05"), s.Finished, s.Targets, len(s.Remaining))
	for i, r := range s.Remaining {
		if i == maxListed {
			fmt.Fprintf(w, "    … and %d more\n", len(s.Remaining)-maxListed)
			break
		}
		fmt.Fprintf(w, "    %s%s\n", inventory.ShortDigest(r.Digest), report.TagList(r.Tags))
	}
	fmt.Fprintf(w, "Finish it by running the apply again (what remains is re-checked first), or discard it: shipshape apply --abandon %s\n", ref)
}

// WriteSummaryAs writes s in format: report.Table or report.JSON.
func WriteSummaryAs(w io.Writer, s Summary, format string) error {
	if format == report.JSON {
		return report.WriteJSON(w, s)
	}
	WriteSummary(w, s)
	return nil
}

// WriteStatusAs writes s in format: report.Table or report.JSON.
func WriteStatusAs(w io.Writer, s Status, format string) error {
	if format == report.JSON {
		return report.WriteJSON(w, s)
	}
	WriteStatus(w, s)
	return nil
}
