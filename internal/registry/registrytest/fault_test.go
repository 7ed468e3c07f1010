package registrytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// upstream starts a server that answers every request 200 "ok" and counts them.
func upstream(t *testing.T) (host string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), requests
}

// outcome sends one GET, without retries, and describes what came back.
func outcome(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case err != nil:
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		return fmt.Sprintf("%d after %s", resp.StatusCode, ra)
	}
	return fmt.Sprint(resp.StatusCode)
}

// noReuse is a client that opens a connection per request, so that a reset reaches it as
// such rather than as a retry on a fresh connection.
func noReuse() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestFaultProxyIsDeterministic(t *testing.T) {
	t.Parallel()
	target, _ := upstream(t)
	cfg := FaultConfig{Seed: 42, ServerErrors: 0.2, TooManyRequests: 0.1, RetryAfter: 1500 * time.Millisecond, Resets: 0.1}
	run := func() ([]string, FaultCounts) {
		p := FaultProxy(t, target, cfg)
		client := noReuse()
		var got []string
		for i := range 200 {
			got = append(got, outcome(t, client, fmt.Sprintf("http://%s/v2/app/manifests/t%d", p.Host, i%50)))
		}
		return got, p.Counts()
	}
	first, firstCounts := run()
	second, secondCounts := run()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("outcomes of two runs with the same seed differ (-first +second):\n%s", diff)
	}
	if firstCounts != secondCounts {
		t.Errorf("Counts() = %+v, then %+v; want the same", firstCounts, secondCounts)
	}
	tally := make(map[string]int)
	for _, o := range first {
		tally[o]++
	}
	// 200 requests: roughly 40 500s, 20 429s asking for 2 s (1.5 s rounded up), 20 resets.
	for o, want := range map[string]int{"500": 40, "429 after 2": 20, "reset": 20} {
		if got := tally[o]; got < want/2 || got > want*2 {
			t.Errorf("%d requests came back %q, want about %d (all: %v)", got, o, want, tally)
		}
	}
	if c := firstCounts; c.Requests != 200 || c.ServerErrors != tally["500"] || c.TooManyRequests != tally["429 after 2"] || c.Resets != tally["reset"] {
		t.Errorf("Counts() = %+v, want 200 requests and the faults seen %v", c, tally)
	}
}

func TestFaultProxyLetsRetriesThrough(t *testing.T) {
	t.Parallel()
	target, _ := upstream(t)
	// Nearly every request is disturbed, but never more than twice in a row.
	p := FaultProxy(t, target, FaultConfig{Seed: 1, ServerErrors: 0.99})
	var got []string
	for range 3 {
		got = append(got, outcome(t, noReuse(), "http://"+p.Host+"/v2/app/tags/list"))
	}
	if diff := cmp.Diff([]string{"500", "500", "200"}, got); diff != "" {
		t.Errorf("three tries of one request (-want +got):\n%s", diff)
	}
}

func TestFaultProxyScript(t *testing.T) {
	t.Parallel()
	target, requests := upstream(t)
	p := FaultProxy(t, target, FaultConfig{
		Script: []Fault{FaultTooManyRequests, FaultReset, FaultLostResponse, FaultServerError, NoFault},
		// Only manifest requests are disturbed; the tag list passes untouched.
		Match: func(req *http.Request) bool { return strings.Contains(req.URL.Path, "/manifests/") },
	})
	client := noReuse()
	got := []string{outcome(t, client, "http://"+p.Host+"/v2/app/tags/list")}
	for i := range 6 {
		got = append(got, outcome(t, client, fmt.Sprintf("http://%s/v2/app/manifests/m%d", p.Host, i)))
	}
	want := []string{"200", "429 after 1", "reset", "reset", "500", "200", "200"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	// The lost response reached the registry; the other faults did not.
	if n := requests.Load(); n != 4 {
		t.Errorf("the registry received %d requests, want 4 (3 answered, 1 lost)", n)
	}
	if c := p.Counts(); c != (FaultCounts{Requests: 7, ServerErrors: 1, TooManyRequests: 1, Resets: 1, LostResponses: 1}) || c.Faults() != 4 {
		t.Errorf("Counts() = %+v, want 7 requests and one fault of each kind", c)
	}
}

func TestRepoName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{"TestOCI/InProcess/Inventory", "testoci/inprocess/inventory"},
		{"TestTagPaging/Link/300", "testtagpaging/link/300"},
		{"TestX/a_b.c#01", "testx/a-b-c-01"},
		{"TestX//_odd_", "testx/odd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := repoName(tc.name); got != tc.want {
				t.Errorf("repoName(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

func TestFaultProxyNotFound(t *testing.T) {
	t.Parallel()
	target, requests := upstream(t)
	// GET of one manifest answers 404; HEAD of it, and everything else, passes.
	p := FaultProxy(t, target, FaultConfig{
		NotFound: func(req *http.Request) bool {
			return req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/manifests/prod")
		},
	})
	client := noReuse()
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get("http://" + p.Host + "/v2/app/manifests/prod")
	if status != http.StatusNotFound || !strings.Contains(body, `"code":"MANIFEST_UNKNOWN"`) {
		t.Errorf("GET of the selected manifest = %d %q, want 404 with MANIFEST_UNKNOWN", status, body)
	}
	head, err := client.Head("http://" + p.Host + "/v2/app/manifests/prod")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK {
		t.Errorf("HEAD of the selected manifest = %d, want 200 from the registry", head.StatusCode)
	}
	if status, _ := get("http://" + p.Host + "/v2/app/manifests/dev"); status != http.StatusOK {
		t.Errorf("GET of another manifest = %d, want 200", status)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("the registry received %d requests, want 2 (the 404 never reaches it)", n)
	}
	if c := p.Counts(); c != (FaultCounts{Requests: 3, NotFound: 1}) || c.Faults() != 1 {
		t.Errorf("Counts() = %+v, want 3 requests, 1 answered 404", c)
	}

	// As a scripted fault, for the first request Match selects.
	p = FaultProxy(t, target, FaultConfig{Script: []Fault{FaultNotFound}})
	if status, body := get("http://" + p.Host + "/v2/app/blobs/sha256:abc"); status != http.StatusNotFound || !strings.Contains(body, "BLOB_UNKNOWN") {
		t.Errorf("GET of a blob with a scripted FaultNotFound = %d %q, want 404 with BLOB_UNKNOWN", status, body)
	}
}

func TestFaultProxyHold(t *testing.T) {
	t.Parallel()
	target, requests := upstream(t)
	p := FaultProxy(t, target, FaultConfig{
		Hold: func(req *http.Request) bool { return req.Method == http.MethodDelete },
	})
	del := func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, "http://"+p.Host+"/v2/app/manifests/sha256:abc", nil)
		if err != nil {
			return 0, err
		}
		resp, err := noReuse().Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// A DELETE whose client gives up while held never reaches the registry.
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := del(ctx)
		gaveUp <- err
	}()
	if err := p.WaitHeld(t.Context(), 1); err != nil {
		t.Fatalf("WaitHeld(1) error = %v", err)
	}
	// Requests Hold does not select pass meanwhile.
	if got := outcome(t, noReuse(), "http://"+p.Host+"/v2/app/tags/list"); got != "200" {
		t.Errorf("GET while a DELETE is held = %s, want 200", got)
	}
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled DELETE error = %v, want context.Canceled", err)
	}

	// A held DELETE goes on when released, and later ones are not held.
	released := make(chan int, 1)
	go func() {
		status, err := del(t.Context())
		if err != nil {
			t.Errorf("DELETE error = %v", err)
		}
		released <- status
	}()
	if err := p.WaitHeld(t.Context(), 2); err != nil {
		t.Fatalf("WaitHeld(2) error = %v", err)
	}
	select {
	case <-released:
		t.Fatal("a held DELETE was answered before Release")
	case <-time.After(50 * time.Millisecond):
	}
	p.Release()
	if status := <-released; status != http.StatusOK {
		t.Errorf("released DELETE = %d, want 200", status)
	}
	if status, err := del(t.Context()); err != nil || status != http.StatusOK {
		t.Errorf("DELETE after Release = %d, %v; want 200", status, err)
	}
	// The tag list, the released DELETE and the one after it; not the abandoned one.
	if n := requests.Load(); n != 3 {
		t.Errorf("the registry received %d requests, want 3", n)
	}
	if c := p.Counts(); c != (FaultCounts{Requests: 3, Held: 2}) {
		t.Errorf("Counts() = %+v, want 3 requests and 2 held", c)
	}
}
