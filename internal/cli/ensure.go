package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/settings"
)

func newEnsureCmd(io IO) *cobra.Command {
	var (
		configFile, output string
		repos              []string
		failSoft           bool
		aws                ecr.Account
	)
	cmd := describe(&cobra.Command{
		Use:   "ensure [--config FILE] [--repo NAME...] [--fail-soft]",
		Short: "Keep Amazon ECR repository settings as shipshape.yaml declares them",
		Args:  argCount(0, 0, "takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, report.Table, report.JSON, report.Markdown); err != nil {
				return err
			}
			var rep settings.Report
			if cfg, err := lifecycle.EnsureConfig(configFile, repos); err == nil {
				rep = lifecycle.Ensure(cmd.Context(), cfg, repos, aws)
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
			return nil
		},
	}, "ensure")
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml)")
	f.StringArrayVar(&repos, "repo", nil, "only the repository `NAME` (exact; repeatable); it must match an entry of repositories")
	f.BoolVar(&failSoft, "fail-soft", false, "exit 0 whatever happens; report failures as ::warning:: lines (for publish pipelines)")
	f.StringVar(&aws.Region, "region", "", "the AWS `REGION` of every registry, instead of shipshape.yaml's")
	f.StringVar(&aws.Profile, "profile", "", "the AWS shared-config `PROFILE` for every registry, instead of shipshape.yaml's")
	addOutputFlag(cmd, &output, report.Table, report.JSON, report.Markdown)
	return cmd
}
