package oci

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// counters are the live counts behind Stats.
type counters struct {
	// requests by kind, counted once however often they are retried
	tagLists, manifestGETs, manifestHEADs, blobGETs, referrers, deletes, other atomic.Int64
	// attempts sent to the network, retries included
	attempts atomic.Int64
	// manifests and configs read from the cache
	cacheHits atomic.Int64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		TagListPages:  int(c.tagLists.Load()),
		ManifestGETs:  int(c.manifestGETs.Load()),
		ManifestHEADs: int(c.manifestHEADs.Load()),
		BlobGETs:      int(c.blobGETs.Load()),
		Referrers:     int(c.referrers.Load()),
		Deletes:       int(c.deletes.Load()),
		Other:         int(c.other.Load()),
		CacheHits:     int(c.cacheHits.Load()),
	}
	s.Retries = max(0, int(c.attempts.Load())-s.Requests())
	return s
}

// count adds req to the counter of its kind.
func (c *counters) count(req *http.Request) {
	p := req.URL.Path
	switch {
	case strings.HasSuffix(p, "/tags/list") && req.Method == http.MethodGet:
		c.tagLists.Add(1)
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodGet:
		c.manifestGETs.Add(1)
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodHead:
		c.manifestHEADs.Add(1)
	case strings.Contains(p, "/manifests/") && req.Method == http.MethodDelete:
		c.deletes.Add(1)
	case strings.Contains(p, "/blobs/") && req.Method == http.MethodGet:
		c.blobGETs.Add(1)
	case strings.Contains(p, "/referrers/"):
		c.referrers.Add(1)
	default:
		c.other.Add(1)
	}
}

// requestCounter counts requests by kind, once each however often they are retried.
type requestCounter struct {
	next  http.RoundTripper
	stats *counters
}

func (t *requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	t.stats.count(req)
	return t.next.RoundTrip(req)
}

// attemptCounter counts every attempt that goes to the network, retries included.
type attemptCounter struct {
	next  http.RoundTripper
	stats *counters
}

func (t *attemptCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	t.stats.attempts.Add(1)
	return t.next.RoundTrip(req)
}

// rateLimiter holds each request until the limiter of its host allows it.
type rateLimiter struct {
	next  http.RoundTripper
	rps   float64
	burst int

	mu    sync.Mutex
	hosts map[string]*rate.Limiter
}

func newRateLimiter(next http.RoundTripper, rps float64, burst int) *rateLimiter {
	return &rateLimiter{next: next, rps: rps, burst: max(1, burst), hosts: make(map[string]*rate.Limiter)}
}

func (t *rateLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter(req.URL.Host).Wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.next.RoundTrip(req)
}

func (t *rateLimiter) limiter(host string) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.hosts[host]
	if !ok {
		l = rate.NewLimiter(rate.Limit(t.rps), t.burst)
		t.hosts[host] = l
	}
	return l
}
