// Command pinload, for bench/pins-load.sh, sends a fixed number of pin API requests at a
// fixed concurrency and reports requests per second and latency percentiles; with
// -accesslog it instead summarises the access log of `shipshape serve`: the server's own
// view of each route's latency, and its slowest requests.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
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
		accessLog   = flag.String("accesslog", "", "summarise the access log in `FILE` (the standard error of shipshape serve) instead of sending requests")
		slowest     = flag.Int("slowest", 5, "with -accesslog, how many of the slowest writes to list")
	)
	flag.Parse()
	if *accessLog != "" {
		if err := summarise(os.Stdout, *accessLog, *slowest); err != nil {
			fmt.Fprintf(os.Stderr, "pinload: %v\n", err)
			os.Exit(1)
		}
		return
	}
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
	fmt.Printf("%-4s %8d requests, concurrency %2d: %7.0f req/s  p50 %7.2f  p99 %7.2f  p99.9 %7.2f  max %8.2f ms  failures %d\n",
		strings.ToUpper(*op), *requests, *concurrency, float64(*requests)/elapsed.Seconds(),
		ms(percentile(latencies, 50)), ms(percentile(latencies, 99)), ms(percentile(latencies, 99.9)),
		ms(latencies[len(latencies)-1]), failures.Load())
	if failures.Load() > 0 {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile returns the p-th percentile (0–100) of sorted, by the nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p / 100 * float64(len(sorted)))
	return sorted[min(rank, len(sorted)-1)]
}

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

// request is one line of the access log.
type request struct {
	time, route, status string
	duration            time.Duration
}

// summarise prints, per route of the access log in path, the requests, their status codes
// and their latency percentiles as the server measured them, then the slowest writes.
func summarise(w io.Writer, path string, slowest int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	reqs, err := readAccessLog(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if len(reqs) == 0 {
		return fmt.Errorf("reading %s: no requests logged", path)
	}
	byRoute := map[string][]request{}
	var routes []string
	for _, r := range reqs {
		if _, ok := byRoute[r.route]; !ok {
			routes = append(routes, r.route)
		}
		byRoute[r.route] = append(byRoute[r.route], r)
	}
	slices.Sort(routes)
	for _, route := range routes {
		rs := byRoute[route]
		d := make([]time.Duration, len(rs))
		statuses := map[string]int{}
		for i, r := range rs {
			d[i] = r.duration
			statuses[r.status]++
		}
		slices.Sort(d)
		var codes []string
		for code, n := range statuses {
			codes = append(codes, fmt.Sprintf("%s×%d", code, n))
		}
		slices.Sort(codes)
		fmt.Fprintf(w, "log %-20s %8d requests (%s): p50 %6.2f  p99 %6.2f  p99.9 %6.2f  max %8.2f ms; over 50 ms: %d, over 250 ms: %d\n",
			route, len(rs), strings.Join(codes, " "), ms(percentile(d, 50)), ms(percentile(d, 99)), ms(percentile(d, 99.9)),
			ms(d[len(d)-1]), countOver(d, 50*time.Millisecond), countOver(d, 250*time.Millisecond))
	}
	var writes []request
	for _, r := range reqs {
		if !strings.HasPrefix(r.route, "GET ") {
			writes = append(writes, r)
		}
	}
	slices.SortStableFunc(writes, func(a, b request) int { return int(b.duration - a.duration) })
	for _, r := range writes[:min(slowest, len(writes))] {
		fmt.Fprintf(w, "log slowest write: %8.2f ms at %s (%s, %s)\n", ms(r.duration), r.time, r.route, r.status)
	}
	return nil
}

func countOver(sorted []time.Duration, limit time.Duration) int {
	i, _ := slices.BinarySearch(sorted, limit+1)
	return len(sorted) - i
}

// readAccessLog returns the requests logged in r, the key=value lines of slog's text
// handler with msg=request; it skips other lines.
func readAccessLog(r io.Reader) ([]request, error) {
	var out []request
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		kv, err := parseLine(sc.Text())
		if err != nil || kv["msg"] != "request" {
			continue
		}
		d, err := time.ParseDuration(kv["duration"])
		if err != nil {
			return nil, fmt.Errorf("duration of %q: %w", sc.Text(), err)
		}
		out = append(out, request{time: kv["time"], route: kv["route"], status: kv["status"], duration: d})
	}
	return out, sc.Err()
}

// parseLine splits a line of slog's text handler into its keys and values.
func parseLine(line string) (map[string]string, error) {
	kv := map[string]string{}
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimLeft(line, " ") {
		key, rest, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsRune(key, ' ') {
			return nil, errors.New("not key=value")
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, err
			}
			if value, err = strconv.Unquote(q); err != nil {
				return nil, err
			}
			rest = rest[len(q):]
		} else {
			value, rest, _ = strings.Cut(rest, " ")
		}
		kv[key], line = value, rest
	}
	return kv, nil
}
