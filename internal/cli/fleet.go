package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/htmlreport"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress"
)

// formatHTML is the HTML report (audit, simulate).
const formatHTML = "html"

// fleetFlags are the flags of the commands that read a whole registry (--all).
type fleetFlags struct {
	all           bool
	repositories  string
	match         []string
	parallel, per int
}

func (f *fleetFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.all, "all", false, "every repository of the REGISTRY arguments (hosts, or names of shipshape.yaml registries; none: every registry of shipshape.yaml)")
	fs.StringVar(&f.repositories, "repositories", "", "with --all, read the repositories `FILE` names (one a line, name or host/name) instead of the registry's catalog")
	fs.StringArrayVar(&f.match, "match", nil, "with --all, only repositories whose name matches `PATTERN` ('*' wildcards; repeatable)")
	fs.IntVar(&f.parallel, "parallel", lifecycle.DefaultFleetConcurrency, "with --all, repositories read at once")
	fs.IntVar(&f.per, "parallel-per-host", lifecycle.DefaultFleetPerHost, "with --all, repositories of one registry host read at once")
}

// check refuses the fleet flags without --all.
func (f *fleetFlags) check(cmd *cobra.Command) error {
	if f.all {
		return nil
	}
	for _, name := range []string{"repositories", "match", "parallel", "parallel-per-host"} {
		if cmd.Flags().Changed(name) {
			return usageError("--%s needs --all", name)
		}
	}
	return nil
}

// read reads the repositories of the registries named by args (lifecycle.ReadFleet).
func (f *fleetFlags) read(ctx context.Context, io IO, in *inputFlags, inputs *lifecycle.Inputs, args []string) ([]lifecycle.FleetRepo, error) {
	req := lifecycle.FleetRequest{Registries: args, Config: inputs.Config, Options: in.opts, Match: f.match,
		Concurrency: f.parallel, PerHost: f.per, Progress: progress.New(io.Err, io.ErrTTY, in.quiet),
		Opened: func(t *lifecycle.Target) { in.report(io, t) }}
	req.Options.RPSSet = in.cmd.Flags().Changed("rps")
	if f.repositories != "" {
		names, err := lifecycle.ReadRepositoriesFile(io.In, f.repositories)
		if err != nil {
			return nil, usageError("--repositories: %v", err)
		}
		req.Repositories = names
	}
	repos, err := lifecycle.ReadFleet(ctx, req)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return repos, usage(err)
}

// runFleet reports on every repository the registries of args hold: audit --all and plan
// --all, with each repository's own policy (ECR) or pol for all.
func runFleet(cmd *cobra.Command, io IO, in *inputFlags, f *fleetFlags, args []string, output string) error {
	inputs, pol, err := in.load(cmd, io, true)
	if err != nil {
		return err
	}
	repos, err := f.read(cmd.Context(), io, in, inputs, args)
	if err != nil {
		return err
	}
	return writeFleet(cmd, io, in, inputs, pol, repos, output)
}

// writeFleet builds the fleet report of repos and writes it; a repository that could not
// be read makes the command exit 1 once the report is out.
func writeFleet(cmd *cobra.Command, io IO, in *inputFlags, inputs *lifecycle.Inputs, pol *policy.Policy, repos []lifecycle.FleetRepo, output string) error {
	rep, used := lifecycle.FleetReport(cmd.Context(), lifecycle.FleetReportRequest{Repos: repos, Inputs: inputs, Policy: pol, AWS: in.account(),
		Warn: func(msg string) { warn(io, msg) }})
	err := render(io, "the report", func(w writer) error {
		if output == formatHTML {
			return htmlreport.Write(w, fleet.HTML(rep, used))
		}
		return fleet.Write(w, rep, output)
	})
	if err != nil {
		return err
	}
	for _, fl := range rep.Failures {
		warnActions(io, fmt.Sprintf("%s could not be read: %s", fl.Repository, fl.Error))
	}
	if len(rep.Failures) > 0 {
		fmt.Fprintf(io.Err, "shipshape: %d of %d repositories could not be read; they are in no total\n", len(rep.Failures), len(rep.Failures)+len(rep.Repositories))
		return silentExit(ExitError)
	}
	return nil
}
