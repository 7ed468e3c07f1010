package oci

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter forwards TCP connections to a registry and counts them: the connections a
// client opened, whatever it sent through them.
type connCounter struct {
	ln    net.Listener
	conns atomic.Int64
}

// countConns starts a connCounter in front of host, until the test ends; its address is
// the host to use instead.
func countConns(t testing.TB, host string) *connCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{ln: ln}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		open []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, conn := range open {
			conn.Close() // the client's idle connections
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			out, err := net.Dial("tcp", host)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			open = append(open, in, out)
			mu.Unlock()
			wg.Go(func() {
				io.Copy(out, in)
				out.Close()
			})
			wg.Go(func() {
				io.Copy(in, out)
				in.Close()
			})
		}
	})
	return c
}

func (c *connCounter) host() string { return c.ln.Addr().String() }

// TestInventoryReusesConnections checks that the requests of an inventory, and of the next
// one through the same Client, reuse the connections the Client keeps alive: one request at
// a time goes over one connection; more go over no more connections than requests in flight,
// but for those Go's transport may open at start-up for a request that a connection freed
// meanwhile then serves (at most as many again).
func TestInventoryReusesConnections(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			repo := "fixed/app"
			pushFixedRepository(t, host, repo)
			for _, concurrency := range []int{1, 3, 8} {
				counter := countConns(t, host)
				c := newClient(t, counter.host(), Options{Concurrency: concurrency, CacheDir: t.TempDir()})
				for range 2 { // cold, then warm
					if _, err := c.Inventory(t.Context(), repo); err != nil {
						t.Fatalf("Inventory() error = %v", err)
					}
				}
				limit := int64(2 * concurrency)
				if concurrency == 1 {
					limit = 1
				}
				if got := counter.conns.Load(); got > limit {
					t.Errorf("two Inventory() calls with Concurrency %d opened %d connections for %d requests, want at most %d",
						concurrency, got, c.Stats().Total(), limit)
				}
			}
		})
	}
}

// TestDrainerKeepsConnections checks that a body closed before its end (a JSON decoder
// leaves a final newline and the end of a chunked body unread) leaves its connection open
// for the next request, where Go's transport would close it.
func TestDrainerKeepsConnections(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"tags":["a","b"]}`))
		w.(http.Flusher).Flush() // chunked, and the decoder is done before the rest comes
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("\n"))
	}))
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
		want func(int64) bool
	}{
		// Go's transport closes the connection of a body closed before its end (here, as
		// a rule: the end comes 20 ms after the value).
		{"plain", newTransport(1), func(n int64) bool { return n > 1 }},
		{"drained", drainer{newTransport(1)}, func(n int64) bool { return n == 1 }},
	} {
		conns.Store(0)
		client := &http.Client{Transport: tc.rt}
		for range 10 {
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			var v struct{ Tags []string }
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if n := conns.Load(); !tc.want(n) {
			t.Errorf("%s: 10 requests whose bodies were closed after decoding opened %d connections", tc.name, n)
		}
	}
}

// TestTransportSpeaksHTTP2 checks that the default transport uses HTTP/2 where a TLS
// registry offers it, and keeps one connection for many requests in flight.
func TestTransportSpeaksHTTP2(t *testing.T) {
	t.Parallel()
	var protos sync.Map
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.Proto, true)
		w.Write([]byte("{}"))
	}))
	srv.EnableHTTP2 = true
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	tr := newTransport(4)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	client := &http.Client{Transport: tr}
	get := func() {
		resp, err := client.Get(srv.URL + "/v2/")
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// One request first, as a ping would; then 40 at once, ten times the concurrency.
	get()
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(get)
	}
	wg.Wait()
	var got []string
	protos.Range(func(k, _ any) bool { got = append(got, k.(string)); return true })
	if len(got) != 1 || got[0] != "HTTP/2.0" {
		t.Errorf("requests were sent over %q, want HTTP/2.0 only", got)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("41 requests over HTTP/2 opened %d connections, want 1", n)
	}
}
