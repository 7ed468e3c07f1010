package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/quarantine"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func newRestoreCmd(io IO) *cobra.Command {
	var (
		reg                registryFlags
		from, tag, run     string
		output             string
		all, retag, dryRun bool
	)
	cmd := describe(&cobra.Command{
		Use:   "restore --from DEST REPOSITORY (DIGEST | --tag TAG | --run RUN | --all)",
		Short: "Put back manifests apply deleted, from its quarantine",
		Args: func(cmd *cobra.Command, args []string) error {
			picks := 0
			for _, set := range []bool{len(args) == 2, tag != "", run != "", all} {
				if set {
					picks++
				}
			}
			switch {
			case len(args) == 0 || len(args) > 2:
				return usageError("restore takes a REPOSITORY and optionally one DIGEST; got %d arguments", len(args))
			case from == "":
				return usageError("restore needs --from DEST, the quarantine apply --quarantine copied to")
			case picks != 1:
				return usageError("say what to restore: a DIGEST, --tag TAG, --run RUN or --all (exactly one)")
			case len(args) == 2 && !config.ValidDigest(args[1]):
				return usageError("%q is not a digest such as sha256:<64 hex digits>", args[1])
			}
			return checkFormat(output, report.Table, report.JSON)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := reg.open(cmd.Context(), io, nil, args[0])
			if err != nil {
				return err
			}
			defer reg.report(io, t)
			req := lifecycle.RestoreRequest{Target: t, From: from, Tag: tag, Run: run, All: all, Retag: retag, DryRun: dryRun, Getenv: io.Getenv}
			if len(args) == 2 {
				req.Digest = args[1]
			}
			res, err := lifecycle.Restore(cmd.Context(), req)
			if err != nil {
				return usage(err)
			}
			if err := render(io, "the restore", func(w writer) error { return quarantine.WriteRestoredAs(w, res, dryRun, output) }); err != nil {
				return err
			}
			for _, r := range res {
				if r.Outcome == quarantine.OutcomeFailed {
					return silentExit(ExitError)
				}
			}
			return nil
		},
	}, "restore")
	reg.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the quarantine: a `DEST` directory or repository HOST/REPO that apply --quarantine copied to")
	cmd.Flags().StringVar(&tag, "tag", "", "restore the manifest `TAG` pointed at when it was deleted")
	cmd.Flags().StringVar(&run, "run", "", "restore everything apply run `RUN` removed (see shipshape log)")
	cmd.Flags().BoolVar(&all, "all", false, "restore everything the quarantine holds for the repository")
	cmd.Flags().BoolVar(&retag, "retag", false, "move a tag that now points at another manifest back to the restored one")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be restored; change nothing")
	addOutputFlag(cmd, &output, report.Table, report.JSON)
	return cmd
}

func newLogCmd(io IO) *cobra.Command {
	var (
		since, run, output string
		olderThan          string
		prune, insecure    bool
		dests              []string
	)
	cmd := describe(&cobra.Command{
		Use:   "log [REPOSITORY]",
		Short: "Show what every apply run removed, and prune the quarantine",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usageError("log takes at most one REPOSITORY; got %d arguments", len(args))
			case !prune && (len(dests) > 0 || cmd.Flags().Changed("older-than")):
				return usageError("--quarantine and --older-than go with --prune-quarantine")
			case prune && (len(args) > 0 || since != "" || run != ""):
				return usageError("--prune-quarantine prunes by age (--older-than); it takes no REPOSITORY, --since or --run")
			}
			return checkFormat(output, report.Table, report.JSON)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			now := time.Now()
			if prune {
				age, err := config.ParseDuration(olderThan)
				if err != nil {
					return usageError("--older-than: %v", err)
				}
				opts := lifecycle.RegistryOptions{Insecure: insecure, Concurrency: oci.DefaultConcurrency}
				pruned, err := lifecycle.PruneQuarantines(cmd.Context(), io.Getenv, opts, nil, dests, now.Add(-age))
				if werr := render(io, "the pruning", func(w writer) error { return quarantine.WritePrunedAs(w, pruned, output) }); werr != nil && err == nil {
					err = werr
				}
				return usage(err)
			}
			req := lifecycle.LogRequest{Run: run, Getenv: io.Getenv}
			if len(args) == 1 {
				req.Ref = args[0]
			}
			if since != "" {
				age, err := config.ParseDuration(since)
				if err != nil {
					return usageError("--since: %v", err)
				}
				req.Since = now.Add(-age)
			}
			runs, err := lifecycle.Log(req)
			if err != nil {
				return usage(err)
			}
			return render(io, "the log", func(w writer) error { return apply.WriteRunsAs(w, runs, output) })
		},
	}, "log")
	cmd.Flags().StringVar(&since, "since", "", "only runs started less than `DURATION` ago (e.g. 24h, 7d)")
	cmd.Flags().StringVar(&run, "run", "", "only the run `RUN`")
	cmd.Flags().BoolVar(&prune, "prune-quarantine", false, "remove from the quarantines what was copied there more than --older-than ago")
	cmd.Flags().StringVar(&olderThan, "older-than", "30d", "with --prune-quarantine: the age (`DURATION`) past which copies go")
	cmd.Flags().StringArrayVar(&dests, "quarantine", nil, "with --prune-quarantine: prune only this `DEST` (repeatable; default: every quarantine the log names)")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "use plain HTTP to quarantine repositories (localhost and 127.0.0.1 always do)")
	addOutputFlag(cmd, &output, report.Table, report.JSON)
	return cmd
}
