package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/registry"
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
type opened struct {
	reg   registry.Registry
	stats func() string
	host  string
	repo  string
	ref   string
	// batch is how many deletions apply sends between two re-checks.
	batch int
}

// open connects to the registry of an image reference such as "localhost:5000/team/app".
// Amazon ECR hosts ("<account>.dkr.ecr.<region>.amazonaws.com") use the ECR API with the
// AWS default credential chain; every other host the OCI Distribution API.
func (f *registryFlags) open(ctx context.Context, io IO, cfg *config.Config, ref string) (*opened, error) {
	if f.concurrency < 1 {
		return nil, usageError("--concurrency must be at least 1, got %d", f.concurrency)
	}
	host, repo, err := oci.ParseReference(ref)
	if err != nil {
		return nil, usageError("%v", err)
	}
	if cfg == nil {
		// Commands without their own --config still honour ./shipshape.yaml (cache
		// directory, ECR roles).
		if _, err := os.Stat(config.DefaultFile); err == nil {
			if cfg, err = config.Load(config.DefaultFile); err != nil {
				return nil, err
			}
		}
	}
	if account, region, ok := ecr.ParseHost(host); ok {
		return f.openECR(ctx, cfg, host, account, region, repo)
	}
	if f.region != "" || f.profile != "" || f.roleARN != "" {
		return nil, usageError("--region, --profile and --role-arn apply to Amazon ECR repositories only, and %s is not one", host)
	}
	cacheDir := ""
	if !f.noCache {
		cacheDir = f.cacheDir
		if cacheDir == "" && cfg != nil {
			cacheDir = cfg.Path(cfg.CacheDir)
		}
		if cacheDir == "" {
			if base, err := os.UserCacheDir(); err == nil {
				cacheDir = filepath.Join(base, "shipshape")
			}
		}
	}
	var rps float64 // the backend's default: a limit per host, none on loopback
	if f.cmd != nil && f.cmd.Flags().Changed("rps") {
		if rps = f.rps; rps <= 0 {
			rps = -1
		}
	}
	opts := oci.Options{
		Insecure:          f.insecure,
		CacheDir:          cacheDir,
		Concurrency:       f.concurrency,
		RequestsPerSecond: rps,
	}
	if io.ErrTTY {
		opts.Progress = progress(io, "reading manifests")
	}
	c, err := oci.New(host, opts)
	if err != nil {
		return nil, err
	}
	stats := func() string {
		s := c.Stats()
		return fmt.Sprintf("%d requests (%d tag list pages, %d manifest GETs, %d manifest HEADs, %d blob GETs, %d referrers, %d deletes, %d other), %d retries, %d cache hits",
			s.Requests(), s.TagListPages, s.ManifestGETs, s.ManifestHEADs, s.BlobGETs, s.Referrers, s.Deletes, s.Other, s.Retries, s.CacheHits)
	}
	return &opened{reg: c, stats: stats, host: host, repo: repo, ref: host + "/" + repo, batch: apply.DefaultBatchSize}, nil
}

// ecrBatch is apply's batch on ECR: BatchDeleteImage takes at most 100 images a call.
const ecrBatch = 100

// openECR connects to an ECR registry. A registry of shipshape.yaml with the same account
// (and region, when it names one) supplies the profile, role and external ID; flags override.
func (f *registryFlags) openECR(ctx context.Context, cfg *config.Config, host, account, region, repo string) (*opened, error) {
	acct := ecr.Account{Region: region}
	if cfg != nil {
		for _, name := range sortedKeys(cfg.Registries) {
			r := cfg.Registries[name]
			if r.Account == account && (r.Region == "" || r.Region == region) {
				acct.Profile, acct.RoleARN, acct.ExternalID, acct.Endpoint = r.Profile, r.RoleARN, r.ExternalID, r.Endpoint
				break
			}
		}
	}
	for flag, dst := range map[*string]*string{&f.region: &acct.Region, &f.profile: &acct.Profile, &f.roleARN: &acct.RoleARN, &f.externalID: &acct.ExternalID} {
		if *flag != "" {
			*dst = *flag
		}
	}
	c, err := ecr.Dial(ctx, acct, ecr.Options{RegistryID: account, Host: host, Layers: f.layers})
	if err != nil {
		return nil, err
	}
	stats := func() string {
		calls := c.Calls()
		ops := make([]string, 0, len(calls))
		total := 0
		for op, n := range calls {
			ops = append(ops, fmt.Sprintf("%d %s", n, op))
			total += n
		}
		slices.Sort(ops)
		return fmt.Sprintf("%d ECR API calls (%s)", total, strings.Join(ops, ", "))
	}
	return &opened{reg: c, stats: stats, host: host, repo: repo, ref: host + "/" + repo, batch: ecrBatch}, nil
}

// report prints request counts when --stats was given.
func (f *registryFlags) report(io IO, o *opened) {
	if !f.stats || o == nil || o.stats == nil {
		return
	}
	fmt.Fprintf(io.Err, "%s: %s\n", o.ref, o.stats())
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
	// specs are the in-use sources resolve found, flags and shipshape.yaml together.
	specs []inuse.Spec
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
// keeps the in-use sources for keepInUse.
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
	if fe, ok := errors.AsType[*lifecycle.FlagError](err); ok {
		return plan.Options{}, nil, usageError("%v", fe)
	}
	if err != nil {
		return plan.Options{}, nil, err
	}
	s.specs = in.InUse
	return in.Options, in.Config, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
