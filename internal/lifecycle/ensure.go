package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/settings"
)

// EnsureOptions say which repositories ensure reconciles, as whom, and whether it writes.
type EnsureOptions struct {
	// Repos, when set, limits the run to these repositories (exact names).
	Repos []string
	// AWS's region and profile, when set, replace every registry's.
	AWS ecr.Account
	// DryRun reads and compares, and writes nothing (settings.Desired.DryRun).
	DryRun bool
	// Progress, when set, is told how far each registry's run has come.
	Progress progress.Reporter
}

// ensureAttempts and ensureBackoff bound the SDK's retries of one ensure call: ensure runs
// in publish steps, where a setting that keeps failing should be reported (and retried by
// the next run) rather than hold the pipeline for minutes.
const (
	ensureAttempts = 4
	ensureBackoff  = 5 * time.Second
	ensureConnect  = 10 * time.Second
)

// Ensure brings every registry of cfg to the settings it declares: each setting is read,
// compared and written on its own (settings.Ensure). A registry whose AWS configuration
// cannot be loaded is an error of the report; the others go on.
func Ensure(ctx context.Context, cfg *config.Config, o EnsureOptions) settings.Report {
	var rep settings.Report
	repos, override := o.Repos, o.AWS
	for _, name := range cfg.RegistryNames() {
		d := desired(cfg, name, repos)
		d.DryRun = o.DryRun
		if len(d.Rules) == 0 || (len(repos) > 0 && !slices.ContainsFunc(repos, d.Matches)) {
			continue
		}
		reg := cfg.Registries[name]
		acct := ecr.Account{Region: reg.Region, Profile: reg.Profile, RoleARN: reg.RoleARN, ExternalID: reg.ExternalID, Endpoint: reg.Endpoint,
			MaxAttempts: ensureAttempts, MaxBackoff: ensureBackoff, ConnectTimeout: ensureConnect}
		if override.Region != "" {
			acct.Region = override.Region
		}
		if override.Profile != "" {
			acct.Profile = override.Profile
		}
		r, err := settings.EnsureIn(ctx, acct, d, o.Progress)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		rep.Append(r)
	}
	return rep
}

// EnsureConfig reads shipshape.yaml and checks that it declares what --repo names.
func EnsureConfig(file string, repos []string) (*config.Config, error) {
	if file == "" {
		file = config.DefaultFile
		if _, err := os.Stat(file); err != nil {
			return nil, errors.New("no shipshape.yaml here: give --config FILE")
		}
	}
	cfg, err := config.Load(file)
	if err != nil {
		return nil, err
	}
	if len(cfg.Repositories) == 0 {
		return nil, fmt.Errorf("%s declares no repositories: ensure has nothing to do", file)
	}
	var unknown []string
	for _, r := range repos {
		found := false
		for _, name := range cfg.RegistryNames() {
			found = found || desired(cfg, name, nil).Matches(r)
		}
		if !found {
			unknown = append(unknown, r)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--repo %s: no entry of repositories in %s matches", strings.Join(unknown, ", "), file)
	}
	return cfg, nil
}

// desired gathers what shipshape.yaml declares for one registry.
func desired(cfg *config.Config, registry string, only []string) settings.Desired {
	d := settings.Desired{Registry: registry, RegistryID: cfg.Registries[registry].Account, Only: only}
	for _, r := range cfg.Repositories {
		if r.Registry != registry {
			continue
		}
		rule := settings.Rule{Patterns: r.Names, Create: r.Create, ScanOnPush: r.ScanOnPush}
		if l := r.Lifecycle; l != nil {
			rule.Lifecycle = &settings.Lifecycle{Source: r.LifecyclePolicy, Text: string(l.Text), Policy: l.Policy}
		}
		if r.TagMutability != "" {
			rule.Mutability = &settings.Mutability{Mode: r.TagMutability, Exclusions: r.TagMutabilityExclusions}
		}
		if e := r.Encryption; e != nil {
			rule.Encryption = &settings.Encryption{Type: e.Type, KMSKey: e.KMSKey}
		}
		// With --repo, the registry's scanning is kept only when its entry names one of them.
		if s := r.RegistryScanning; s != nil && (len(only) == 0 || slices.ContainsFunc(only, (settings.Desired{Rules: []settings.Rule{rule}}).Matches)) {
			d.RegistryScanning = &settings.RegistryScanning{ScanType: s.ScanType}
			for _, sr := range s.Rules {
				d.RegistryScanning.Rules = append(d.RegistryScanning.Rules, settings.ScanningRule{Frequency: sr.ScanFrequency, Filters: sr.Filters})
			}
		}
		d.Rules = append(d.Rules, rule)
	}
	return d
}
