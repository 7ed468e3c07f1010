package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

func newPolicyCmd(io IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Validate, format and lint Amazon ECR lifecycle policies",
		Long: `Work with Amazon ECR lifecycle-policy JSON, the document ECR's PutLifecyclePolicy takes.
shipshape reads it exactly as ECR does: unknown properties, null values and enum values in
the wrong case are errors, and so is every combination ECR rejects.`,
	}
	cmd.AddCommand(newValidateCmd(io), newFmtCmd(io), newLintCmd(io))
	return cmd
}

// loadedPolicy is one policy file and what loading it found.
type loadedPolicy struct {
	file   string
	text   []byte
	policy *policy.Policy
	errs   policy.ErrorList
	ioErr  error
}

func loadPolicy(io IO, file string) loadedPolicy {
	text, err := readInput(io, file)
	if err != nil {
		return loadedPolicy{file: file, ioErr: err}
	}
	return loadPolicyText(file, text)
}

func loadPolicyText(file string, text []byte) loadedPolicy {
	lp := loadedPolicy{file: file, text: text}
	p, err := policy.Load(text)
	lp.policy = p
	if err != nil && !errors.As(err, &lp.errs) {
		lp.ioErr = err
	}
	return lp
}

func (lp loadedPolicy) ok() bool { return lp.ioErr == nil && len(lp.errs) == 0 }

// printProblems writes a policy's errors to standard error, for commands whose standard
// output is something else: a plan, a report, a formatted policy. Standard output stays
// empty, so that "shipshape plan -o json ... > plan.json" never leaves errors in the file.
func printProblems(io IO, lp loadedPolicy) {
	writeProblems(io.Err, inActions(io), lp)
}

// writeProblems writes a policy's errors to w as "FILE: PATH: MESSAGE" lines, and as GitHub
// Actions annotations when actions is set. policy validate and lint write them to standard
// output, where they are the command's report.
func writeProblems(w io.Writer, actions bool, lp loadedPolicy) {
	if lp.ioErr != nil {
		fmt.Fprintf(w, "%s: %v\n", lp.file, lp.ioErr)
		if actions {
			annotate(w, "error", lp.file, 0, 0, lp.ioErr.Error())
		}
		return
	}
	for _, e := range lp.errs {
		loc := lp.file
		if e.Path == "" && e.Line > 0 {
			loc = fmt.Sprintf("%s:%d:%d", lp.file, e.Line, e.Column)
			fmt.Fprintf(w, "%s: %s\n", loc, e.Msg)
		} else {
			fmt.Fprintf(w, "%s: %s\n", loc, e.Error())
		}
		if actions {
			annotate(w, "error", lp.file, e.Line, e.Column, e.Error())
		}
	}
}

type problemJSON struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Check   string `json:"check,omitempty"`
	Message string `json:"message"`
}

type fileReportJSON struct {
	File     string        `json:"file"`
	Valid    bool          `json:"valid"`
	Rules    int           `json:"rules"`
	Errors   []problemJSON `json:"errors"`
	Warnings []problemJSON `json:"warnings,omitempty"`
}

func fileReport(lp loadedPolicy) fileReportJSON {
	r := fileReportJSON{File: lp.file, Valid: lp.ok(), Errors: []problemJSON{}}
	if lp.policy != nil {
		r.Rules = len(lp.policy.Rules)
	}
	if lp.ioErr != nil {
		r.Errors = append(r.Errors, problemJSON{Message: lp.ioErr.Error()})
	}
	for _, e := range lp.errs {
		r.Errors = append(r.Errors, problemJSON{Path: e.Path, Line: e.Line, Column: e.Column, Message: e.Msg})
	}
	return r
}

func writeJSON(io IO, v any) error {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func newValidateCmd(io IO) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check lifecycle policies against every rule ECR enforces",
		Long: `Check each lifecycle policy file against every constraint ECR enforces: the schema
(unknown properties, null, types, enum values), which fields go together, count types and
storage classes, wildcard limits, unique priorities, "any" rules last, one untagged rule and
distinct tag sets per storage class, at most 50 rules and 100 to 30,720 characters.

Every problem of every file is reported, one per line, as FILE: JSON.PATH: MESSAGE.
Use "-" to read a policy from standard input.

Exit status: 0 when every file is valid, 1 when any is not.`,
		Example: `  shipshape policy validate policy.json
  shipshape policy validate -o json policies/*.json`,
		Args: minArgs(1, "at least one policy FILE"),
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			var reports []fileReportJSON
			failed := 0
			for _, f := range files {
				lp := loadPolicy(io, f)
				if !lp.ok() {
					failed++
				}
				if output == formatJSON {
					reports = append(reports, fileReport(lp))
					continue
				}
				if lp.ok() {
					fmt.Fprintf(io.Out, "%s: valid (%s)\n", f, plural(len(lp.policy.Rules), "rule"))
					continue
				}
				writeProblems(io.Out, inActions(io), lp)
			}
			if output == formatJSON {
				if err := writeJSON(io, reports); err != nil {
					return err
				}
			}
			if failed > 0 {
				return silentExit(ExitError)
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output, formatTable, formatJSON)
	return cmd
}

func newFmtCmd(io IO) *cobra.Command {
	var write, check bool
	cmd := &cobra.Command{
		Use:   "fmt FILE",
		Short: "Print a lifecycle policy in its normalised form",
		Long: `Print a valid lifecycle policy in normalised form: rules sorted by rulePriority, tag
lists sorted, empty lists dropped, the default storage class ("standard") left implicit,
and a fixed key order. Two policies ECR treats the same print identically, so the output
is fit for review and for comparing with what ECR returns.

With --write the file is rewritten in place (atomically); with --check nothing is printed
and the exit status is 1 when the file is not already in normalised form.`,
		Example: `  shipshape policy fmt policy.json
  shipshape policy fmt --write policy.json
  shipshape policy fmt --check policy.json   # in CI`,
		Args: exactArgs(1, "one policy FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if write && check {
				return usageError("--write and --check cannot be used together")
			}
			file := args[0]
			if write && file == "-" {
				return usageError("--write needs a file, not standard input")
			}
			text, err := readInput(io, file)
			if err != nil {
				return err
			}
			lp := loadPolicyText(file, text)
			if !lp.ok() {
				printProblems(io, lp)
				return silentExit(ExitError)
			}
			out := policy.Format(lp.policy)
			switch {
			case check:
				if !bytes.Equal(out, text) {
					fmt.Fprintf(io.Out, "%s: not in normalised form (run: shipshape policy fmt --write %s)\n", file, file)
					return silentExit(ExitError)
				}
				return nil
			case write:
				if bytes.Equal(out, text) {
					return nil
				}
				return writeFileAtomic(file, out)
			}
			_, err = io.Out.Write(out)
			return err
		},
	}
	cmd.Flags().BoolVarP(&write, "write", "w", false, "rewrite the file in normalised form")
	cmd.Flags().BoolVar(&check, "check", false, "exit 1 if the file is not in normalised form; print nothing else")
	return cmd
}

// writeFileAtomic replaces name with data through a temporary file in the same directory,
// so that an interrupted write never leaves a truncated policy behind.
// A target that is not a regular file (/dev/null, a named pipe) is written in place.
func writeFileAtomic(name string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		if !fi.Mode().IsRegular() {
			if err := os.WriteFile(name, data, 0); err != nil {
				return fmt.Errorf("writing %s: %w", name, err)
			}
			return nil
		}
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

func newLintCmd(io IO) *cobra.Command {
	var strict bool
	var output string
	cmd := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Warn about valid policies that almost certainly do the wrong thing",
		Long:  help("policy-lint"),
		Example: `  shipshape policy lint policy.json
  shipshape policy lint --strict policies/*.json   # fail CI on any warning`,
		Args: minArgs(1, "at least one policy FILE"),
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			var reports []fileReportJSON
			invalid, warnings := 0, 0
			for _, f := range files {
				lp := loadPolicy(io, f)
				rep := fileReport(lp)
				if !lp.ok() {
					invalid++
					if output == formatJSON {
						reports = append(reports, rep)
					} else {
						writeProblems(io.Out, inActions(io), lp)
					}
					continue
				}
				ws := policy.Lint(lp.policy)
				warnings += len(ws)
				for _, w := range ws {
					rep.Warnings = append(rep.Warnings, problemJSON{Path: w.Path, Line: w.Line, Column: w.Column, Check: w.Check, Message: w.Msg})
					if output == formatJSON {
						continue
					}
					fmt.Fprintf(io.Out, "%s: %s [%s]\n", f, w.String(), w.Check)
					if inActions(io) {
						annotate(io.Out, "warning", f, w.Line, w.Column, w.String())
					}
				}
				reports = append(reports, rep)
			}
			if output == formatJSON {
				if err := writeJSON(io, reports); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(io.Err, "%s, %s, %s\n", plural(len(files), "file"), plural(invalid, "invalid"), plural(warnings, "warning"))
			}
			if invalid > 0 || (strict && warnings > 0) {
				return silentExit(ExitError)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 when there is any warning")
	addOutputFlag(cmd, &output, formatTable, formatJSON)
	return cmd
}

func plural(n int, noun string) string {
	switch {
	case noun == "invalid":
		return fmt.Sprintf("%d invalid", n)
	case n == 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
