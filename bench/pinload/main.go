// Command pinload sends a fixed number of pin API requests at a fixed concurrency and
// reports requests per second and latency percentiles, for bench/pins-load.sh.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		url         = flag.String("url", "http://127.0.0.1:8080", "server `URL`")
		op          = flag.String("op", "get", "request: get (GET /v1/pins/{name}) or put (PUT /v1/pins/{name})")
		requests    = flag.Int("n", 20000, "requests to send")
		concurrency = flag.Int("c", 16, "requests in flight at once")
		names       = flag.Int("pins", 100, "distinct pins the requests spread over")
	)
	flag.Parse()
	token := os.Getenv("SHIPSHAPE_API_TOKEN")
	if *op != "get" && *op != "put" {
		fmt.Fprintf(os.Stderr, "pinload: -op %q is not get or put\n", *op)
		os.Exit(2)
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency, MaxConnsPerHost: *concurrency},
	}
	if *op == "get" { // the pins to read
		for i := range *names {
			if err := send(client, *url, token, "put", i, i); err != nil {
				fmt.Fprintf(os.Stderr, "pinload: seeding: %v\n", err)
				os.Exit(1)
			}
		}
	}

	latencies := make([]time.Duration, *requests)
	var next, failures atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range *concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= *requests {
					return
				}
				t := time.Now()
				err := send(client, *url, token, *op, i%*names, i)
				latencies[i] = time.Since(t)
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { fmt.Fprintf(os.Stderr, "pinload: %v\n", err) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	fmt.Printf("%-4s %6d requests, concurrency %2d: %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  failures %d\n",
		*op, *requests, *concurrency, float64(*requests)/elapsed.Seconds(),
		ms(pct(0.50)), ms(pct(0.99)), failures.Load())
	if failures.Load() > 0 {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// send makes one request about pin "load-<pin>"; a put writes a digest derived from seq.
func send(c *http.Client, url, token, op string, pin, seq int) error {
	method, body := http.MethodGet, io.Reader(nil)
	if op == "put" {
		method = http.MethodPut
		body = bytes.NewBufferString(fmt.Sprintf(`{"repository": "ghcr.io/org/load", "digest": "sha256:%064x", "sourceSha": "%040x"}`, seq+1, seq+1))
	}
	req, err := http.NewRequest(method, fmt.Sprintf("%s/v1/pins/load-%d", url, pin), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", method, req.URL.Path, resp.Status)
	}
	return nil
}
