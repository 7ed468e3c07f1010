package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/settings"
)

func newEnsureCmd(io IO) *cobra.Command {
	var (
		configFile      string
		repos           []string
		failSoft        bool
		region, profile string
		output          string
	)
	cmd := &cobra.Command{
		Use:   "ensure [--config FILE] [--repo NAME...] [--fail-soft]",
		Short: "Keep Amazon ECR repository settings as shipshape.yaml declares them",
		Long:  help("ensure"),
		Example: `  shipshape ensure --config shipshape.yaml
  shipshape ensure --config shipshape.yaml --repo team/app --fail-soft
  shipshape ensure -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, formatTable, formatJSON, formatMarkdown); err != nil {
				return err
			}
			e := &ensureRun{io: io, failSoft: failSoft, output: output}
			cfg, err := lifecycle.EnsureConfig(configFile, repos)
			if err != nil {
				return e.configError(err)
			}
			rep := lifecycle.Ensure(cmd.Context(), cfg, repos, ecr.Account{Region: region, Profile: profile})
			return e.finish(rep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml)")
	f.StringArrayVar(&repos, "repo", nil, "only the repository `NAME` (exact; repeatable); it must match an entry of repositories")
	f.BoolVar(&failSoft, "fail-soft", false, "exit 0 whatever happens; report failures as ::warning:: lines (for publish pipelines)")
	f.StringVar(&region, "region", "", "the AWS `REGION` of every registry, instead of shipshape.yaml's")
	f.StringVar(&profile, "profile", "", "the AWS shared-config `PROFILE` for every registry, instead of shipshape.yaml's")
	addOutputFlag(cmd, &output, formatTable, formatJSON, formatMarkdown)
	return cmd
}

// ensureRun prints a report and decides the exit code.
type ensureRun struct {
	io       IO
	failSoft bool
	output   string
}

// configError ends a run whose configuration could not be read: an error, or with
// --fail-soft warnings and an empty report.
func (e *ensureRun) configError(err error) error {
	var lines []string
	var list config.ErrorList
	if errors.As(err, &list) {
		for _, l := range list {
			lines = append(lines, l.Error())
		}
	} else {
		lines = []string{err.Error()}
	}
	if !e.failSoft {
		for _, l := range lines {
			fmt.Fprintf(e.io.Err, "shipshape: %s\n", l)
		}
		return silentExit(ExitError)
	}
	return e.finish(settings.Report{Errors: lines})
}

func (e *ensureRun) finish(rep settings.Report) error {
	var err error
	switch e.output {
	case formatJSON:
		err = settings.WriteJSON(e.io.Out, rep)
	case formatMarkdown:
		err = settings.WriteMarkdown(e.io.Out, rep)
	default:
		err = settings.WriteTable(e.io.Out, rep, color(e.io))
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}

	// Workflow commands go to standard output, where GitHub Actions reads them, except
	// under -o json, whose output must stay one JSON document.
	annotations := e.io.Out
	if e.output == formatJSON {
		annotations = e.io.Err
	}
	problem := func(level, msg string) {
		if e.failSoft {
			level = "warning"
		}
		if e.failSoft || inActions(e.io) {
			annotate(annotations, level, "", 0, 0, "shipshape ensure: "+msg)
		}
		fmt.Fprintf(e.io.Err, "%s: %s\n", level, msg)
	}
	for _, msg := range rep.Errors {
		problem("error", msg)
	}
	for _, o := range rep.Outcomes {
		switch o.Status {
		case settings.Failed:
			problem("error", outcomeText(o))
		case settings.Drifted:
			problem("warning", outcomeText(o))
		}
	}
	if !rep.Failed() {
		return nil
	}
	failures := fmt.Sprintf("%d failures", rep.Count(settings.Failed)+len(rep.Errors))
	if failures == "1 failures" {
		failures = "1 failure"
	}
	if e.failSoft {
		fmt.Fprintf(e.io.Err, "shipshape: %s, ignored (--fail-soft); the next run retries\n", failures)
		return nil
	}
	fmt.Fprintf(e.io.Err, "shipshape: %s; the next run retries\n", failures)
	return silentExit(ExitError)
}

// outcomeText says what happened to one setting, on one line.
func outcomeText(o settings.Outcome) string {
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
