package lifecycle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
)

// RegistryOptions say how to reach a registry: the values of the registry flags. The zero
// value uses the defaults (no cache directory given: $XDG_CACHE_HOME/shipshape).
type RegistryOptions struct {
	Insecure    bool
	CacheDir    string
	NoCache     bool
	Concurrency int
	// RequestsPerSecond limits each host when RPSSet (<= 0: no limit); otherwise the
	// backend's default applies.
	RequestsPerSecond float64
	RPSSet            bool
	// Amazon ECR: the region, profile and role; flags over shipshape.yaml's registries.
	Region, Profile, RoleARN, ExternalID string
	// Layers reads ECR image manifests too (each read counts as a pull).
	Layers bool
	// Progress, when set, is told how far the backend has come: its inventory's phases and
	// the tags it checks during an apply's re-check (see oci.Options.Progress). Apply
	// reports to it too unless ApplyRequest.Progress says otherwise. nil reports nothing.
	Progress progress.Reporter
}

// Target is a registry client bound to one repository.
type Target struct {
	Reg registry.Registry
	// Host and Repo split Ref, the repository as given ("localhost:5000/team/app").
	Host, Repo, Ref string
	// Batch is how many deletions apply sends between two re-checks.
	Batch int
	// requests counts what Reg sends.
	requests *registry.Counter
	// progress is RegistryOptions.Progress, which Reg reports to.
	progress progress.Reporter
	// opts and cfg are what Reg was opened with, to open other repositories alike (a
	// quarantine repository).
	opts RegistryOptions
	cfg  *config.Config
}

// Stats says how many requests the client made, by kind, with their retries and cache
// hits.
func (t *Target) Stats() string { return t.requests.Snapshot().String() }

// ecrBatch is apply's batch on ECR: BatchDeleteImage takes at most 100 images a call.
const ecrBatch = 100

// Open connects to the registry of an image reference such as "localhost:5000/team/app":
// Amazon ECR hosts ("<account>.dkr.ecr.<region>.amazonaws.com") through the ECR API with the
// AWS default credential chain, every other host through the OCI Distribution API. cfg may be
// nil: ./shipshape.yaml is then read when present (cache directory, ECR roles).
func Open(ctx context.Context, ref string, cfg *config.Config, o RegistryOptions) (*Target, error) {
	if o.Concurrency < 1 {
		return nil, flagError("concurrency", "must be at least 1, got %d", o.Concurrency)
	}
	host, repo, err := registry.ParseReference(ref)
	if err != nil {
		return nil, &FlagError{Err: err}
	}
	if cfg == nil {
		if _, err := os.Stat(config.DefaultFile); err == nil {
			if cfg, err = config.Load(config.DefaultFile); err != nil {
				return nil, err
			}
		}
	}
	if account, region, ok := ecr.ParseHost(host); ok {
		return openECR(ctx, cfg, o, host, account, region, repo)
	}
	if o.Region != "" || o.Profile != "" || o.RoleARN != "" {
		return nil, &FlagError{Err: fmt.Errorf("--region, --profile and --role-arn apply to Amazon ECR repositories only, and %s is not one", host)}
	}
	cacheDir := ""
	if !o.NoCache {
		cacheDir = o.CacheDir
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
	if o.RPSSet {
		if rps = o.RequestsPerSecond; rps <= 0 {
			rps = -1
		}
	}
	requests := &registry.Counter{}
	c, err := oci.New(host, oci.Options{Insecure: o.Insecure, CacheDir: cacheDir, Concurrency: o.Concurrency, RequestsPerSecond: rps, Progress: o.Progress, Counter: requests})
	if err != nil {
		return nil, err
	}
	return &Target{Reg: c, requests: requests, progress: o.Progress, Host: host, Repo: repo, Ref: host + "/" + repo, Batch: apply.DefaultBatchSize,
		opts: o, cfg: cfg}, nil
}

// openECR connects to an ECR registry. A registry of shipshape.yaml with the same account
// (and region, when it names one) supplies the profile, role and external ID; options
// override.
func openECR(ctx context.Context, cfg *config.Config, o RegistryOptions, host, account, region, repo string) (*Target, error) {
	acct := ecr.Account{Region: region}
	if cfg != nil {
		for _, name := range cfg.RegistryNames() {
			r := cfg.Registries[name]
			if r.Account == account && (r.Region == "" || r.Region == region) {
				acct.Profile, acct.RoleARN, acct.ExternalID, acct.Endpoint = r.Profile, r.RoleARN, r.ExternalID, r.Endpoint
				break
			}
		}
	}
	for _, set := range []struct{ flag, dst *string }{
		{&o.Region, &acct.Region}, {&o.Profile, &acct.Profile}, {&o.RoleARN, &acct.RoleARN}, {&o.ExternalID, &acct.ExternalID},
	} {
		if *set.flag != "" {
			*set.dst = *set.flag
		}
	}
	requests := &registry.Counter{}
	c, err := ecr.Dial(ctx, acct, ecr.Options{RegistryID: account, Host: host, Layers: o.Layers, Counter: requests})
	if err != nil {
		return nil, err
	}
	return &Target{Reg: c, requests: requests, Host: host, Repo: repo, Ref: host + "/" + repo, Batch: ecrBatch, opts: o, cfg: cfg}, nil
}
