package registrytest

import (
	"encoding/binary"
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
)

// FaultCounts counts the requests a fault proxy received and the faults it injected.
type FaultCounts struct {
	Requests        int // every request received, disturbed or not
	ServerErrors    int
	TooManyRequests int
	Resets          int
	LostResponses   int
}

// Faults returns the number of requests disturbed.
func (c FaultCounts) Faults() int {
	return c.ServerErrors + c.TooManyRequests + c.Resets + c.LostResponses
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
		forward: &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.Out.Host = pr.In.Host
			},
			ErrorLog: log.New(io.Discard, "", 0),
		},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.Host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// Counts returns the requests received and the faults injected so far.
func (p *Proxy) Counts() FaultCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// decide picks the fault for req, and counts it.
func (p *Proxy) decide(req *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.Requests++
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
	default:
		p.consecutive[key] = 0
		return NoFault
	}
	p.consecutive[key]++
	return f
}

// ServeHTTP forwards req to the registry, or disturbs it as the proxy's FaultConfig says.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch p.decide(req) {
	case FaultServerError:
		http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}`, http.StatusInternalServerError)
	case FaultTooManyRequests:
		secs := int((p.cfg.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"injected fault"}]}`, http.StatusTooManyRequests)
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
