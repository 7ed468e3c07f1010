package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/lifecycle"
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
	err    error // from reading the file, or policy.Load's (a policy.ErrorList)
}

func loadPolicy(io IO, file string) loadedPolicy {
	text, err := readInput(io, file)
	if err != nil {
		return loadedPolicy{file: file, err: err}
	}
	return loadPolicyText(file, text)
}

func loadPolicyText(file string, text []byte) loadedPolicy {
	p, err := policy.Load(text)
	return loadedPolicy{file: file, text: text, policy: p, err: err}
}

func (lp loadedPolicy) ok() bool { return lp.err == nil }

// report is what loading found, with ws the Lint warnings of a valid policy.
func (lp loadedPolicy) report(ws []*policy.Warning) policy.Report {
	return policy.NewReport(lp.file, lp.policy, lp.err, ws)
}

// printProblems writes a policy's errors to standard error, for commands whose standard
// output is something else: a plan, a report, a formatted policy. Standard output stays
// empty, so that "shipshape plan -o json ... > plan.json" never leaves errors in the file.
func printProblems(io IO, lp loadedPolicy) {
	_ = policy.WriteProblems(io.Err, lp.report(nil), annotations(io.Err, inActions(io)))
}

// annotations returns, when actions is set (in GitHub Actions), what adds a workflow
// annotation to w after each problem a policy renderer writes.
func annotations(w io.Writer, actions bool) policy.Annotate {
	if !actions {
		return nil
	}
	return func(level, file string, line, col int, msg string) { annotate(w, level, file, line, col, msg) }
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
			reports := make([]policy.Report, 0, len(files))
			failed := false
			for _, f := range files {
				rep := loadPolicy(io, f).report(nil)
				reports = append(reports, rep)
				failed = failed || !rep.Valid
				if output != formatJSON {
					if err := policy.WriteValidation(io.Out, rep, annotations(io.Out, inActions(io))); err != nil {
						return err
					}
				}
			}
			if output == formatJSON {
				if err := writeJSON(io, reports); err != nil {
					return err
				}
			}
			if failed {
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
			same := bytes.Equal(out, text)
			switch {
			case check && !same:
				fmt.Fprintf(io.Out, "%s: not in normalised form (run: shipshape policy fmt --write %s)\n", file, file)
				return silentExit(ExitError)
			case check, write && same:
				return nil
			case write:
				return lifecycle.WriteFile(file, out)
			}
			_, err = io.Out.Write(out)
			return err
		},
	}
	cmd.Flags().BoolVarP(&write, "write", "w", false, "rewrite the file in normalised form")
	cmd.Flags().BoolVar(&check, "check", false, "exit 1 if the file is not in normalised form; print nothing else")
	return cmd
}

// writeFileAtomic is lifecycle.WriteFile, under the name plan, inventory and policy fmt call.
func writeFileAtomic(name string, data []byte) error { return lifecycle.WriteFile(name, data) }

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
			reports := make([]policy.Report, 0, len(files))
			invalid, warnings := 0, 0
			for _, f := range files {
				lp := loadPolicy(io, f)
				var ws []*policy.Warning
				if lp.ok() {
					ws = policy.Lint(lp.policy)
				} else {
					invalid++
				}
				warnings += len(ws)
				rep := lp.report(ws)
				reports = append(reports, rep)
				if output != formatJSON {
					if err := policy.WriteProblems(io.Out, rep, annotations(io.Out, inActions(io))); err != nil {
						return err
					}
				}
			}
			if output == formatJSON {
				if err := writeJSON(io, reports); err != nil {
					return err
				}
			} else if err := policy.WriteLintSummary(io.Err, reports); err != nil {
				return err
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
