package cli

import (
	"cmp"
	"context"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/htmlreport"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/simulate"
)

func newSimulateCmd(io IO) *cobra.Command {
	var (
		in       inputFlags
		ff       fleetFlags
		images   []string
		compare  []string
		output   string
		opts     simulate.Options
		quotaSet bool
	)
	cmd := describe(&cobra.Command{
		Use:   "simulate --policy FILE [--compare FILE|none] (REPOSITORY... | --images FILE... | --all [REGISTRY...])",
		Short: "Project a lifecycle policy forward in time: images, storage and cost, day by day",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case ff.all && len(images) > 0:
				return usageError("give --all or --images files, not both")
			case !ff.all && len(args) == 0 && len(images) == 0:
				return usageError("simulate needs a REPOSITORY, --images FILE or --all")
			case !ff.all && len(args) > 0 && len(images) > 0:
				return usageError("give REPOSITORY arguments or --images files, not both")
			case in.policyFile == "" && !ff.all:
				return usageError("simulate needs --policy FILE (with --all, each repository's own policy is used without it)")
			case opts.Days < 1 || opts.Days > simulate.MaxDays:
				return usageError("--days must be from 1 to %d, got %d", simulate.MaxDays, opts.Days)
			case stdinUses(append(append([]string{in.policyFile}, images...), compare...)...) > 1:
				return usageError("only one of --policy, --images and --compare can read standard input")
			}
			quotaSet = cmd.Flags().Changed("quota")
			return cmp.Or(ff.check(cmd), checkFormat(output, report.Table, report.JSON, formatHTML))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, pol, err := in.load(cmd, io, true)
			if err != nil {
				return err
			}
			opts.PricePerGBMonth = inputs.Options.PricePerGBMonth
			if in.flags.Now != "" {
				opts.Start = inputs.Now
			}
			if !quotaSet {
				opts.QuotaImages = 0
			}
			cands := []simulate.Candidate{{Name: lifecycle.OwnPolicies}}
			if pol != nil {
				cands[0] = simulate.Candidate{Name: policyName(in.policyFile), Policy: pol}
			}
			for _, file := range compare {
				if strings.EqualFold(file, "none") {
					cands = append(cands, simulate.Candidate{Name: simulate.NoPolicy})
					continue
				}
				lp := lifecycle.LoadPolicy(io.In, file)
				if lp.Err != nil {
					printProblems(io, lp)
					return silentExit(ExitError)
				}
				cands = append(cands, simulate.Candidate{Name: policyName(file), Policy: lp.Policy})
			}
			var repos []lifecycle.FleetRepo
			if ff.all {
				if repos, err = ff.read(cmd.Context(), io, &in, inputs, args); err != nil {
					return err
				}
			} else {
				audited, err := lifecycle.ReadAudited(cmd.Context(), lifecycle.AuditRequest{Refs: args, Files: images, Stdin: io.In,
					Open: func(ctx context.Context, ref string) (*lifecycle.Target, error) {
						return in.open(ctx, io, inputs.Config, ref)
					},
					Opened: func(t *lifecycle.Target) { in.report(io, t) }})
				if err != nil {
					return err
				}
				repos = lifecycle.FleetRepos(audited)
			}
			rep, err := lifecycle.Simulate(lifecycle.SimulateRequest{Repos: repos, Candidates: cands, Options: opts})
			if err != nil {
				return err
			}
			return render(io, "the simulation", func(w writer) error {
				if output == formatHTML {
					return htmlreport.Write(w, simulate.HTML(rep))
				}
				return simulate.Write(w, rep, output)
			})
		},
	}, "simulate")
	in.register(cmd)
	ff.register(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&images, "images", nil, "images `FILE`: describe-images JSON or a shipshape snapshot (\"-\" for standard input); repeat for several repositories")
	f.StringArrayVar(&compare, "compare", nil, "also project the policy in `FILE` (\"none\": no policy) over the same pushes (repeatable)")
	f.IntVar(&opts.Days, "days", simulate.DefaultDays, "days to project")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of the synthetic pushes: the same seed gives the same pushes")
	f.IntVar(&opts.QuotaImages, "quota", simulate.DefaultQuotaImages, "images per repository to watch for (ECR's quota)")
	f.Float64Var(&opts.BudgetUSD, "budget", 0, "monthly storage cost in `USD` to watch for (0: none)")
	f.Float64Var(&opts.ArchivePricePerGBMonth, "archive-price-per-gb-month", simulate.DefaultArchivePricePerGBMonth, "archive storage price in `USD` per GB-month")
	addOutputFlag(cmd, &output, report.Table, report.JSON, formatHTML)
	return cmd
}

// policyName names a policy file in reports: its base name without .json.
func policyName(file string) string {
	if file == "-" {
		return "policy"
	}
	return strings.TrimSuffix(filepath.Base(file), ".json")
}
