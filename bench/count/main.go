// Command count is a reverse proxy in front of a registry that counts the requests passing through it, by method and kind.
//
//	go run ./bench/count -listen 127.0.0.1:0 -target 127.0.0.1:5000 [-timeout 1h]
//
// It prints the address it listens on as HOST:PORT on standard output, then forwards every
// request to the target over plain HTTP. GET /_count on the proxy answers with the counts so
// far, as one line:
//
//	total=N tags=N manifest_get=N manifest_head=N manifest_delete=N blob_get=N blob_head=N referrers=N ping=N other=N errors=N
//
// GET /_count?reset=1 answers the same and sets the counts back to zero. tags counts tag-list
// pages, ping counts GET /v2/, other counts everything else (uploads, catalog, PUT, blob DELETE),
// and errors counts responses with a status of 400 or above, whatever their kind. On SIGINT or
// SIGTERM, or when -timeout has passed, the proxy prints the counts on standard output and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The kinds of request, in the order they are printed.
const (
	kindTags = iota
	kindManifestGet
	kindManifestHead
	kindManifestDelete
	kindBlobGet
	kindBlobHead
	kindReferrers
	kindPing
	kindOther
	numKinds
)

var kindNames = [numKinds]string{"tags", "manifest_get", "manifest_head", "manifest_delete", "blob_get", "blob_head", "referrers", "ping", "other"}

// counter holds the counts; it is safe for concurrent use.
type counter struct {
	kinds  [numKinds]atomic.Int64
	errors atomic.Int64
}

// String formats the counts as one line of key=value pairs.
func (c *counter) String() string {
	var b strings.Builder
	var total int64
	for i := range c.kinds {
		total += c.kinds[i].Load()
	}
	fmt.Fprintf(&b, "total=%d", total)
	for i, name := range kindNames {
		fmt.Fprintf(&b, " %s=%d", name, c.kinds[i].Load())
	}
	fmt.Fprintf(&b, " errors=%d", c.errors.Load())
	return b.String()
}

func (c *counter) reset() {
	for i := range c.kinds {
		c.kinds[i].Store(0)
	}
	c.errors.Store(0)
}

// classify returns the kind of a registry API request.
func classify(method, path string) int {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return kindOther
	}
	if rest == "" {
		if method == http.MethodGet || method == http.MethodHead {
			return kindPing
		}
		return kindOther
	}
	if strings.HasSuffix(rest, "/tags/list") && method == http.MethodGet {
		return kindTags
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return kindOther
	}
	j := strings.LastIndexByte(rest[:i], '/')
	if j < 0 {
		return kindOther
	}
	get, head := method == http.MethodGet, method == http.MethodHead
	switch rest[j+1 : i] {
	case "manifests":
		if get {
			return kindManifestGet
		}
		if head {
			return kindManifestHead
		}
		if method == http.MethodDelete {
			return kindManifestDelete
		}
	case "blobs":
		if get {
			return kindBlobGet
		}
		if head {
			return kindBlobHead
		}
	case "referrers":
		if get {
			return kindReferrers
		}
	}
	return kindOther
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handler forwards requests to target and counts them; /_count reports the counts.
func handler(target *url.URL, c *counter) http.Handler {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // upload locations then point back at the proxy
		},
		Transport: tr,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_count" {
			line := c.String()
			if r.URL.Query().Get("reset") != "" {
				c.reset()
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, line)
			return
		}
		c.kinds[classify(r.Method, r.URL.Path)].Add(1)
		rec := &statusRecorder{ResponseWriter: w}
		proxy.ServeHTTP(rec, r)
		if rec.status >= 400 {
			c.errors.Add(1)
		}
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "`ADDRESS` to listen on (port 0 picks a free one)")
	targetAddr := flag.String("target", "", "registry `HOST:PORT` to forward to")
	timeout := flag.Duration("timeout", time.Hour, "exit after this long")
	flag.Parse()
	if *targetAddr == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*listen, *targetAddr, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "count:", err)
		os.Exit(1)
	}
}

func run(listen, targetAddr string, timeout time.Duration) error {
	target, err := url.Parse("http://" + targetAddr)
	if err != nil || target.Host == "" {
		return fmt.Errorf("bad -target %q", targetAddr)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	fmt.Println(ln.Addr().String())

	c := &counter{}
	srv := &http.Server{Handler: handler(target, c), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down: %w", err)
	}
	fmt.Println(c.String())
	return nil
}
