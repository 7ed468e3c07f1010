package policy

import (
	"errors"
	"fmt"
	"io"
)

// Problem is one error or lint finding of a policy file, as a Report gives it.
type Problem struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Check   string `json:"check,omitempty"`
	Message string `json:"message"`
	// Severity grades a lint finding, "warning" or "info"; errors have none.
	Severity Severity `json:"severity,omitempty"`
}

// level is the severity of a lint finding: a warning unless it says otherwise.
func (p Problem) level() Severity {
	if p.Severity == "" {
		return SeverityWarning
	}
	return p.Severity
}

// Report is what checking one policy file found: the form "shipshape policy validate -o json"
// and "policy lint -o json" print, and what WriteProblems and WriteValidation render.
type Report struct {
	File   string    `json:"file"`
	Valid  bool      `json:"valid"`
	Rules  int       `json:"rules"`
	Errors []Problem `json:"errors"`
	// Warnings holds the lint findings, in Lint's order, each with its severity: infos are
	// here too, told apart by "severity": "info".
	Warnings []Problem `json:"warnings,omitempty"`
}

// NewReport reports on the policy in file. p and err are what Load returned, or err is why
// the file could not be read (a Problem with only a message); ws are the Lint findings of p,
// valid or not.
func NewReport(file string, p *Policy, err error, ws []*Warning) Report {
	r := Report{File: file, Valid: err == nil, Errors: []Problem{}}
	if p != nil {
		r.Rules = len(p.Rules)
	}
	var list ErrorList
	switch {
	case errors.As(err, &list):
		for _, e := range list {
			r.Errors = append(r.Errors, Problem{Path: e.Path, Line: e.Line, Column: e.Column, Message: e.Msg})
		}
	case err != nil:
		r.Errors = append(r.Errors, Problem{Message: err.Error()})
	}
	for _, w := range ws {
		r.Warnings = append(r.Warnings, Problem{Path: w.Path, Line: w.Line, Column: w.Column, Check: w.Check, Message: w.Msg, Severity: w.Level()})
	}
	return r
}

// Count returns how many lint findings of severity s r holds. "policy lint --strict" fails
// when Count(SeverityWarning) is not 0.
func (r Report) Count(s Severity) int {
	n := 0
	for _, p := range r.Warnings {
		if p.level() == s {
			n++
		}
	}
	return n
}

// Annotate is told of each problem WriteProblems writes, after its line, with level "error",
// "warning" or, for an info, "notice" (GitHub Actions' annotation levels) and the problem
// without the file name.
type Annotate func(level, file string, line, column int, msg string)

// WriteProblems writes the errors of r, then its lint findings, one a line:
// "FILE: PATH: MESSAGE", "FILE:LINE:COLUMN: MESSAGE" for an error that has only a position,
// findings ending in " [CHECK]", and infos starting "FILE: info: ". annotate, when not nil,
// is called after each line.
func WriteProblems(w io.Writer, r Report, annotate Annotate) error {
	var err error
	put := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	for _, p := range r.Errors {
		e := &Error{Path: p.Path, Line: p.Line, Column: p.Column, Msg: p.Message}
		if e.Path == "" && e.Line > 0 {
			put("%s:%d:%d: %s\n", r.File, e.Line, e.Column, e.Msg)
		} else {
			put("%s: %s\n", r.File, e.Error())
		}
		if annotate != nil {
			annotate("error", r.File, e.Line, e.Column, e.Error())
		}
	}
	for _, p := range r.Warnings {
		wn := &Warning{Path: p.Path, Line: p.Line, Column: p.Column, Check: p.Check, Msg: p.Message}
		level := "warning"
		if p.level() == SeverityInfo {
			put("%s: info: %s [%s]\n", r.File, wn.String(), wn.Check)
			level = "notice"
		} else {
			put("%s: %s [%s]\n", r.File, wn.String(), wn.Check)
		}
		if annotate != nil {
			annotate(level, r.File, wn.Line, wn.Column, wn.String())
		}
	}
	return err
}

// WriteValidation writes "FILE: valid (N rules)" for a valid policy, else its problems as
// WriteProblems does.
func WriteValidation(w io.Writer, r Report, annotate Annotate) error {
	if !r.Valid {
		return WriteProblems(w, r, annotate)
	}
	_, err := fmt.Fprintf(w, "%s: valid (%s)\n", r.File, count(r.Rules, "rule"))
	return err
}

// WriteLintSummary writes the line that ends "policy lint": "N files, N invalid, N warnings",
// and ", N info" when there are infos.
func WriteLintSummary(w io.Writer, reports []Report) error {
	invalid, warnings, infos := 0, 0, 0
	for _, r := range reports {
		if !r.Valid {
			invalid++
		}
		warnings += r.Count(SeverityWarning)
		infos += r.Count(SeverityInfo)
	}
	line := fmt.Sprintf("%s, %d invalid, %s", count(len(reports), "file"), invalid, count(warnings, "warning"))
	if infos > 0 {
		line += fmt.Sprintf(", %d info", infos)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// count is "1 noun" or "N nouns".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
