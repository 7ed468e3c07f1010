package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/settings"
)

func newEnsureCmd(io IO) *cobra.Command {
	var (
		configFile, output string
		opts               lifecycle.EnsureOptions
		failSoft, detailed bool
		quiet              bool
		timeout            time.Duration
	)
	cmd := describe(&cobra.Command{
		Use:   "ensure [--config FILE] [--repo NAME...] [--dry-run] [--fail-soft]",
		Short: "Keep Amazon ECR repository settings as shipshape.yaml declares them",
		Args:  argCount(0, 0, "takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, report.Table, report.JSON, report.Markdown); err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			opts.Progress = progress.New(io.Err, io.ErrTTY, quiet)
			var rep settings.Report
			if cfg, err := lifecycle.EnsureConfig(configFile, opts.Repos); err == nil {
				if rep = lifecycle.Ensure(ctx, cfg, opts); errors.Is(ctx.Err(), context.DeadlineExceeded) {
					rep.Errors = append(rep.Errors, fmt.Sprintf("ran out of time (--timeout %s): the settings that failed with \"context deadline exceeded\" name the call that was running", timeout))
				}
			} else if rep.Errors = strings.Split(err.Error(), "\n"); !failSoft {
				// An unusable configuration is an error, one line per problem; with
				// --fail-soft, warnings and an empty report.
				for _, l := range rep.Errors {
					fmt.Fprintf(io.Err, "shipshape: %s\n", l)
				}
				return silentExit(ExitError)
			}
			if err := render(io, "the report", func(w writer) error { return settings.Write(w, rep, output, color(io)) }); err != nil {
				return err
			}
			// Workflow commands go to standard output, where GitHub Actions reads them, except
			// under -o json, whose output must stay one JSON document.
			annotations := io.Out
			if output == report.JSON {
				annotations = io.Err
			}
			if !rep.Conclude(io.Err, annotations, failSoft, inActions(io)) {
				return silentExit(ExitError)
			}
			if detailed && rep.Changes() > 0 && !rep.Failed() {
				return silentExit(ExitChanges)
			}
			return nil
		},
	}, "ensure")
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml)")
	f.StringArrayVar(&opts.Repos, "repo", nil, "only the repository `NAME` (exact; repeatable); it must match an entry of repositories")
	f.BoolVar(&failSoft, "fail-soft", false, "exit 0 whatever happens; report failures as ::warning:: lines (for publish pipelines)")
	f.BoolVarP(&quiet, "quiet", "q", false, "show no progress (by default a bar on a terminal, elsewhere a line at least every 10 s)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "read and compare every setting, print what would change, write nothing")
	f.BoolVar(&detailed, "detailed-exitcode", false, "exit 3 when settings were (or with --dry-run, would be) written and nothing failed")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "give up after `DURATION`, reporting the call that was running (0: no limit)")
	f.StringVar(&opts.AWS.Region, "region", "", "the AWS `REGION` of every registry, instead of shipshape.yaml's")
	f.StringVar(&opts.AWS.Profile, "profile", "", "the AWS shared-config `PROFILE` for every registry, instead of shipshape.yaml's")
	addOutputFlag(cmd, &output, report.Table, report.JSON, report.Markdown)
	return cmd
}
