package cli

import (
	"bytes"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newPolicyCmd(io IO) *cobra.Command {
	cmd := describe(&cobra.Command{
		Use:   "policy",
		Short: "Validate, format and lint Amazon ECR lifecycle policies",
	}, "policy")
	cmd.AddCommand(newCheckCmd(io, false), newFmtCmd(io), newCheckCmd(io, true))
	return cmd
}

// printProblems writes a policy's errors to standard error, for commands whose standard
// output is something else: a plan, a report, a formatted policy. Standard output stays
// empty, so that "shipshape plan -o json ... > plan.json" never leaves errors in the file.
func printProblems(io IO, lp lifecycle.PolicyFile) {
	_ = policy.WriteProblems(io.Err, lp.Report(nil), annotations(io.Err, inActions(io)))
}

// annotations returns, when actions is set (in GitHub Actions), what adds a workflow
// annotation to w after each problem a policy renderer writes.
func annotations(w io.Writer, actions bool) policy.Annotate {
	if !actions {
		return nil
	}
	return func(level, file string, line, col int, msg string) { report.Annotate(w, level, file, line, col, msg) }
}

// newCheckCmd is policy validate, or with lint policy lint.
func newCheckCmd(io IO, lint bool) *cobra.Command {
	var strict bool
	var output string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check lifecycle policies against every rule ECR enforces",
		Args:  argCount(1, -1, "needs at least one policy FILE"),
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := checkFormat(output, report.Table, report.JSON); err != nil {
				return err
			}
			reports := make([]policy.Report, 0, len(files))
			failed := false
			for _, f := range files {
				lp := lifecycle.LoadPolicy(io.In, f)
				var ws []*policy.Warning
				if lint && lp.Policy != nil {
					ws = policy.Lint(lp.Policy)
				}
				rep := lp.Report(ws)
				reports = append(reports, rep)
				failed = failed || !rep.Valid || (strict && rep.Count(policy.SeverityWarning) > 0)
				write := policy.WriteValidation
				if lint {
					write = policy.WriteProblems
				}
				if output == report.Table {
					if err := write(io.Out, rep, annotations(io.Out, inActions(io))); err != nil {
						return err
					}
				}
			}
			var err error
			if output == report.JSON {
				err = report.WriteJSON(io.Out, reports)
			} else if lint {
				err = policy.WriteLintSummary(io.Err, reports)
			}
			if err == nil && failed {
				return silentExit(ExitError)
			}
			return err
		},
	}
	if lint {
		cmd.Use, cmd.Short = "lint FILE...", "Warn about valid policies that almost certainly do the wrong thing"
		cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 when there is any warning (infos never fail)")
	}
	addOutputFlag(cmd, &output, report.Table, report.JSON)
	return describe(cmd, map[bool]string{false: "policy-validate", true: "policy-lint"}[lint])
}

func newFmtCmd(io IO) *cobra.Command {
	var write, check bool
	cmd := describe(&cobra.Command{
		Use:   "fmt FILE...",
		Short: "Print lifecycle policies in their normalised form, or rewrite them (--write)",
		Args:  argCount(1, -1, "needs at least one policy FILE"),
		RunE: func(cmd *cobra.Command, files []string) error {
			switch {
			case write && check:
				return usageError("--write and --check cannot be used together")
			case write && stdinUses(files...) > 0:
				return usageError("--write needs files, not standard input")
			case stdinUses(files...) > 1:
				return usageError("only one FILE can be standard input")
			}
			failed := false
			for _, file := range files {
				lp := lifecycle.LoadPolicy(io.In, file)
				if lp.Err != nil {
					printProblems(io, lp)
					failed = true
					continue
				}
				out := policy.Format(lp.Policy)
				same := bytes.Equal(out, lp.Text)
				var err error
				switch {
				case check && !same:
					fmt.Fprintf(io.Out, "%s: not in normalised form (run: shipshape policy fmt --write %s)\n", file, file)
					failed = true
				case check, write && same:
				case write:
					err = lifecycle.WriteFile(file, out)
				default:
					_, err = io.Out.Write(out)
				}
				if err != nil {
					return err
				}
			}
			if failed {
				return silentExit(ExitError)
			}
			return nil
		},
	}, "policy-fmt")
	cmd.Flags().BoolVarP(&write, "write", "w", false, "rewrite each file that is not in normalised form")
	cmd.Flags().BoolVar(&check, "check", false, "list the files not in normalised form and exit 1 if there is any; change nothing")
	return cmd
}
