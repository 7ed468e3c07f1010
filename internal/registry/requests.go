package registry

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Kind is a kind of request to a registry: one of the OCI Distribution kinds below, or the
// operation name of a call to an AWS JSON-protocol API ("DescribeImages").
type Kind string

// Kinds of OCI Distribution API requests.
const (
	KindTagList        Kind = "tag list page"   // GET …/tags/list
	KindManifestGET    Kind = "manifest GET"    // GET …/manifests/<tag or digest>
	KindManifestHEAD   Kind = "manifest HEAD"   // HEAD …/manifests/<tag or digest>
	KindBlobGET        Kind = "blob GET"        // GET …/blobs/<digest> (image configs)
	KindReferrers      Kind = "referrers page"  // …/referrers/<digest>, including the probe for the API
	KindManifestDELETE Kind = "manifest DELETE" // DELETE …/manifests/<digest>
	// KindOther is everything else: tokens, pings, the pushes of a referrers index update,
	// AWS calls of other protocols (STS).
	KindOther Kind = "other"
)

// Counter counts the requests sent to a registry by kind, their retries, and the reads a
// cache answered instead. It counts what passes through the transports it wraps (Transport,
// Attempts) and the hits it is told of (CacheHit). The zero value is ready to use; a
// Counter is safe for concurrent use.
type Counter struct {
	mu        sync.Mutex
	byKind    map[Kind]int
	retries   int
	cacheHits int
}

// Transport returns next wrapped so that every request through it is counted under its
// kind. A retry is counted as one, not as a new request: an AWS SDK client retries above
// its HTTP client and numbers its attempts in the amz-sdk-request header ("attempt=2;
// max=8"), which Transport reads; a retrying http.RoundTripper (the OCI backend's) goes
// between Transport, above it, and Attempts, below it, which counts the attempts after the
// first of each request.
func (c *Counter) Transport(next http.RoundTripper) http.RoundTripper {
	return &requestCounter{next: next, c: c}
}

// Attempts returns next wrapped so that it counts the attempts after the first of each
// request a Transport of c counted above it, as retries. Requests that did not pass
// through that Transport are not counted.
func (c *Counter) Attempts(next http.RoundTripper) http.RoundTripper {
	return &attemptCounter{next: next, c: c}
}

// CacheHit counts one read answered by a cache instead of the registry.
func (c *Counter) CacheHit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cacheHits++
}

// Snapshot returns the counts so far.
func (c *Counter) Snapshot() Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Requests{Retries: c.retries, CacheHits: c.cacheHits}
	if len(c.byKind) > 0 {
		r.ByKind = maps.Clone(c.byKind)
	}
	return r
}

func (c *Counter) request(k Kind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKind == nil {
		c.byKind = make(map[Kind]int)
	}
	c.byKind[k]++
}

func (c *Counter) retry() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retries++
}

// Requests is what a Counter counted.
type Requests struct {
	// ByKind counts requests by kind, each once however often it was sent; nil when there
	// were none.
	ByKind map[Kind]int
	// Retries counts requests sent again after a throttle, a server error or a broken
	// connection.
	Retries int
	// CacheHits counts reads a cache answered instead of the registry (OCI manifests and
	// image configs).
	CacheHits int
}

// Total returns the number of requests, not counting retries.
func (r Requests) Total() int {
	total := 0
	for _, n := range r.ByKind {
		total += n
	}
	return total
}

// String says what r counted, as --stats prints it: "12 requests (1 tag list page, 10
// manifest HEADs, 1 referrers page), 2 retries, 9 cache hits". The OCI Distribution kinds
// come first in a fixed order, then AWS operations by name, then other; kinds, retries and
// cache hits that are zero are left out.
func (r Requests) String() string {
	kinds := make([]Kind, 0, len(r.ByKind))
	for k, n := range r.ByKind {
		if n > 0 {
			kinds = append(kinds, k)
		}
	}
	slices.SortFunc(kinds, func(a, b Kind) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(string(a), string(b))
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		n, label := r.ByKind[k], string(k)
		if n != 1 && rank(k) <= rank(KindManifestDELETE) {
			label += "s" // the OCI kinds: "manifest HEADs"; AWS operations and "other" stay as they are
		}
		parts[i] = fmt.Sprintf("%d %s", n, label)
	}
	s := count(r.Total(), "request", "requests")
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if r.Retries > 0 {
		s += ", " + count(r.Retries, "retry", "retries")
	}
	if r.CacheHits > 0 {
		s += ", " + count(r.CacheHits, "cache hit", "cache hits")
	}
	return s
}

// rank orders kinds in String: the OCI Distribution kinds in the order an inventory sends
// them, then AWS operations, then other.
func rank(k Kind) int {
	switch k {
	case KindTagList:
		return 0
	case KindManifestGET:
		return 1
	case KindManifestHEAD:
		return 2
	case KindBlobGET:
		return 3
	case KindReferrers:
		return 4
	case KindManifestDELETE:
		return 5
	case KindOther:
		return 7
	}
	return 6
}

// count writes n with the singular or plural noun.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// kindOf classifies req: an AWS JSON-protocol call by the operation its X-Amz-Target header
// names ("AmazonEC2ContainerRegistry_V20150921.DescribeImages"), anything else by its
// method and OCI Distribution API path.
func kindOf(req *http.Request) Kind {
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		if op := target[strings.LastIndexByte(target, '.')+1:]; op != "" {
			return Kind(op)
		}
		return KindOther
	}
	p := req.URL.Path
	switch {
	case strings.HasSuffix(p, "/tags/list") && req.Method == http.MethodGet:
		return KindTagList
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodGet:
		return KindManifestGET
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodHead:
		return KindManifestHEAD
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodDelete:
		return KindManifestDELETE
	case strings.Contains(p, "/blobs/") && req.Method == http.MethodGet:
		return KindBlobGET
	case strings.Contains(p, "/referrers/"):
		return KindReferrers
	}
	return KindOther
}

// sdkAttempt returns the attempt number an AWS SDK gave req in its amz-sdk-request header
// ("attempt=2; max=8"), or 0 without one.
func sdkAttempt(req *http.Request) int {
	for _, f := range strings.Split(req.Header.Get("Amz-Sdk-Request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(f), "attempt="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// attemptsKey is the context key of a request's attempt count, which requestCounter sets
// and attemptCounter increments.
type attemptsKey struct{}

// requestCounter counts requests by kind, once each however often they are retried.
type requestCounter struct {
	next http.RoundTripper
	c    *Counter
}

func (t *requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if sdkAttempt(req) > 1 {
		t.c.retry()
		return t.next.RoundTrip(req)
	}
	t.c.request(kindOf(req))
	return t.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), attemptsKey{}, new(atomic.Int32))))
}

// attemptCounter counts the attempts after the first of each request as retries.
type attemptCounter struct {
	next http.RoundTripper
	c    *Counter
}

func (t *attemptCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if n, ok := req.Context().Value(attemptsKey{}).(*atomic.Int32); ok && n.Add(1) > 1 {
		t.c.retry()
	}
	return t.next.RoundTrip(req)
}
