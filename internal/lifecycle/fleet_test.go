package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/progress/progresstest"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// readFleet is lifecycle.ReadFleet failing the test on an error.
func readFleet(t testing.TB, req lifecycle.FleetRequest) []lifecycle.FleetRepo {
	t.Helper()
	repos, err := lifecycle.ReadFleet(t.Context(), req)
	if err != nil {
		t.Fatalf("ReadFleet() error = %v", err)
	}
	return repos
}

// refs returns the Ref of each repository.
func refs(repos []lifecycle.FleetRepo) []string {
	out := make([]string, len(repos))
	for i, r := range repos {
		out[i] = r.Ref
	}
	return out
}

// requestCount reads the number of requests from Target.Stats ("12 requests (…)").
func requestCount(t testing.TB, tg *lifecycle.Target) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(tg.Stats(), "%d request", &n); err != nil {
		t.Fatalf("Stats() = %q: %v", tg.Stats(), err)
	}
	return n
}

// TestReadFleetDistribution proves ReadFleet lists and reads all 50 repositories of a
// distribution registry, reports the one whose tag list fails with Err and the others
// complete (an unreadable manifest included, with its inventory), and counts them in its
// progress.
func TestReadFleetDistribution(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	names := registrytest.PushRepositories(t, host, "fleet", 50)
	const broken, unreadable = "fleet/017", "fleet/023"
	proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{
		Match:          func(req *http.Request) bool { return req.URL.Path == "/v2/"+broken+"/tags/list" },
		ServerErrors:   1,
		MaxConsecutive: 1000,
		NotFound: func(req *http.Request) bool {
			return req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/v2/"+unreadable+"/manifests/")
		},
	})
	var rec progresstest.Recorder
	var opened []*lifecycle.Target
	repos := readFleet(t, lifecycle.FleetRequest{
		Registries: []string{proxy.Host},
		Config:     &config.Config{},
		Options:    lifecycle.RegistryOptions{Concurrency: 4, CacheDir: t.TempDir()},
		Progress:   &rec,
		Opened:     func(tg *lifecycle.Target) { opened = append(opened, tg) },
	})

	var want []string
	for _, n := range names {
		want = append(want, proxy.Host+"/"+n)
	}
	if diff := cmp.Diff(want, refs(repos)); diff != "" {
		t.Fatalf("ReadFleet() repositories (-want +got):\n%s", diff)
	}
	for _, r := range repos {
		if r.Registry != proxy.Host || r.Host != proxy.Host || r.Ref != r.Host+"/"+r.Repo || r.PolicyKnown || r.HasPolicy {
			t.Errorf("%s: Registry %q, Host %q, Repo %q, PolicyKnown %v; want the proxy's host and no policy known", r.Ref, r.Registry, r.Host, r.Repo, r.PolicyKnown)
		}
		switch r.Repo {
		case broken:
			if r.Err == nil || r.Inventory != nil || !strings.Contains(r.Err.Error(), "reading "+r.Ref) {
				t.Errorf("%s: Err = %v, Inventory %v; want an error naming it and no inventory", r.Ref, r.Err, r.Inventory)
			}
		case unreadable:
			if r.Err != nil || r.Inventory == nil || len(r.Inventory.Unreadable) != 1 {
				t.Errorf("%s: Err = %v, inventory %+v; want its inventory with one unreadable manifest", r.Ref, r.Err, r.Inventory)
			}
		default:
			if r.Err != nil || r.Inventory == nil || len(r.Inventory.Unreadable) != 0 || r.Inventory.Repository != r.Ref {
				t.Errorf("%s: Err = %v, inventory %+v; want a complete inventory", r.Ref, r.Err, r.Inventory)
				continue
			}
			if tagged := tagsOf(r.Inventory); !slices.Equal(tagged, []string{"latest"}) {
				t.Errorf("%s: tags %v, want [latest]", r.Ref, tagged)
			}
		}
	}
	wantPhase := []progresstest.Phase{{Name: "repositories", StartTotal: 50, Done: 50, Total: 50, Ended: true}}
	if diff := cmp.Diff(wantPhase, rec.Phases()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if len(opened) != 1 || opened[0].Host != proxy.Host || opened[0].Repo != "" || requestCount(t, opened[0]) < 150 {
		t.Errorf("Opened was given %v; want the one client, which sent at least 3 requests a repository", opened)
	}
}

// tagsOf returns the tags of every image of inv, sorted.
func tagsOf(inv *inventory.Inventory) []string {
	var tags []string
	for _, img := range inv.Images {
		tags = append(tags, img.Tags...)
	}
	slices.Sort(tags)
	return tags
}

// TestReadFleetECRAccounts proves ReadFleet reads every repository of three ECR registries
// declared in shipshape.yaml, each its own account with its own endpoint, two through a
// role; fetches their lifecycle policies; and reports a policy it could not read.
func TestReadFleetECRAccounts(t *testing.T) {
	awsEnv(t)
	const policyText = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`
	accounts := []struct {
		name, account, region, role string
		repos                       int
	}{
		{"prod", "111111111111", "us-east-1", "arn:aws:iam::111111111111:role/shipshape", 3},
		{"staging", "222222222222", "eu-west-1", "arn:aws:iam::222222222222:role/shipshape", 4},
		{"tools", "333333333333", "us-east-2", "", 5},
	}
	var yaml strings.Builder
	yaml.WriteString("registries:\n")
	servers := map[string]*ecrtest.Server{}
	var want []string
	wantPolicy := map[string]bool{}
	for _, a := range accounts {
		s := ecrtest.NewWithAccount(t, a.account)
		servers[a.name] = s
		for i := range a.repos {
			repo := fmt.Sprintf("%s/app-%d", a.name, i)
			r := ecrtest.Repo{}
			if i%2 == 0 {
				r.LifecyclePolicy = policyText
			}
			s.CreateRepository(repo, r)
			s.PushBuild(repo, "v1", time.Now().Add(-time.Hour))
			ref := a.account + ".dkr.ecr." + a.region + ".amazonaws.com/" + repo
			want = append(want, ref)
			wantPolicy[ref] = i%2 == 0
		}
		fmt.Fprintf(&yaml, "  %s:\n    account: %q\n    region: %s\n    endpoint: %s\n", a.name, a.account, a.region, s.URL)
		if a.role != "" {
			fmt.Fprintf(&yaml, "    roleArn: %s\n", a.role)
		}
	}
	slices.Sort(want)
	cfg, err := config.Parse([]byte(yaml.String()))
	if err != nil {
		t.Fatal(err)
	}
	servers["tools"].Fail("GetLifecyclePolicy", 1, "AccessDeniedException", "User: arn:aws:iam::333333333333:user/base is not authorized to perform: ecr:GetLifecyclePolicy")

	var opened []*lifecycle.Target
	repos := readFleet(t, lifecycle.FleetRequest{
		Config:  cfg,
		Options: lifecycle.RegistryOptions{Concurrency: 2},
		Opened:  func(tg *lifecycle.Target) { opened = append(opened, tg) },
	})
	if diff := cmp.Diff(want, refs(repos)); diff != "" {
		t.Fatalf("ReadFleet() repositories (-want +got):\n%s", diff)
	}
	denied := 0
	for _, r := range repos {
		name := strings.Split(r.Repo, "/")[0]
		if r.Registry != name || r.Err != nil || r.Inventory == nil || len(r.Inventory.Images) != 3 {
			t.Errorf("%s: Registry %q, Err %v, inventory %+v; want registry %s and three images", r.Ref, r.Registry, r.Err, r.Inventory, name)
			continue
		}
		if r.PolicyErr != nil {
			denied++
			if r.Registry != "tools" || r.PolicyKnown || !errors.Is(r.PolicyErr, registry.ErrDenied) {
				t.Errorf("%s: PolicyKnown %v, PolicyErr %v; want only a tools repository unknown, denied", r.Ref, r.PolicyKnown, r.PolicyErr)
			}
			continue
		}
		if !r.PolicyKnown || r.HasPolicy != wantPolicy[r.Ref] || r.HasPolicy != (r.PolicyText == policyText) {
			t.Errorf("%s: PolicyKnown %v, HasPolicy %v, PolicyText %q; want known, %v", r.Ref, r.PolicyKnown, r.HasPolicy, r.PolicyText, wantPolicy[r.Ref])
		}
	}
	if denied != 1 {
		t.Errorf("%d repositories with a policy error, want the one GetLifecyclePolicy refused", denied)
	}
	if len(opened) != 3 {
		t.Errorf("Opened was called %d times, want once a registry", len(opened))
	}
	for _, a := range accounts {
		s := servers[a.name]
		if n := s.Calls("DescribeRepositories"); n != 1 {
			t.Errorf("%s: %d DescribeRepositories calls, want 1", a.name, n)
		}
		if n := s.Calls("DescribeImages"); n != a.repos {
			t.Errorf("%s: %d DescribeImages calls, want one a repository (%d)", a.name, n, a.repos)
		}
		roles := s.AssumeRoles()
		keys := s.AccessKeys("DescribeImages")
		if a.role == "" {
			if len(roles) != 0 || slices.ContainsFunc(keys, func(k string) bool { return k != ecrtest.AccessKeyID }) {
				t.Errorf("%s: AssumeRole calls %v, keys %v; want the base key only", a.name, roles, keys)
			}
			continue
		}
		if len(roles) != 1 || roles[0].RoleARN != a.role || slices.ContainsFunc(keys, func(k string) bool { return !strings.HasPrefix(k, "ASIAASSUMED") }) {
			t.Errorf("%s: AssumeRole calls %v, keys %v; want %s assumed once and its keys used", a.name, roles, keys, a.role)
		}
	}

	// One of them by name, and the repositories of a list.
	repos = readFleet(t, lifecycle.FleetRequest{
		Registries:   []string{"staging"},
		Config:       cfg,
		Repositories: []string{"staging/app-1", "222222222222.dkr.ecr.eu-west-1.amazonaws.com/staging/app-3", "staging/gone"},
	})
	got := map[string]bool{}
	for _, r := range repos {
		got[r.Repo] = r.Err == nil
	}
	if diff := cmp.Diff(map[string]bool{"staging/app-1": true, "staging/app-3": true, "staging/gone": false}, got); diff != "" {
		t.Errorf("ReadFleet(staging, 3 repositories) read (-want +got):\n%s", diff)
	}
	if n := servers["staging"].Calls("DescribeRepositories"); n != 1 {
		t.Errorf("with repositories named, DescribeRepositories was called again (%d calls)", n)
	}

	if _, err := lifecycle.ReadFleet(t.Context(), lifecycle.FleetRequest{Config: cfg, Options: lifecycle.RegistryOptions{RoleARN: accounts[0].role}}); !isFlagError(err) {
		t.Errorf("ReadFleet(3 ECR registries, --role-arn) error = %v, want a *FlagError", err)
	}
}

func isFlagError(err error) bool {
	_, ok := errors.AsType[*lifecycle.FlagError](err)
	return ok
}

// countingRegistry serves go-containerregistry's in-process registry, answering each
// repository request after delay, and records the most repositories that had requests in
// flight at once, in all and per host, while counting is on.
type countingRegistry struct {
	delay    time.Duration
	counting atomic.Bool
	catalogs atomic.Int32
	requests atomic.Int32

	mu        sync.Mutex
	inFlight  map[string]map[string]int // host → repository → requests in flight
	maxByHost map[string]int
	maxAll    int
}

func newCountingRegistries(t *testing.T, c *countingRegistry, n int) []string {
	c.inFlight, c.maxByHost = map[string]map[string]int{}, map[string]int{}
	var hosts []string
	for range n {
		reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if c.counting.Load() {
				c.requests.Add(1)
				if req.URL.Path == "/v2/_catalog" {
					c.catalogs.Add(1)
				}
				if repo := repositoryOf(req.URL.Path); repo != "" {
					c.enter(req.Host, repo, 1)
					defer c.enter(req.Host, repo, -1)
					time.Sleep(c.delay)
				}
			}
			reg.ServeHTTP(w, req)
		}))
		t.Cleanup(srv.Close)
		hosts = append(hosts, strings.TrimPrefix(srv.URL, "http://"))
	}
	return hosts
}

// repositoryOf returns the repository of a Distribution API path, "" for another path.
func repositoryOf(path string) string {
	name, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	for _, part := range []string{"/tags/", "/manifests/", "/blobs/", "/referrers/"} {
		if i := strings.LastIndex(name, part); i >= 0 {
			return name[:i]
		}
	}
	return ""
}

func (c *countingRegistry) enter(host, repo string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight[host] == nil {
		c.inFlight[host] = map[string]int{}
	}
	if c.inFlight[host][repo] += n; c.inFlight[host][repo] == 0 {
		delete(c.inFlight[host], repo)
	}
	all := 0
	for h, repos := range c.inFlight {
		c.maxByHost[h] = max(c.maxByHost[h], len(repos))
		all += len(repos)
	}
	c.maxAll = max(c.maxAll, all)
}

// TestReadFleetBudgets proves ReadFleet never reads more repositories of a host at once
// than PerHost, nor more in all than Concurrency, and does read several at once.
func TestReadFleetBudgets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		hosts                int
		concurrency, perHost int
	}{
		{"per host", 1, 8, 2},
		{"overall", 3, 3, 2},
		{"defaults", 2, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &countingRegistry{delay: 5 * time.Millisecond}
			hosts := newCountingRegistries(t, c, tc.hosts)
			for _, h := range hosts {
				registrytest.PushRepositories(t, h, "team", 12)
			}
			c.counting.Store(true)
			repos := readFleet(t, lifecycle.FleetRequest{
				Registries:  hosts,
				Config:      &config.Config{},
				Options:     lifecycle.RegistryOptions{Concurrency: 4, NoCache: true},
				Concurrency: tc.concurrency,
				PerHost:     tc.perHost,
			})
			if len(repos) != 12*tc.hosts {
				t.Fatalf("ReadFleet() = %d repositories, want %d", len(repos), 12*tc.hosts)
			}
			for _, r := range repos {
				if r.Err != nil {
					t.Errorf("%s: %v", r.Ref, r.Err)
				}
			}
			perHost, all := cmpOr(tc.perHost, lifecycle.DefaultFleetPerHost), cmpOr(tc.concurrency, lifecycle.DefaultFleetConcurrency)
			c.mu.Lock()
			defer c.mu.Unlock()
			for h, n := range c.maxByHost {
				if n > perHost {
					t.Errorf("%s: up to %d repositories were read at once, want no more than %d (PerHost)", h, n, perHost)
				}
			}
			if c.maxAll > all || c.maxAll < 2 {
				t.Errorf("up to %d repositories were read at once, want 2 to %d (Concurrency)", c.maxAll, all)
			}
		})
	}
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// TestReadFleetRepositoriesAndMatch proves a list of repositories replaces the catalog
// (entries for every registry, or qualified by host), a missing one is reported with Err,
// and Match keeps only the names it matches.
func TestReadFleetRepositoriesAndMatch(t *testing.T) {
	t.Parallel()
	c := &countingRegistry{}
	hosts := newCountingRegistries(t, c, 2)
	a, b := hosts[0], hosts[1]
	for _, h := range hosts {
		for _, repo := range []string{"team/app", "team/web", "other/app"} {
			registrytest.PushImage(t, h, repo, "v1", registrytest.ImageOptions{})
		}
	}
	c.counting.Store(true)

	repos := readFleet(t, lifecycle.FleetRequest{
		Config:       &config.Config{},
		Repositories: []string{a + "/team/web", b + "/other/app", b + "/team/gone"},
	})
	want := []string{a + "/team/web", b + "/other/app", b + "/team/gone"}
	slices.Sort(want)
	if diff := cmp.Diff(want, refs(repos)); diff != "" {
		t.Errorf("ReadFleet(qualified repositories) (-want +got):\n%s", diff)
	}
	for _, r := range repos {
		if gone := r.Repo == "team/gone"; gone != (r.Err != nil) || gone && !errors.Is(r.Err, registry.ErrNotFound) {
			t.Errorf("%s: Err = %v", r.Ref, r.Err)
		}
	}
	if n := c.catalogs.Load(); n != 0 {
		t.Errorf("%d catalog requests with the repositories named, want none", n)
	}

	repos = readFleet(t, lifecycle.FleetRequest{
		Registries:   hosts,
		Config:       &config.Config{},
		Repositories: []string{"team/app", "other/app", a + "/team/web"},
		Match:        []string{"team/*"},
	})
	want = []string{a + "/team/app", a + "/team/web", b + "/team/app"}
	slices.Sort(want)
	if diff := cmp.Diff(want, refs(repos)); diff != "" {
		t.Errorf("ReadFleet(repositories for both, team/*) (-want +got):\n%s", diff)
	}

	repos = readFleet(t, lifecycle.FleetRequest{Registries: []string{b}, Config: &config.Config{}, Match: []string{"*/app"}})
	if diff := cmp.Diff([]string{b + "/other/app", b + "/team/app"}, refs(repos)); diff != "" {
		t.Errorf("ReadFleet(catalog, */app) (-want +got):\n%s", diff)
	}
	if n := c.catalogs.Load(); n != 1 {
		t.Errorf("%d catalog requests, want 1", n)
	}
}

// TestReadFleetNoCatalog proves a registry that does not list its repositories fails the
// request with ErrNoCatalog and the way out, while one registry that lists them is enough
// for the request to go on, the other reported with Err.
func TestReadFleetNoCatalog(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":[{"code":"NOT_FOUND","message":"404 page not found"}]}`)
	}))
	t.Cleanup(srv.Close)
	none := strings.TrimPrefix(srv.URL, "http://")

	repos, err := lifecycle.ReadFleet(t.Context(), lifecycle.FleetRequest{Registries: []string{none}, Config: &config.Config{}})
	if !errors.Is(err, registry.ErrNoCatalog) || !strings.Contains(err.Error(), "--repositories FILE") || repos != nil {
		t.Errorf("ReadFleet(a registry without a catalog) = %v, %v; want ErrNoCatalog saying to give --repositories FILE", repos, err)
	}

	good := registrytest.NewInProcess(t)
	registrytest.PushImage(t, good, "team/app", "v1", registrytest.ImageOptions{})
	repos = readFleet(t, lifecycle.FleetRequest{Registries: []string{none, good}, Config: &config.Config{}})
	if len(repos) != 2 {
		t.Fatalf("ReadFleet(no catalog, a registry) = %+v; want the registry without a catalog and team/app", repos)
	}
	for _, r := range repos {
		switch r.Host {
		case none:
			if r.Ref != none || r.Repo != "" || r.Inventory != nil || !errors.Is(r.Err, registry.ErrNoCatalog) {
				t.Errorf("the registry without a catalog gave %+v; want an entry of its own, with ErrNoCatalog", r)
			}
		case good:
			if r.Ref != good+"/team/app" || r.Err != nil || r.Inventory == nil {
				t.Errorf("the registry with a catalog gave %+v; want team/app read", r)
			}
		}
	}
}

// TestReadFleetRerunUsesCache proves a second reading of the same fleet with the same cache
// directory reads no manifest or config again, so that on distribution (no referrers API to
// ask again) it sends far fewer requests, and finds the same images.
func TestReadFleetRerunUsesCache(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start func(testing.TB) string
		// maxRatio bounds the requests of the second reading, as a fraction of the first's.
		maxRatio float64
	}{
		// A repository of two builds takes 10 requests cold (a tag list, 6 manifests, 2
		// configs, the referrers probe) and 4 warm (a tag list, 2 HEADs, the probe).
		{"Distribution", registrytest.StartDistribution, 0.45},
		// The referrers of every manifest are asked again (they may have changed): 16
		// requests cold, 10 warm.
		{"InProcess", registrytest.NewInProcess, 0.65},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := tc.start(t)
			for i := range 10 {
				repo := fmt.Sprintf("team/app-%d", i)
				registrytest.PushBuild(t, host, repo, "v1", registrytest.BuildOptions{})
				registrytest.PushBuild(t, host, repo, "v2", registrytest.BuildOptions{})
			}
			dir := t.TempDir()
			run := func() ([]lifecycle.FleetRepo, *lifecycle.Target) {
				var tg *lifecycle.Target
				repos := readFleet(t, lifecycle.FleetRequest{
					Registries: []string{host},
					Config:     &config.Config{},
					Options:    lifecycle.RegistryOptions{Concurrency: 4, CacheDir: dir},
					Opened:     func(t *lifecycle.Target) { tg = t },
				})
				return repos, tg
			}
			first, cold := run()
			second, warm := run()
			t.Logf("cold: %s; warm: %s", cold.Stats(), warm.Stats())
			if c, w := requestCount(t, cold), requestCount(t, warm); float64(w) > tc.maxRatio*float64(c) {
				t.Errorf("the second reading sent %d requests, the first %d; want at most %.0f%%", w, c, 100*tc.maxRatio)
			}
			if s := warm.Stats(); strings.Contains(s, "manifest GET") || strings.Contains(s, "blob GET") {
				t.Errorf("the second reading sent %s; want no manifest or config read again", s)
			}
			digests := func(repos []lifecycle.FleetRepo) map[string][]string {
				out := map[string][]string{}
				for _, r := range repos {
					if r.Err != nil {
						t.Fatalf("%s: %v", r.Ref, r.Err)
					}
					for _, img := range r.Inventory.Images {
						out[r.Ref] = append(out[r.Ref], img.Digest)
					}
				}
				return out
			}
			if diff := cmp.Diff(digests(first), digests(second)); diff != "" || len(first) != 10 {
				t.Errorf("the readings disagree, or did not read 10 repositories (-first +second):\n%s", diff)
			}
		})
	}
}

// TestReadFleetCancel proves a reading cancelled part-way returns ctx's error and every
// repository, each read or with Err set.
func TestReadFleetCancel(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	registrytest.PushRepositories(t, host, "team", 12)
	proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{
		Hold: func(req *http.Request) bool { return req.URL.Path == "/v2/team/005/tags/list" },
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		if proxy.WaitHeld(ctx, 1) == nil {
			cancel()
		}
	}()
	repos, err := lifecycle.ReadFleet(ctx, lifecycle.FleetRequest{
		Registries: []string{proxy.Host}, Config: &config.Config{}, PerHost: 1, Concurrency: 1,
		Options: lifecycle.RegistryOptions{NoCache: true},
	})
	if !errors.Is(err, context.Canceled) || len(repos) != 12 {
		t.Fatalf("ReadFleet(cancelled) = %d repositories, %v; want 12 and context.Canceled", len(repos), err)
	}
	read, failed := 0, 0
	for _, r := range repos {
		switch {
		case r.Err == nil && r.Inventory != nil:
			read++
		case r.Err != nil && errors.Is(r.Err, context.Canceled) && r.Inventory == nil:
			failed++
		default:
			t.Errorf("%s: Err %v, inventory %v; want one or the other", r.Ref, r.Err, r.Inventory)
		}
	}
	if read != 5 || failed != 7 {
		t.Errorf("%d read, %d cancelled; want the 5 before the held one read, the rest cancelled", read, failed)
	}
}

// TestReadFleetArguments proves bad requests fail as a whole, with a *FlagError.
func TestReadFleetArguments(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte("registries:\n  prod:\n    account: \"111111111111\"\n    region: us-east-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  lifecycle.FleetRequest
		want string
	}{
		{"no registries", lifecycle.FleetRequest{Config: &config.Config{}}, "no registries to read"},
		{"unknown name", lifecycle.FleetRequest{Registries: []string{"prdo"}, Config: cfg}, `registry "prdo" is neither a host`},
		{"repository of another registry", lifecycle.FleetRequest{Registries: []string{"prod"}, Config: cfg, Repositories: []string{"127.0.0.1:5000/app"}}, "not among those read"},
		{"region off ECR", lifecycle.FleetRequest{Registries: []string{"127.0.0.1:5000"}, Config: cfg, Options: lifecycle.RegistryOptions{Region: "us-east-1"}}, "apply to Amazon ECR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repos, err := lifecycle.ReadFleet(t.Context(), tc.req)
			if !isFlagError(err) || !strings.Contains(err.Error(), tc.want) || repos != nil {
				t.Errorf("ReadFleet() = %v, %v; want a *FlagError containing %q", repos, err, tc.want)
			}
		})
	}
}

// benchAWSEnv is awsEnv for a benchmark: the ECR test server's base key and nothing from the
// machine.
func benchAWSEnv(b *testing.B) {
	none := b.TempDir() + "/none"
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": ecrtest.AccessKeyID, "AWS_SECRET_ACCESS_KEY": ecrtest.SecretAccessKey, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_ECR": "",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		b.Setenv(k, v)
	}
}

// BenchmarkFleetAudit reads a fleet of 500 small repositories as audit --all does, with the
// default budgets, and reports repositories read a second and requests sent a repository:
// from the ECR test server (one buildx build a repository, policies fetched), and from
// docker-registry (one image a repository) with a new cache each time and with the cache
// of the previous reading.
func BenchmarkFleetAudit(b *testing.B) {
	const n = 500
	measure := func(b *testing.B, req lifecycle.FleetRequest, fresh func() string) {
		b.Helper()
		requests := 0
		for b.Loop() {
			if fresh != nil {
				req.Options.CacheDir = fresh()
			}
			var opened []*lifecycle.Target
			req.Opened = func(t *lifecycle.Target) { opened = append(opened, t) }
			repos := readFleet(b, req)
			if len(repos) != n {
				b.Fatalf("ReadFleet() = %d repositories, want %d", len(repos), n)
			}
			for _, t := range opened {
				requests += requestCount(b, t)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "repos/s")
		b.ReportMetric(float64(requests)/float64(n*b.N), "requests/repo")
	}

	b.Run("ECR", func(b *testing.B) {
		benchAWSEnv(b)
		s := ecrtest.New(b)
		pushed := time.Now().Add(-time.Hour)
		for i := range n {
			repo := fmt.Sprintf("bench/app-%03d", i)
			s.CreateRepository(repo, ecrtest.Repo{})
			s.PushBuild(repo, "v1", pushed)
		}
		cfg, err := config.Parse([]byte(fmt.Sprintf("registries:\n  bench:\n    account: %q\n    region: us-east-1\n    endpoint: %s\n", ecrtest.Account, s.URL)))
		if err != nil {
			b.Fatal(err)
		}
		measure(b, lifecycle.FleetRequest{Config: cfg}, nil)
	})

	b.Run("Distribution", func(b *testing.B) {
		host := registrytest.StartDistribution(b)
		registrytest.PushRepositories(b, host, "bench", n)
		req := lifecycle.FleetRequest{Registries: []string{host}, Config: &config.Config{}}
		b.Run("cold", func(b *testing.B) { measure(b, req, b.TempDir) })
		b.Run("warm", func(b *testing.B) {
			req.Options.CacheDir = b.TempDir()
			readFleet(b, req)
			measure(b, req, nil)
		})
	})
}
