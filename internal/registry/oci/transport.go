package oci

import (
	"net/http"
	"sync"

	"golang.org/x/time/rate"
)

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
