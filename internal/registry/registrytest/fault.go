package registrytest

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultConfig says which requests a fault proxy disturbs, and how. Fractions are of the
// requests Match selects; their sum should stay below 1.
//
// Faults are deterministic for a given Seed: whether the n-th occurrence of a request
// (same method and URL) is disturbed depends only on the seed, the request and n, not on
// the order in which concurrent requests arrive. So a retry of a disturbed request is
// decided afresh, and a run with the same requests injects the same faults.
type FaultConfig struct {
	Seed int64
	// ServerErrors is the fraction answered 500 Internal Server Error without reaching
	// the registry.
	ServerErrors float64
	// TooManyRequests is the fraction answered 429 Too Many Requests, with a Retry-After
	// header of RetryAfter, without reaching the registry.
	TooManyRequests float64
	// RetryAfter is the wait the 429 answers ask for, in whole seconds; 0 means 1 s.
	RetryAfter time.Duration
	// Resets is the fraction whose connection is reset (TCP RST) before the request
	// reaches the registry.
	Resets float64
	// LostResponses is the fraction forwarded to the registry, which acts on them, and
	// whose connection is then reset instead of answered: the client cannot tell whether
	// its request took effect.
	LostResponses float64
	// MaxConsecutive bounds the faults in a row for one request (same method and URL), so
	// that a client that retries more often always gets through; 0 means 2.
	MaxConsecutive int
	// Script lists faults for the first requests Match selects, in order, before the
	// fractions apply: a way to be sure of a fault, or of several kinds.
	Script []Fault
	// Match selects the requests that may be disturbed; nil means every request.
	Match func(*http.Request) bool

	// NotFound selects requests to answer 404 Not Found, with the Distribution error a
	// registry sends for a manifest (MANIFEST_UNKNOWN) or blob (BLOB_UNKNOWN) it does not
	// have, without reaching the registry: a way to make a registry contradict itself, e.g.
	// HEAD of a manifest answers 200 while GET answers 404. It applies whatever Match,
	// Script and the fractions say, and before them. nil selects none.
	NotFound func(*http.Request) bool
	// Hold selects requests that wait, before anything else happens to them, until Release
	// is called. A held request whose client gives up (a cancelled context, a killed
	// process), or still held when the test ends, is dropped: it never reaches the
	// registry. nil selects none.
	Hold func(*http.Request) bool
}

// Fault is a kind of disturbance, for FaultConfig.Script.
type Fault int

// Faults a proxy injects; see the FaultConfig fields of the same names.
const (
	NoFault Fault = iota
	FaultServerError
	FaultTooManyRequests
	FaultReset
	FaultLostResponse
	// FaultNotFound answers 404 with MANIFEST_UNKNOWN (BLOB_UNKNOWN for a blob), as
	// FaultConfig.NotFound does.
	FaultNotFound
)

// FaultCounts counts the requests a fault proxy received and the faults it injected.
type FaultCounts struct {
	Requests        int // every request received, disturbed or not
	ServerErrors    int
	TooManyRequests int
	Resets          int
	LostResponses   int
	NotFound        int
	// Held counts the requests Hold selected that waited for Release (or for their client
	// to give up); they count in Requests only if they got past the wait.
	Held int
}

// Faults returns the number of requests disturbed. Held requests are not counted: they are
// only delayed.
func (c FaultCounts) Faults() int {
	return c.ServerErrors + c.TooManyRequests + c.Resets + c.LostResponses + c.NotFound
}

// Proxy is a reverse proxy to a registry that injects faults; see FaultProxy.
type Proxy struct {
	// Host is the proxy's address, "127.0.0.1:PORT", to use in place of the registry's.
	Host string

	cfg     FaultConfig
	forward *httputil.ReverseProxy

	mu          sync.Mutex
	counts      FaultCounts
	scripted    int               // entries of cfg.Script used
	seen        map[string]uint64 // occurrences of each request so far
	consecutive map[string]int    // faults in a row of each request
	heldSignal  chan struct{}     // closed, and replaced, when a request starts to wait

	release     chan struct{} // closed by Release
	releaseOnce sync.Once
	closed      chan struct{} // closed when the test ends: held requests are dropped
}

// FaultProxy starts a plain-HTTP reverse proxy to the registry at target ("host:port")
// that disturbs requests as cfg says, and is closed when the test ends. Requests reach the
// registry with the proxy's Host header, so the upload locations the registry returns
// lead back through the proxy.
func FaultProxy(t testing.TB, target string, cfg FaultConfig) *Proxy {
	t.Helper()
	if cfg.MaxConsecutive <= 0 {
		cfg.MaxConsecutive = 2
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	u := &url.URL{Scheme: "http", Host: target}
	p := &Proxy{
		cfg:         cfg,
		seen:        make(map[string]uint64),
		consecutive: make(map[string]int),
		heldSignal:  make(chan struct{}),
		release:     make(chan struct{}),
		closed:      make(chan struct{}),
		forward: &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.Out.Host = pr.In.Host
			},
			ErrorLog: log.New(io.Discard, "", 0),
		},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		close(p.closed) // Close waits for the requests still held
		srv.Close()
	})
	p.Host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// Counts returns the requests received and the faults injected so far.
func (p *Proxy) Counts() FaultCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// Release lets every request Hold selected through: those waiting now and those to come.
// It may be called more than once.
func (p *Proxy) Release() {
	p.releaseOnce.Do(func() { close(p.release) })
}

// WaitHeld waits until at least n requests have been held since the proxy started, or ctx
// ends.
func (p *Proxy) WaitHeld(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		held, signal := p.counts.Held, p.heldSignal
		p.mu.Unlock()
		if held >= n {
			return nil
		}
		select {
		case <-signal:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// hold makes req wait for Release if Hold selects it, and reports whether it may go on:
// false when its client gave up, or the test ended, first.
func (p *Proxy) hold(req *http.Request) bool {
	if p.cfg.Hold == nil {
		return true
	}
	select {
	case <-p.release:
		return true
	default:
	}
	p.mu.Lock()
	if !p.cfg.Hold(req) {
		p.mu.Unlock()
		return true
	}
	p.counts.Held++
	close(p.heldSignal)
	p.heldSignal = make(chan struct{})
	p.mu.Unlock()
	select {
	case <-p.release:
		return true
	case <-req.Context().Done():
		return false
	case <-p.closed:
		return false
	}
}

// decide picks the fault for req, and counts it.
func (p *Proxy) decide(req *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.Requests++
	if p.cfg.NotFound != nil && p.cfg.NotFound(req) {
		p.counts.NotFound++
		return FaultNotFound
	}
	if p.cfg.Match != nil && !p.cfg.Match(req) {
		return NoFault
	}
	key := req.Method + " " + req.URL.RequestURI()
	n := p.seen[key]
	p.seen[key]++
	f := NoFault
	if p.scripted < len(p.cfg.Script) {
		f = p.cfg.Script[p.scripted]
		p.scripted++
	} else if p.consecutive[key] < p.cfg.MaxConsecutive {
		u := uniform(p.cfg.Seed, key, n)
		for _, c := range []struct {
			frac float64
			f    Fault
		}{
			{p.cfg.ServerErrors, FaultServerError},
			{p.cfg.TooManyRequests, FaultTooManyRequests},
			{p.cfg.Resets, FaultReset},
			{p.cfg.LostResponses, FaultLostResponse},
		} {
			if u < c.frac {
				f = c.f
				break
			}
			u -= c.frac
		}
	}
	switch f {
	case FaultServerError:
		p.counts.ServerErrors++
	case FaultTooManyRequests:
		p.counts.TooManyRequests++
	case FaultReset:
		p.counts.Resets++
	case FaultLostResponse:
		p.counts.LostResponses++
	case FaultNotFound:
		p.counts.NotFound++
	default:
		p.consecutive[key] = 0
		return NoFault
	}
	p.consecutive[key]++
	return f
}

// ServeHTTP forwards req to the registry, or disturbs it as the proxy's FaultConfig says.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !p.hold(req) {
		if req.Context().Err() == nil {
			resetConn(w) // the test ended: never a made-up answer
		}
		return
	}
	switch p.decide(req) {
	case FaultServerError:
		http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}`, http.StatusInternalServerError)
	case FaultTooManyRequests:
		secs := int((p.cfg.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"injected fault"}]}`, http.StatusTooManyRequests)
	case FaultNotFound:
		code, message := "MANIFEST_UNKNOWN", "manifest unknown"
		if strings.Contains(req.URL.Path, "/blobs/") {
			code, message = "BLOB_UNKNOWN", "blob unknown to registry"
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		w.WriteHeader(http.StatusNotFound)
		if req.Method != http.MethodHead {
			fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q,"detail":"injected fault"}]}`+"\n", code, message)
		}
	case FaultReset:
		resetConn(w)
	case FaultLostResponse:
		p.forward.ServeHTTP(httptest.NewRecorder(), req)
		resetConn(w)
	default:
		p.forward.ServeHTTP(w, req)
	}
}

// resetConn closes the client's connection with a TCP RST rather than a FIN, as a crashed
// server or a middlebox dropping state does.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

// uniform returns a number in [0, 1) determined by seed, key and n.
func uniform(seed int64, key string, n uint64) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], n)
	h.Write(b[:])
	h.Write([]byte(key))
	// FNV mixes its last bytes poorly into the high bits: finish with a multiply-xorshift.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return float64(x>>11) / (1 << 53)
}
