package oci

import (
	"io"
	"net/http"
	"sync"

	"golang.org/x/time/rate"
)

// idleConnsPerRequest is how many idle connections per host a Client keeps alive for each
// request it may have in flight: a Client can run several inventories at once (audit --all
// reads four repositories of a host at once), each with Concurrency requests in flight, and
// a connection closed for want of room in the pool is one more TCP (and TLS) handshake for
// the next request. Idle connections are closed after the transport's IdleConnTimeout.
const idleConnsPerRequest = 4

// newTransport returns the base transport of a Client with concurrency requests in flight
// at once: a clone of http.DefaultTransport that keeps alive the connections those requests
// open, for the next ones (HTTP/1.1 keep-alive), and speaks HTTP/2 to a TLS registry that
// offers it, all requests on one connection.
func newTransport(concurrency int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerRequest * concurrency
	t.MaxIdleConns = max(t.MaxIdleConns, t.MaxIdleConnsPerHost)
	t.ForceAttemptHTTP2 = true
	return t
}

// maxDrainBytes bounds what is read, when a response body is closed, of what was left
// unread, so that its connection can carry the next request: a JSON decoder stops at the end
// of the value, before a final newline and the end of a chunked body, and a body closed
// before its end closes its connection. Anything larger costs more to read than a new
// connection.
const maxDrainBytes = 4 << 10

// drainer reads the rest of each response body, up to maxDrainBytes, when it is closed.
type drainer struct {
	next http.RoundTripper
}

func (t drainer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = drainOnClose{resp.Body}
	}
	return resp, err
}

type drainOnClose struct {
	io.ReadCloser
}

func (b drainOnClose) Close() error {
	_, _ = io.CopyN(io.Discard, b.ReadCloser, maxDrainBytes)
	return b.ReadCloser.Close()
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
