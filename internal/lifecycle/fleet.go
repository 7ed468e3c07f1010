package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
)

// Defaults of FleetRequest.
const (
	// DefaultFleetConcurrency is how many repositories ReadFleet reads at once over all
	// registries. Each read has up to Options.Concurrency requests in flight of its own.
	DefaultFleetConcurrency = 8
	// DefaultFleetPerHost is how many repositories of one registry host ReadFleet reads at
	// once: half the overall budget, so that one large registry leaves room for the others,
	// and a shared registry sees no more than a few clients' worth of requests.
	DefaultFleetPerHost = 4
)

// FleetRequest says which registries and repositories ReadFleet reads, and how many at once.
type FleetRequest struct {
	// Registries are registry hosts ("127.0.0.1:5000",
	// "<account>.dkr.ecr.<region>.amazonaws.com") or names of shipshape.yaml registries.
	// Empty means every registry of Config (see Repositories for the exception).
	Registries []string
	// Config is shipshape.yaml: its registries (account, region, profile, roleArn,
	// externalId, endpoint), its cache directory. nil reads ./shipshape.yaml when present.
	Config *config.Config
	// Options say how to reach every registry, as Open takes them. Concurrency 0 means the
	// OCI backend's default. Progress is not used: the backends report nothing while many
	// repositories are read at once; FleetRequest.Progress hears of the repositories.
	// RoleARN and ExternalID apply to one ECR registry only: one role cannot be several
	// accounts' role.
	Options RegistryOptions
	// Repositories, when not nil, are the repositories to read instead of those the
	// registries list. An entry "name" is read in every registry; an entry "host/name",
	// whose first component is a host as image references tell (it holds a '.' or a ':',
	// or is localhost), only in the registry of that host, which must be among those read
	// (when Registries is empty, it is: Registries are then the hosts the entries name,
	// with every registry of Config if some entry names none).
	Repositories []string
	// Match, when set, keeps the repositories whose name (without the host) matches one of
	// these patterns, in which '*' matches any run of characters.
	Match []string
	// Concurrency is how many repositories are read at once over all registries, PerHost
	// how many of one registry host; 0 or less means DefaultFleetConcurrency and
	// DefaultFleetPerHost.
	Concurrency int
	PerHost     int
	// Progress is told of the phase "repositories": the repositories read (or failed) of
	// those to read. nil reports nothing.
	Progress progress.Reporter
	// Opened, when set, is given each registry's client once it is open, before anything
	// is read, on ReadFleet's goroutine: its Stats count what the reading of that registry
	// sends. Its Repo is empty and its Ref the host.
	Opened func(*Target)
}

// FleetRepo is one repository ReadFleet read, or tried to.
type FleetRepo struct {
	// Registry is the shipshape.yaml name of the registry the repository was read through,
	// or its host when it was given as one.
	Registry string
	// Host, Repo and Ref name the repository as Target does: Ref is Host/Repo.
	Host, Repo, Ref string
	// Inventory is what the registry shows of the repository; nil when Err is set. An
	// inventory with Unreadable manifests is returned as it is: callers decide.
	Inventory *inventory.Inventory
	// PolicyText is the repository's native lifecycle policy (ECR) when HasPolicy.
	// PolicyKnown says the registry was asked and answered; it is false off ECR and when
	// the policy could not be read (PolicyErr says why).
	PolicyText  string
	HasPolicy   bool
	PolicyKnown bool
	PolicyErr   error
	// Err says why the repository could not be read. An entry with Repo empty (and Ref the
	// host) stands for a registry that could not be opened or listed.
	Err error
}

// ReadFleet reads every repository of the registries the request names: for each registry
// one client, the repositories it lists (registry.Cataloger) or the request's
// Repositories, then each repository's inventory and, on ECR, its lifecycle policy,
// Concurrency repositories at once and at most PerHost of one host.
//
// The result is sorted by Ref. A repository that fails is kept with Err set, and so is a
// registry that could not be opened or listed while others could; the error is for the
// request as a whole: bad arguments (a *FlagError), no registry that could be listed. If
// ctx ends first, ReadFleet returns what it read, the rest with Err set, and ctx's error.
func ReadFleet(ctx context.Context, req FleetRequest) ([]FleetRepo, error) {
	concurrency, perHost := req.Concurrency, req.PerHost
	if concurrency <= 0 {
		concurrency = DefaultFleetConcurrency
	}
	if perHost <= 0 {
		perHost = DefaultFleetPerHost
	}
	cfg := req.Config
	if cfg == nil {
		if _, err := os.Stat(config.DefaultFile); err == nil {
			if cfg, err = config.Load(config.DefaultFile); err != nil {
				return nil, err
			}
		}
	}
	if cfg == nil {
		cfg = &config.Config{}
	}
	o := req.Options
	o.Progress = nil
	if o.Concurrency == 0 {
		o.Concurrency = oci.DefaultConcurrency
	}

	regs, err := fleetRegistries(req.Registries, req.Repositories, cfg)
	if err != nil {
		return nil, err
	}
	if o.RoleARN != "" || o.ExternalID != "" {
		if n := countECR(regs); n > 1 {
			return nil, &FlagError{Err: fmt.Errorf("--role-arn and --external-id apply to one Amazon ECR registry, and %d are read: declare each one's roleArn in shipshape.yaml", n)}
		}
	}

	// Open every registry (no request is sent), merge those that turn out to be one, hand
	// out the repositories named, and list the others' repositories.
	for _, r := range regs {
		r.target, r.err = openFleetRegistry(ctx, r, cfg, o)
		if _, ok := errors.AsType[*FlagError](r.err); ok {
			return nil, r.err
		}
	}
	regs = mergeByHost(regs)
	if err := assignRepositories(regs, req.Repositories); err != nil {
		return nil, err
	}
	for _, r := range regs {
		if r.err == nil && req.Opened != nil {
			req.Opened(r.target)
		}
	}
	if req.Repositories == nil {
		listFleet(ctx, regs, concurrency)
	}
	var failed []error
	for _, r := range regs {
		if r.err != nil {
			failed = append(failed, r.err)
		}
	}
	if len(failed) == len(regs) {
		return nil, errors.Join(failed...)
	}

	// One queue a registry (a host, after merging), read by PerHost workers that each take
	// a slot of the overall budget for every repository.
	var out, jobs []*FleetRepo
	queues := make(map[*Target][]*FleetRepo)
	for _, r := range regs {
		if r.err != nil {
			out = append(out, &FleetRepo{Registry: r.name, Host: r.host(), Ref: r.host(), Err: r.err})
			continue
		}
		for _, repo := range r.repos {
			if matchAny(req.Match, repo) {
				j := &FleetRepo{Registry: r.name, Host: r.target.Host, Repo: repo, Ref: r.target.Host + "/" + repo}
				jobs = append(jobs, j)
				queues[r.target] = append(queues[r.target], j)
			}
		}
	}
	prog := progress.OrNop(req.Progress)
	prog.Phase("repositories", 0, len(jobs))
	global := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for t, hostJobs := range queues {
		queue := make(chan *FleetRepo, len(hostJobs))
		for _, j := range hostJobs {
			queue <- j
		}
		close(queue)
		for range min(perHost, len(hostJobs)) {
			wg.Go(func() {
				for j := range queue {
					readFleetRepo(ctx, t, j, global)
					prog.Add(1)
				}
			})
		}
	}
	wg.Wait()
	prog.End()

	out = append(out, jobs...)
	slices.SortFunc(out, func(a, b *FleetRepo) int { return cmp.Compare(a.Ref, b.Ref) })
	repos := make([]FleetRepo, len(out))
	for i, r := range out {
		repos[i] = *r
	}
	if err := ctx.Err(); err != nil {
		return repos, err
	}
	return repos, nil
}

// readFleetRepo reads j's repository through t once a slot of global is free.
func readFleetRepo(ctx context.Context, t *Target, j *FleetRepo, global chan struct{}) {
	select {
	case global <- struct{}{}:
		defer func() { <-global }()
	case <-ctx.Done():
		j.Err = fmt.Errorf("reading %s: %w", j.Ref, ctx.Err())
		return
	}
	if err := ctx.Err(); err != nil {
		j.Err = fmt.Errorf("reading %s: %w", j.Ref, err)
		return
	}
	inv, err := t.Reg.Inventory(ctx, j.Repo)
	if err != nil {
		j.Err = fmt.Errorf("reading %s: %w", j.Ref, err)
		return
	}
	j.Inventory = inv
	lp, ok := t.Reg.(registry.LifecyclePolicies)
	if !ok {
		return
	}
	text, err := lp.LifecyclePolicy(ctx, j.Repo)
	switch {
	case err == nil:
		j.PolicyText, j.HasPolicy, j.PolicyKnown = text, true, true
	case errors.Is(err, registry.ErrNotFound):
		j.PolicyKnown = true
	default:
		j.PolicyErr = err
	}
}

// fleetRegistry is one registry of a fleet: as named, then opened, then listed.
type fleetRegistry struct {
	// name is the shipshape.yaml name, or the host as given.
	name string
	// entry is the shipshape.yaml registry, nil for a host.
	entry *config.Registry
	// hosts are the hosts a Repositories entry may start with to name this registry: its
	// own, and those given for it (a registry of shipshape.yaml given by host too).
	hosts  []string
	target *Target
	// repos are the repositories to read: named by the request, or listed.
	repos []string
	err   error
}

// host is the registry's host once opened, its name before.
func (r *fleetRegistry) host() string {
	if r.target != nil {
		return r.target.Host
	}
	return r.name
}

// fleetRegistries resolves the registries of a request: names of cfg's registries or hosts,
// or, when none are given, the hosts the entries of repos name, with cfg's registries if
// some entry names none.
func fleetRegistries(names, repos []string, cfg *config.Config) ([]*fleetRegistry, error) {
	if len(names) == 0 {
		bare := false
		for _, e := range repos {
			if q, _, ok := strings.Cut(e, "/"); ok && hostLike(q) {
				if !slices.Contains(names, q) {
					names = append(names, q)
				}
			} else {
				bare = true
			}
		}
		if bare || len(repos) == 0 {
			names = append(names, cfg.RegistryNames()...)
		}
	}
	if len(names) == 0 {
		return nil, &FlagError{Err: errors.New("no registries to read: name their hosts, or declare them under registries in shipshape.yaml")}
	}
	var regs []*fleetRegistry
	seen := make(map[string]bool)
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if entry, ok := cfg.Registries[name]; ok {
			regs = append(regs, &fleetRegistry{name: name, entry: &entry})
			continue
		}
		if !hostLike(name) {
			known := "none are declared"
			if len(cfg.Registries) > 0 {
				known = "they are " + strings.Join(cfg.RegistryNames(), ", ")
			}
			return nil, &FlagError{Err: fmt.Errorf("registry %q is neither a host (such as 127.0.0.1:5000 or ghcr.io) nor a registry of shipshape.yaml (%s)", name, known)}
		}
		if _, _, err := registry.ParseReference(name + "/x"); err != nil {
			return nil, &FlagError{Err: fmt.Errorf("registry %q: %w", name, err)}
		}
		regs = append(regs, &fleetRegistry{name: name, hosts: []string{name}})
	}
	return regs, nil
}

// hostLike reports whether the first component of a reference is a registry host, as
// image references tell: it holds a '.' or a ':', or is localhost.
func hostLike(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// countECR counts the Amazon ECR registries among regs.
func countECR(regs []*fleetRegistry) int {
	n := 0
	for _, r := range regs {
		if _, _, ok := ecr.ParseHost(r.name); ok || r.entry != nil {
			n++
		}
	}
	return n
}

// fleetProbe is the repository a registry is opened with: Open binds a client to one, and
// a fleet reads many through it.
const fleetProbe = "shipshape-fleet"

// openFleetRegistry opens a client of r. A registry of shipshape.yaml is opened with its
// own account, region, profile, role and endpoint (options override them); its region,
// when neither gives one, comes from the AWS SDK's default chain.
func openFleetRegistry(ctx context.Context, r *fleetRegistry, cfg *config.Config, o RegistryOptions) (*Target, error) {
	var (
		t   *Target
		err error
	)
	if r.entry == nil {
		t, err = Open(ctx, r.name+"/"+fleetProbe, cfg, o)
	} else {
		e := *r.entry
		region := cmp.Or(o.Region, e.Region)
		if region == "" {
			aws, lerr := ecr.LoadAWSConfig(ctx, ecr.Account{Profile: cmp.Or(o.Profile, e.Profile)})
			if lerr != nil {
				return nil, fmt.Errorf("registry %s: %w", r.name, lerr)
			}
			region = aws.Region
		}
		host := e.Account + ".dkr.ecr." + region + ".amazonaws.com"
		if strings.HasPrefix(region, "cn-") {
			host += ".cn"
		}
		// openECR takes the profile, role and endpoint of cfg's first registry of the
		// account and region: give it this one alone.
		one := &config.Config{Registries: map[string]config.Registry{r.name: e}}
		t, err = openECR(ctx, one, o, host, e.Account, region, fleetProbe)
		if err == nil {
			r.hosts = append(r.hosts, host)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", r.name, err)
	}
	t.Repo, t.Ref = "", t.Host
	return t, nil
}

// mergeByHost keeps one registry per host, the first, or the first of shipshape.yaml (whose
// profile and role it was opened with), with the hosts of the others.
func mergeByHost(regs []*fleetRegistry) []*fleetRegistry {
	var out []*fleetRegistry
	first := make(map[string]*fleetRegistry)
	for _, r := range regs {
		if r.err != nil {
			out = append(out, r)
			continue
		}
		if kept, ok := first[r.target.Host]; ok {
			if kept.entry == nil && r.entry != nil { // the one with the roles wins
				*kept, *r = *r, *kept
			}
			kept.hosts = append(kept.hosts, r.hosts...)
			continue
		}
		first[r.target.Host] = r
		out = append(out, r)
	}
	return out
}

// assignRepositories hands each entry of repos to the registry whose host it starts with,
// or, without a host, to every registry.
func assignRepositories(regs []*fleetRegistry, repos []string) error {
	for _, e := range repos {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if q, name, ok := strings.Cut(e, "/"); ok && hostLike(q) {
			i := slices.IndexFunc(regs, func(r *fleetRegistry) bool { return slices.Contains(r.hosts, q) })
			if i < 0 {
				return &FlagError{Err: fmt.Errorf("repository %s names the registry %s, which is not among those read", e, q)}
			}
			regs[i].repos = append(regs[i].repos, name)
			continue
		}
		for _, r := range regs {
			r.repos = append(r.repos, e)
		}
	}
	for _, r := range regs {
		slices.Sort(r.repos)
		r.repos = slices.Compact(r.repos)
	}
	return nil
}

// listFleet lists the repositories of every open registry, limit at once.
func listFleet(ctx context.Context, regs []*fleetRegistry, limit int) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, r := range regs {
		if r.err != nil {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cat, ok := r.target.Reg.(registry.Cataloger)
			if !ok {
				r.err = fmt.Errorf("%s: %w: give --repositories FILE naming them", r.target.Host, registry.ErrNoCatalog)
				return
			}
			r.repos, r.err = cat.Repositories(ctx)
		})
	}
	wg.Wait()
}

// matchAny reports whether name matches one of patterns ('*' wildcards), or patterns is
// empty.
func matchAny(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if policy.MatchTag(p, name) {
			return true
		}
	}
	return false
}
