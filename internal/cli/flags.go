package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
)

// registryFlags bind the flags of every command that talks to a registry to the options
// lifecycle.Open takes.
type registryFlags struct {
	cmd   *cobra.Command
	opts  lifecycle.RegistryOptions
	stats bool
	quiet bool
}

func (f *registryFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	o, fs := &f.opts, cmd.Flags()
	fs.BoolVar(&o.Insecure, "insecure", false, "use plain HTTP (localhost and 127.0.0.1 always do)")
	fs.StringVar(&o.CacheDir, "cache-dir", "", "cache of manifests, configs and tag history (default: $XDG_CACHE_HOME/shipshape)")
	fs.BoolVar(&o.NoCache, "no-cache", false, "read everything from the registry; keep no cache and no tag history")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "requests in flight at once")
	fs.Float64Var(&o.RequestsPerSecond, "rps", oci.DefaultRequestsPerSecond, "requests per second per registry host; 0 for no limit (loopback hosts have none unless --rps is given)")
	fs.BoolVar(&f.stats, "stats", false, "print request counts on standard error when done")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "show no progress (by default a bar on a terminal, elsewhere a line at least every 10 s)")
	fs.StringVar(&o.Region, "region", "", "Amazon ECR: the AWS `REGION` (default: the one in the repository's host name)")
	fs.StringVar(&o.Profile, "profile", "", "Amazon ECR: the AWS shared-config `PROFILE` to use")
	fs.StringVar(&o.RoleARN, "role-arn", "", "Amazon ECR: assume this IAM `ROLE` for every call (cross-account work)")
	fs.StringVar(&o.ExternalID, "external-id", "", "Amazon ECR: the external `ID` the role's trust policy requires")
	fs.BoolVar(&o.Layers, "layers", false, "Amazon ECR: also read image manifests, for layer sizes and deduplicated storage (ECR records each read as a pull)")
}

// open connects to the registry of an image reference (lifecycle.Open).
func (f *registryFlags) open(ctx context.Context, io IO, cfg *config.Config, ref string) (*lifecycle.Target, error) {
	o := f.opts
	o.RPSSet = f.cmd.Flags().Changed("rps")
	o.Progress = progress.New(io.Err, io.ErrTTY, f.quiet)
	t, err := lifecycle.Open(ctx, ref, cfg, o)
	return t, usage(err)
}

// account is the AWS account the flags name, for the in-use sources ecs and lambda.
func (f *registryFlags) account() ecr.Account {
	return ecr.Account{Region: f.opts.Region, Profile: f.opts.Profile, RoleARN: f.opts.RoleARN, ExternalID: f.opts.ExternalID}
}

// report prints request counts when --stats was given.
func (f *registryFlags) report(io IO, t *lifecycle.Target) {
	if f.stats && t != nil {
		fmt.Fprintf(io.Err, "%s: %s\n", t.Ref, t.Stats())
	}
}

// inputFlags are the flags plan, apply and audit share, bound to what lifecycle.Resolve
// takes: shipshape.yaml, the safety layer and the clock; and the policy and the registry.
type inputFlags struct {
	registryFlags
	flags      lifecycle.Flags
	policyFile string
	policyText []byte // as read, for --native and ECR's preview
}

func (f *inputFlags) register(cmd *cobra.Command) {
	f.registryFlags.register(cmd)
	s, fs := &f.flags, cmd.Flags()
	fs.StringVar(&f.policyFile, "policy", "", "lifecycle policy `FILE` (ECR JSON; \"-\" for standard input)")
	fs.StringVar(&s.Now, "now", "", "evaluate at this RFC 3339 `TIME` instead of the current time")
	fs.StringVar(&s.ConfigFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml when present)")
	fs.StringArrayVar(&s.ProtectTags, "protect-tag", nil, "never remove images with a tag matching `PATTERN` ('*' wildcards; repeatable)")
	fs.StringArrayVar(&s.ProtectDigestsFiles, "protect-digests", nil, "never remove the digests listed in `FILE` (one per line, '#' comments; repeatable)")
	fs.StringArrayVar(&s.Pins, "pins", nil, "never remove pinned digests, read from `SOURCE`: a pin store DSN (sqlite://…, postgres://…; opened read-only, and it must exist), a shipshape server URL, or a file (pin list -o json, or one digest a line); a source that cannot be read completely is an error (repeatable)")
	fs.StringArrayVar(&s.InUse, "in-use", nil, inUseHelp)
	fs.StringVar(&s.Grace, "grace", "", "never remove images pushed less than `DURATION` ago (e.g. 48h, 7d)")
	fs.Float64Var(&s.MaxDeletePercent, "max-delete-percent", 0, "refuse a plan that removes more than `N` percent of the images (0: no limit)")
	fs.Float64Var(&s.PricePerGBMonth, "price-per-gb-month", plan.DefaultPricePerGBMonth, "storage price in `USD` per GB-month, for the savings figure")
}

// resolve merges shipshape.yaml and the flags (lifecycle.Resolve).
func (f *inputFlags) resolve(cmd *cobra.Command, io IO) (*lifecycle.Inputs, error) {
	s := f.flags
	s.PinsToken = io.Getenv(envAPIToken)
	s.MaxDeleteSet = cmd.Flags().Changed("max-delete-percent")
	s.PriceSet = cmd.Flags().Changed("price-per-gb-month")
	in, err := lifecycle.Resolve(cmd.Context(), s)
	return in, usage(err)
}

// load resolves the inputs and reads --policy, which is required unless optional,
// printing the policy's problems and lint warnings on standard error.
func (f *inputFlags) load(cmd *cobra.Command, io IO, optional bool) (*lifecycle.Inputs, *policy.Policy, error) {
	if f.policyFile == "" && !optional {
		return nil, nil, usageError("%s needs --policy FILE", cmd.CommandPath())
	}
	in, err := f.resolve(cmd, io)
	if err != nil || f.policyFile == "" {
		return in, nil, err
	}
	lp := lifecycle.LoadPolicy(io.In, f.policyFile)
	if lp.Err != nil {
		printProblems(io, lp)
		return nil, nil, silentExit(ExitError)
	}
	// A plan is where a policy's traps show; say so, without failing.
	for _, w := range policy.Lint(lp.Policy) {
		fmt.Fprintf(io.Err, "%s: %s: %s [%s]\n", f.policyFile, w.Level(), w.String(), w.Check)
	}
	f.policyText = lp.Text
	return in, lp.Policy, nil
}

// usage turns a lifecycle.FlagError into a usage error (exit code 2).
func usage(err error) error {
	if fe, ok := errors.AsType[*lifecycle.FlagError](err); ok {
		return usageError("%v", fe)
	}
	return err
}
