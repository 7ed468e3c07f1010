package settings

import (
	"fmt"
	"io"

	"github.com/shipshape-dev/shipshape/internal/report"
)

// Problems says, one line each, what went wrong in a run: its errors, then the settings
// that failed (level "error") or drifted (level "warning").
func (r Report) Problems() []Problem {
	var out []Problem
	for _, msg := range r.Errors {
		out = append(out, Problem{Level: "error", Message: msg})
	}
	for _, o := range r.Outcomes {
		switch o.Status {
		case Failed:
			out = append(out, Problem{Level: "error", Message: o.String()})
		case Drifted:
			out = append(out, Problem{Level: "warning", Message: o.String()})
		}
	}
	return out
}

// Problem is one line of Problems.
type Problem struct{ Level, Message string }

// String says what happened to one setting, on one line.
func (o Outcome) String() string {
	where := "registry " + o.Registry
	if o.Repository != "" {
		where = o.Repository + " (registry " + o.Registry + ")"
	}
	msg := fmt.Sprintf("%s: %s %s", where, o.Setting, o.Status)
	for _, s := range []string{o.Detail, o.Reason} {
		if s != "" {
			msg += ": " + s
		}
	}
	return msg
}

// Conclude reports the run's problems on log, and as GitHub Actions annotations on
// annotations when actions or failSoft is set; with failSoft every problem is a warning.
// It returns false when the run failed and failSoft does not excuse it.
func (r Report) Conclude(log, annotations io.Writer, failSoft, actions bool) bool {
	for _, p := range r.Problems() {
		if failSoft {
			p.Level = "warning"
		}
		if failSoft || actions {
			report.Annotate(annotations, p.Level, "", 0, 0, "shipshape ensure: "+p.Message)
		}
		fmt.Fprintf(log, "%s: %s\n", p.Level, p.Message)
	}
	if !r.Failed() {
		return true
	}
	n := r.Count(Failed) + len(r.Errors)
	failures := fmt.Sprintf("%d failures", n)
	if n == 1 {
		failures = "1 failure"
	}
	if failSoft {
		fmt.Fprintf(log, "shipshape: %s, ignored (--fail-soft); the next run retries\n", failures)
		return true
	}
	fmt.Fprintf(log, "shipshape: %s; the next run retries\n", failures)
	return false
}
