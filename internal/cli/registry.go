package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
)

// registryFlags are the flags of every command that talks to a registry.
type registryFlags struct {
	cmd         *cobra.Command
	region      string
	profile     string
	roleARN     string
	externalID  string
	layers      bool
	insecure    bool
	cacheDir    string
	noCache     bool
	concurrency int
	rps         float64
	stats       bool
}

func (f *registryFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	fs := cmd.Flags()
	fs.BoolVar(&f.insecure, "insecure", false, "use plain HTTP (localhost and 127.0.0.1 always do)")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "cache of manifests, configs and tag history (default: $XDG_CACHE_HOME/shipshape)")
	fs.BoolVar(&f.noCache, "no-cache", false, "read everything from the registry; keep no cache and no tag history")
	fs.IntVar(&f.concurrency, "concurrency", 8, "requests in flight at once")
	fs.Float64Var(&f.rps, "rps", oci.DefaultRequestsPerSecond, "requests per second per registry host; 0 for no limit (loopback hosts have none unless --rps is given)")
	fs.BoolVar(&f.stats, "stats", false, "print request counts on standard error when done")
	fs.StringVar(&f.region, "region", "", "Amazon ECR: the AWS `REGION` (default: the one in the repository's host name)")
	fs.StringVar(&f.profile, "profile", "", "Amazon ECR: the AWS shared-config `PROFILE` to use")
	fs.StringVar(&f.roleARN, "role-arn", "", "Amazon ECR: assume this IAM `ROLE` for every call (cross-account work)")
	fs.StringVar(&f.externalID, "external-id", "", "Amazon ECR: the external `ID` the role's trust policy requires")
	fs.BoolVar(&f.layers, "layers", false, "Amazon ECR: also read image manifests, for layer sizes and deduplicated storage (ECR records each read as a pull)")
}

// opened is a registry client bound to one repository.
type opened = lifecycle.Target

// open connects to the registry of an image reference (lifecycle.Open).
func (f *registryFlags) open(ctx context.Context, io IO, cfg *config.Config, ref string) (*opened, error) {
	o := lifecycle.RegistryOptions{
		Insecure: f.insecure, CacheDir: f.cacheDir, NoCache: f.noCache, Concurrency: f.concurrency,
		RequestsPerSecond: f.rps, RPSSet: f.cmd != nil && f.cmd.Flags().Changed("rps"),
		Region: f.region, Profile: f.profile, RoleARN: f.roleARN, ExternalID: f.externalID, Layers: f.layers,
	}
	if io.ErrTTY {
		o.Progress = progress(io, "reading manifests")
	}
	t, err := lifecycle.Open(ctx, ref, cfg, o)
	return t, usage(err)
}

// usage turns a lifecycle.FlagError into a usage error (exit code 2).
func usage(err error) error {
	if fe, ok := errors.AsType[*lifecycle.FlagError](err); ok {
		return usageError("%v", fe)
	}
	return err
}

// account is the AWS account the flags name, for the in-use sources ecs and lambda.
func (f *registryFlags) account() ecr.Account {
	return ecr.Account{Region: f.region, Profile: f.profile, RoleARN: f.roleARN, ExternalID: f.externalID}
}

// report prints request counts when --stats was given.
func (f *registryFlags) report(io IO, o *opened) {
	if !f.stats || o == nil {
		return
	}
	fmt.Fprintf(io.Err, "%s: %s\n", o.Ref, o.Stats())
}

// progress returns a progress callback that draws a bar on standard error.
func progress(io IO, what string) func(done, total int) {
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil || bar.GetMax() != total {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(io.Err),
				progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(100_000_000),
			)
		}
		_ = bar.Set(done)
	}
}

// safetyFlags are the plan's safety settings, on top of shipshape.yaml.
type safetyFlags struct {
	configFile     string
	pins           []string
	inUse          []string
	protectTags    []string
	protectDigests []string
	grace          string
	maxDelete      float64
	price          float64
	// resolved is what resolve found.
	resolved *lifecycle.Inputs
}

func (s *safetyFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&s.configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml when present)")
	fs.StringArrayVar(&s.protectTags, "protect-tag", nil, "never remove images with a tag matching `PATTERN` ('*' wildcards; repeatable)")
	fs.StringArrayVar(&s.protectDigests, "protect-digests", nil, "never remove the digests listed in `FILE` (one per line, '#' comments; repeatable)")
	fs.StringArrayVar(&s.pins, "pins", nil, "never remove pinned digests, read from a pin store DSN (sqlite://…, postgres://…; opened read-only, and it must exist), a shipshape server URL, or a `FILE` (pin list -o json, or one digest a line); a source that cannot be read completely is an error (repeatable)")
	fs.StringArrayVar(&s.inUse, "in-use", nil, inUseHelp)
	fs.StringVar(&s.grace, "grace", "", "never remove images pushed less than `DURATION` ago (e.g. 48h, 7d)")
	fs.Float64Var(&s.maxDelete, "max-delete-percent", 0, "refuse a plan that removes more than `N` percent of the images (0: no limit)")
	fs.Float64Var(&s.price, "price-per-gb-month", plan.DefaultPricePerGBMonth, "storage price in `USD` per GB-month, for the savings figure")
}

// resolve merges shipshape.yaml and the flags into plan options (lifecycle.Resolve), and
// keeps what it resolved for the workflows.
func (s *safetyFlags) resolve(cmd *cobra.Command, io IO) (plan.Options, *config.Config, error) {
	flags := cmd.Flags()
	in, err := lifecycle.Resolve(cmd.Context(), lifecycle.Flags{
		ConfigFile:          s.configFile,
		ProtectTags:         s.protectTags,
		ProtectDigestsFiles: s.protectDigests,
		Pins:                s.pins,
		PinsToken:           io.Getenv(envAPIToken),
		InUse:               s.inUse,
		Grace:               s.grace,
		MaxDeletePercent:    s.maxDelete,
		MaxDeleteSet:        flags.Changed("max-delete-percent"),
		PricePerGBMonth:     s.price,
		PriceSet:            flags.Changed("price-per-gb-month"),
	})
	if err != nil {
		return plan.Options{}, nil, usage(err)
	}
	s.resolved = in
	return in.Options, in.Config, nil
}
