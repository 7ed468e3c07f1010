// Package oci is the registry backend for any registry that speaks the OCI Distribution API.
//
// A generic registry cannot list untagged manifests, and records neither push nor pull
// times. Inventory therefore walks everything it can reach (tags, index children,
// referrers), takes push times from image metadata, and, given a cache directory,
// remembers every manifest it has seen, so that an image whose tag moved away is still
// found on the next run.
//
// A registry without the referrers API keeps the referrers of a manifest sha256:<hex> in an
// index tagged sha256-<hex> (the referrers tag schema). Inventory reports that index as
// what it is, a tagged index listing the referrers, and gives it the manifest its tag names
// as subject: it is bookkeeping that lives and goes with that manifest, as referrers do.
// Delete keeps it up to date when a referrer is deleted. Cosign's sha256-<hex>.sig and
// .att tags are ordinary tags.
//
// Image configs are read for creation times and labels, except that of an image whose
// manifest's own org.opencontainers.image.created annotation gives its time (see
// Options.ConfigLabels); buildx attestation manifests' configs are never read.
//
// A manifest is gone only when the registry says so to both GET and HEAD (or, for a tag
// listed but no longer there, to both requests by tag). One that it says exists but will
// not serve (HEAD 200, GET 404), or that is too large or cannot be parsed, stays in the
// inventory without children and is listed in Inventory.Unreadable: it may be an index, so
// anything may depend on it.
//
// The cache directory holds:
//
//	manifests/<algorithm>/<hex>    manifests, by digest (content-addressed, never stale)
//	configs/<algorithm>/<hex>      image config blobs, by digest
//	tags/<host>/<repository>.json  the manifests seen in the repository, with their tags
//	tmp/                           files being written, renamed into place when complete
//
// where <host> has any ':' replaced by '_' ("localhost_5000").
package oci

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
)

// Defaults and bounds. Every request to a registry is bounded by one of these.
const (
	// DefaultConcurrency is how many requests a Client has in flight at once: enough to
	// hide round-trip latency, few enough not to look like an attack to a shared registry.
	DefaultConcurrency = 8
	// DefaultRequestsPerSecond is the request rate per host: below the limits public
	// registries publish for authenticated clients. Loopback hosts are not limited.
	DefaultRequestsPerSecond = 50.0

	// TagListPageSize is the n asked for in each tag list request: ECR's maximum, and what
	// most registries accept.
	TagListPageSize = 1000
	// MaxTagListPages bounds the pages of one tag listing (ten million tags at the default
	// page size), so that a registry whose Link headers loop cannot keep a client busy.
	MaxTagListPages = 10_000
	// MaxTagListBytes bounds one tag list response. A registry that ignores n sends every
	// tag in one page: 32 MiB holds about 250,000 tags.
	MaxTagListBytes = 32 << 20
	// MaxReferrerPages bounds the pages of one referrers listing, for the same reason as
	// MaxTagListPages.
	MaxReferrerPages = 100
	// MaxManifestBytes bounds a manifest: the distribution spec asks registries to accept
	// manifests of at least 4 MiB, and no real image comes near it.
	MaxManifestBytes = 4 << 20
	// MaxConfigBytes bounds an image config blob. A larger one is not read; the image then
	// has no labels or creation time.
	MaxConfigBytes = 4 << 20
	// MaxGraphDepth bounds how deep Inventory follows index → child and subject → referrer
	// edges: real graphs are three or four levels deep (index, image, signature,
	// signature of the signature).
	MaxGraphDepth = 32
	// RequestTimeout bounds one request, including its retries and their waits.
	RequestTimeout = 2 * time.Minute
)

// Options configure a Client. The zero value is usable: TLS, Docker credentials, no disk
// cache, DefaultConcurrency and DefaultRequestsPerSecond.
type Options struct {
	// Insecure uses plain HTTP for every host. localhost, 127.0.0.1 and ::1 (any port)
	// always use plain HTTP.
	Insecure bool
	// CacheDir holds manifests and configs by digest, and the tag history that lets
	// Inventory find superseded images; see the package documentation. "" means no disk
	// cache and no history.
	CacheDir string
	// Concurrency is how many requests are in flight at once; 0 means DefaultConcurrency.
	Concurrency int
	// RequestsPerSecond limits requests per host; 0 means DefaultRequestsPerSecond (no
	// limit for loopback hosts), a negative value no limit.
	RequestsPerSecond float64
	// Credentials returns the credential for a host; nil reads the Docker configuration
	// and its credential helpers.
	Credentials auth.CredentialFunc
	// Transport is the base HTTP transport, under retries and rate limiting; nil means a
	// clone of http.DefaultTransport that keeps the connections of Concurrency requests
	// per host alive (several times over: see idleConnsPerRequest), and speaks HTTP/2 to
	// TLS registries that offer it.
	Transport http.RoundTripper
	// ConfigLabels has Inventory read the config of every image, for its labels. By
	// default it leaves unread the config of an image whose manifest's own
	// org.opencontainers.image.created annotation gives its creation time: that config
	// could add labels, but nothing else (see needsConfig), and plans and audits ask only
	// whether an image has labels, which such an image has. Its labels are then its
	// manifest's annotations alone, as on ECR. Manifest always reads configs.
	ConfigLabels bool
	// Logger receives debug messages and warnings; nil discards them.
	Logger *slog.Logger
	// Counter counts the requests the Client sends and its cache hits, with those of any
	// other client it is given to; nil means a Counter of the Client's own. Stats reads it.
	Counter *shipreg.Counter
	// Progress, if set, is told how far Inventory has come, from its first request, in
	// these phases:
	//
	//	tags       tags listed (the total is not known)
	//	manifests  tags resolved to their manifests (GET, or HEAD with a tag history), of
	//	           the tags listed
	//	images     manifests read with their configs and referrers, of those found so far
	//	history    manifests an earlier inventory saw, asked again whether they exist
	//	           (with a tag history), then "images" again for those that do
	//
	// The work of the phases overlaps (tags are resolved as the list arrives, manifests
	// read as they are found), but each phase starts once the one before is complete (the
	// tag list, every tag resolved), counting in what was done of its own before. Inventory
	// ends its last phase before it returns. Tags starts no phase: it counts into
	// the caller's (apply's "re-check"), growing the total by the tags listed and adding
	// one for each tag resolved. nil reports nothing.
	Progress Progress
	// Now returns the current time, for Inventory.CapturedAt and the tag history; nil
	// means time.Now.
	Now func() time.Time
}

// Progress is told how far a Client has come (see Options.Progress); a progress.Reporter is
// one. Its methods are called from many goroutines at once.
type Progress interface {
	// Phase starts a phase of total steps (<= 0: not known), done of them done already,
	// ending the phase before.
	Phase(name string, done, total int)
	// Grow adds n steps to the current phase's total; Add records n steps done.
	Grow(n int)
	Add(n int)
	// End ends the current phase.
	End()
}

// noProgress reports nothing.
type noProgress struct{}

func (noProgress) Phase(string, int, int) {}
func (noProgress) Grow(int)               {}
func (noProgress) Add(int)                {}
func (noProgress) End()                   {}

// Client reads and deletes manifests in the repositories of one registry host. It is safe
// for concurrent use.
type Client struct {
	host        string
	plainHTTP   bool
	http        *auth.Client
	requests    *shipreg.Counter
	cache       *store // nil without CacheDir
	log         *slog.Logger
	progress    Progress
	now         func() time.Time
	concurrency int
	// configLabels is Options.ConfigLabels.
	configLabels bool
	tagPageSize  int
	// catalogPageSize is the n of catalog requests: CatalogPageSize, smaller in tests.
	catalogPageSize int

	mu    sync.Mutex
	repos map[string]*repository
}

var _ shipreg.Registry = (*Client)(nil)

// New returns a client of the registry at host, e.g. "ghcr.io" or "localhost:5000".
func New(host string, opts Options) (*Client, error) {
	if err := (registry.Reference{Registry: host}).ValidateRegistry(); err != nil {
		return nil, fmt.Errorf("registry host %q: %w", host, err)
	}
	concurrency := opts.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	rps := opts.RequestsPerSecond
	if rps == 0 {
		rps = DefaultRequestsPerSecond
		if isLoopback(host) {
			rps = -1
		}
	}
	base := opts.Transport
	if base == nil {
		base = newTransport(concurrency)
	}
	cred := opts.Credentials
	if cred == nil {
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading Docker credentials: %w", err)
		}
		cred = credentials.Credential(store)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = noProgress{}
	}

	requests := opts.Counter
	if requests == nil {
		requests = &shipreg.Counter{}
	}

	// Requests pass, from the top: the auth client (tokens), request counting, retries
	// (429 with Retry-After, 5xx, connection resets), the per-host rate limit (so that
	// retries are limited too), the counting of attempts after the first as retries, the
	// draining of bodies closed unread (so that their connections are kept), and the base
	// transport.
	rt := requests.Attempts(drainer{base})
	if rps > 0 {
		rt = newRateLimiter(rt, rps, concurrency)
	}
	rt = requests.Transport(retry.NewTransport(rt))
	client := &auth.Client{
		Client:     &http.Client{Transport: rt, Timeout: RequestTimeout},
		Credential: cred,
		Cache:      auth.NewCache(),
	}
	client.SetUserAgent("shipshape")

	c := &Client{
		host:            host,
		plainHTTP:       opts.Insecure || isLoopback(host),
		http:            client,
		requests:        requests,
		log:             logger,
		progress:        opts.Progress,
		now:             now,
		concurrency:     concurrency,
		configLabels:    opts.ConfigLabels,
		tagPageSize:     TagListPageSize,
		catalogPageSize: CatalogPageSize,
		repos:           make(map[string]*repository),
	}
	if opts.CacheDir != "" {
		c.cache = &store{dir: opts.CacheDir}
	}
	return c, nil
}

// repository is the oras client of one repository, kept for the life of the Client so
// that what it learns about the registry (whether it has the referrers API) is learnt once.
type repository struct {
	*remote.Repository
	name string

	mu           sync.Mutex
	probed       bool
	referrersAPI bool
}

// repository returns the client of repo, creating it on first use.
func (c *Client) repository(repo string) (*repository, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.repos[repo]; ok {
		return r, nil
	}
	ref := registry.Reference{Registry: c.host, Repository: repo}
	if err := ref.ValidateRepository(); err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	r := &repository{
		Repository: &remote.Repository{
			Client:               c.http,
			Reference:            ref,
			PlainHTTP:            c.plainHTTP,
			TagListPageSize:      c.tagPageSize,
			TagListMaxPages:      MaxTagListPages,
			ReferrerListMaxPages: MaxReferrerPages,
			MaxMetadataBytes:     MaxTagListBytes,
		},
		name: repo,
	}
	c.repos[repo] = r
	return r, nil
}

// Stats returns the requests the Client has sent, by kind, their retries and its cache
// hits: what its Counter counted.
func (c *Client) Stats() shipreg.Requests { return c.requests.Snapshot() }

// displayHost is the host as people write it in image references.
func displayHost(host string) string {
	if host == "registry-1.docker.io" {
		return "docker.io"
	}
	return host
}

// isLoopback reports whether host (with or without a port) is this machine.
func isLoopback(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	if name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// Storage returns the oras client of repo, for copying whole graphs to and from it (apply's
// quarantine, restore). Its requests go through the Client's transport: the same
// credentials, rate limit, retries and request counts.
func (c *Client) Storage(repo string) (*remote.Repository, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	return r.Repository, nil
}

// Host is the registry host the Client speaks to, as given to New.
func (c *Client) Host() string { return c.host }
