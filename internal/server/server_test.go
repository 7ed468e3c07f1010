package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/pins/sqlite"
	"github.com/shipshape-dev/shipshape/internal/server"
)

const (
	writeToken = "write-token-0123456789"
	readToken  = "read-token-0123456789"
)

func digest(i int) string { return fmt.Sprintf("sha256:%064x", i) }
func sha(i int) string    { return fmt.Sprintf("%040x", i) }

// openStore opens a fresh SQLite pin store.
func openStore(t *testing.T) pins.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pins.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testTokens(t *testing.T) *server.Tokens {
	t.Helper()
	tokens := &server.Tokens{}
	if err := tokens.Add("ci", server.ScopeWrite, writeToken); err != nil {
		t.Fatal(err)
	}
	if err := tokens.Add("dashboard", server.ScopeRead, readToken); err != nil {
		t.Fatal(err)
	}
	return tokens
}

// start serves the API over cfg (with a fresh store and the test tokens unless set) and
// returns its base URL.
func start(t *testing.T, cfg server.Config) string {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = openStore(t)
	}
	if cfg.Tokens == nil {
		cfg.Tokens = testTokens(t)
	}
	srv := httptest.NewServer(server.New(cfg))
	t.Cleanup(srv.Close)
	return srv.URL
}

type response struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, token, body string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func decodeAs[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
	return v
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

func putBody(d, s string) string {
	return fmt.Sprintf(`{"repository": "ghcr.io/org/app", "digest": %q, "sourceSha": %q}`, d, s)
}

var ignoreTime = cmpopts.IgnoreFields(pins.Pin{}, "UpdatedAt")

func TestPinRoutes(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{})

	r := call(t, "PUT", url+"/v1/pins/api", writeToken, putBody(digest(1), sha(1)))
	if r.status != http.StatusOK {
		t.Fatalf("PUT = %d %s, want 200", r.status, r.body)
	}
	want := pins.Pin{Name: "api", Repository: "ghcr.io/org/app", Digest: digest(1), SourceSHA: sha(1), UpdatedBy: "ci", Version: 1}
	if diff := cmp.Diff(want, decodeAs[pins.Pin](t, r), ignoreTime); diff != "" {
		t.Errorf("PUT (-want +got):\n%s", diff)
	}

	// Without a repository, the pin keeps the one it has.
	r = call(t, "PUT", url+"/v1/pins/api", writeToken, fmt.Sprintf(`{"digest": %q, "sourceSha": %q}`, digest(2), sha(2)))
	if r.status != http.StatusOK {
		t.Fatalf("second PUT = %d %s, want 200", r.status, r.body)
	}
	want = pins.Pin{Name: "api", Repository: "ghcr.io/org/app", Digest: digest(2), SourceSHA: sha(2), UpdatedBy: "ci", Version: 2}
	if diff := cmp.Diff(want, decodeAs[pins.Pin](t, r), ignoreTime); diff != "" {
		t.Errorf("second PUT (-want +got):\n%s", diff)
	}

	r = call(t, "GET", url+"/v1/pins/api", readToken, "")
	if diff := cmp.Diff(want, decodeAs[pins.Pin](t, r), ignoreTime); r.status != http.StatusOK || diff != "" {
		t.Errorf("GET = %d, (-want +got):\n%s", r.status, diff)
	}

	// A name with a slash travels as one escaped path segment.
	if r := call(t, "PUT", url+"/v1/pins/team%2Fworker", writeToken, putBody(digest(3), sha(3))); r.status != http.StatusOK {
		t.Fatalf("PUT team/worker = %d %s, want 200", r.status, r.body)
	}
	r = call(t, "GET", url+"/v1/pins", readToken, "")
	list := decodeAs[server.ListResponse](t, r)
	var names []string
	for _, p := range list.Pins {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"api", "team/worker"}, names); r.status != http.StatusOK || diff != "" {
		t.Errorf("GET /v1/pins = %d, names (-want +got):\n%s", r.status, diff)
	}

	if r := call(t, "DELETE", url+"/v1/pins/api", writeToken, ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE = %d %s, want 204", r.status, r.body)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/pins/api"},
		{"DELETE", "/v1/pins/api"},
		{"GET", "/v1/pins/never"},
		{"GET", "/v1/pins/never/history"},
	} {
		r := call(t, c.method, url+c.path, writeToken, "")
		if got := decodeAs[errorBody](t, r).Error.Code; r.status != http.StatusNotFound || got != server.CodeNotFound {
			t.Errorf("%s %s = %d %s, want 404 not_found", c.method, c.path, r.status, r.body)
		}
	}

	r = call(t, "GET", url+"/v1/pins/api/history", readToken, "")
	h := decodeAs[server.HistoryResponse](t, r)
	var ops []string
	for _, c := range h.Changes {
		ops = append(ops, fmt.Sprintf("%s %d %s", c.Op, c.Version, c.UpdatedBy))
	}
	if diff := cmp.Diff([]string{"set 1 ci", "set 2 ci", "delete 3 ci"}, ops); r.status != http.StatusOK || diff != "" {
		t.Errorf("history = %d, (-want +got):\n%s", r.status, diff)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{})
	long := strings.Repeat("a", 129)
	tests := []struct {
		name, method, path, body string
		field                    string
	}{
		{"bad digest", "PUT", "/v1/pins/api", putBody("sha256:ABC", sha(1)), "digest"},
		{"uppercase digest", "PUT", "/v1/pins/api", putBody("sha256:"+strings.Repeat("A", 64), sha(1)), "digest"},
		{"missing digest", "PUT", "/v1/pins/api", fmt.Sprintf(`{"sourceSha": %q}`, sha(1)), "digest"},
		{"short sha", "PUT", "/v1/pins/api", putBody(digest(1), "abc123"), "sourceSha"},
		{"missing sha", "PUT", "/v1/pins/api", fmt.Sprintf(`{"digest": %q}`, digest(1)), "sourceSha"},
		{"bad expected", "PUT", "/v1/pins/api", fmt.Sprintf(`{"digest": %q, "sourceSha": %q, "expectedDigest": "latest"}`, digest(1), sha(1)), "expectedDigest"},
		{"bad name", "PUT", "/v1/pins/-api", putBody(digest(1), sha(1)), "name"},
		{"long name", "PUT", "/v1/pins/" + long, putBody(digest(1), sha(1)), "name"},
		{"bad repository", "PUT", "/v1/pins/api", fmt.Sprintf(`{"repository": "https://ghcr.io/x", "digest": %q, "sourceSha": %q}`, digest(1), sha(1)), "repository"},
		{"unknown field", "PUT", "/v1/pins/api", fmt.Sprintf(`{"digest": %q, "sourceSha": %q, "tag": "v1"}`, digest(1), sha(1)), "tag"},
		{"wrong type", "PUT", "/v1/pins/api", `{"digest": 12}`, "digest"},
		{"malformed", "PUT", "/v1/pins/api", `{"digest": `, ""},
		{"empty body", "PUT", "/v1/pins/api", ``, ""},
		{"trailing data", "PUT", "/v1/pins/api", putBody(digest(1), sha(1)) + `{}`, ""},
		{"array", "PUT", "/v1/pins/api", `[]`, ""},
		{"compat runtime", "POST", "/cp/admin/runtime-image-pins", fmt.Sprintf(`{"runtime": "", "digest": %q, "source_sha": %q}`, digest(1), sha(1)), "runtime"},
		{"compat sha", "POST", "/cp/admin/runtime-image-pins", fmt.Sprintf(`{"runtime": "api", "digest": %q, "source_sha": "HEAD"}`, digest(1)), "source_sha"},
		{"compat camel case", "POST", "/cp/admin/runtime-image-pins", fmt.Sprintf(`{"runtime": "api", "digest": %q, "sourceSha": %q}`, digest(1), sha(1)), "sourceSha"},
		{"get bad name", "GET", "/v1/pins/.hidden", "", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, tt.method, url+tt.path, writeToken, tt.body)
			e := decodeAs[errorBody](t, r)
			if r.status != http.StatusBadRequest || e.Error.Code != server.CodeInvalid || e.Error.Field != tt.field || e.Error.Message == "" {
				t.Errorf("%s %s = %d %s, want 400 invalid naming field %q", tt.method, tt.path, r.status, r.body, tt.field)
			}
		})
	}
	// Nothing was stored.
	r := call(t, "GET", url+"/v1/pins", readToken, "")
	if got := decodeAs[server.ListResponse](t, r).Pins; len(got) != 0 {
		t.Errorf("pins after invalid requests = %v, want none", got)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{})
	body := putBody(digest(1), sha(1))
	tests := []struct {
		name, method, path, auth, body string
		status                         int
	}{
		{"no token", "GET", "/v1/pins", "", "", http.StatusUnauthorized},
		{"unknown token", "GET", "/v1/pins", "Bearer nope", "", http.StatusUnauthorized},
		{"basic auth", "GET", "/v1/pins", "Basic " + writeToken, "", http.StatusUnauthorized},
		{"empty bearer", "GET", "/v1/pins", "Bearer ", "", http.StatusUnauthorized},
		{"read token reads", "GET", "/v1/pins", "Bearer " + readToken, "", http.StatusOK},
		{"read token writes", "PUT", "/v1/pins/api", "Bearer " + readToken, body, http.StatusForbidden},
		{"read token deletes", "DELETE", "/v1/pins/api", "Bearer " + readToken, "", http.StatusForbidden},
		{"read token on compat route", "POST", "/cp/admin/runtime-image-pins", "Bearer " + readToken, `{}`, http.StatusForbidden},
		{"no token writes", "PUT", "/v1/pins/api", "", body, http.StatusUnauthorized},
		{"write token reads", "GET", "/v1/pins", "Bearer " + writeToken, "", http.StatusOK},
		{"healthz needs none", "GET", "/healthz", "", "", http.StatusOK},
		{"metrics needs none", "GET", "/metrics", "", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r io.Reader
			if tt.body != "" {
				r = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, url+tt.path, r)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, b, tt.status)
			}
			if got := resp.Header.Get("WWW-Authenticate"); (tt.status == http.StatusUnauthorized) != strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q with status %d", got, tt.status)
			}
			if tt.status >= 400 && !strings.Contains(string(b), `"code"`) {
				t.Errorf("body = %s, want a JSON error", b)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{MaxBody: 1024})
	big := fmt.Sprintf(`{"repository": "ghcr.io/org/app", "digest": %q, "sourceSha": %q, "pad": "%s"}`, digest(1), sha(1), strings.Repeat("x", 2048))
	r := call(t, "PUT", url+"/v1/pins/api", writeToken, big)
	if e := decodeAs[errorBody](t, r); r.status != http.StatusRequestEntityTooLarge || e.Error.Code != server.CodeTooLarge {
		t.Errorf("PUT of 2 KiB = %d %s, want 413 too_large", r.status, r.body)
	}
}

func TestCompareAndSwap(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{})
	cas := func(d, expected string) string {
		return fmt.Sprintf(`{"digest": %q, "sourceSha": %q, "expectedDigest": %q}`, d, sha(1), expected)
	}
	steps := []struct {
		name   string
		body   string
		status int
	}{
		{"expecting a pin that does not exist", cas(digest(1), digest(9)), http.StatusConflict},
		{"create", putBody(digest(1), sha(1)), http.StatusOK},
		{"stale expectation", cas(digest(2), digest(9)), http.StatusConflict},
		{"current expectation", cas(digest(2), digest(1)), http.StatusOK},
		{"same expectation again", cas(digest(3), digest(1)), http.StatusConflict},
	}
	for _, s := range steps {
		r := call(t, "PUT", url+"/v1/pins/api", writeToken, s.body)
		if r.status != s.status {
			t.Fatalf("%s: PUT = %d %s, want %d", s.name, r.status, r.body, s.status)
		}
		if s.status == http.StatusConflict {
			if e := decodeAs[errorBody](t, r); e.Error.Code != server.CodeConflict {
				t.Errorf("%s: error = %s, want code conflict", s.name, r.body)
			}
		}
	}
	r := call(t, "GET", url+"/v1/pins/api", readToken, "")
	if got := decodeAs[pins.Pin](t, r); got.Digest != digest(2) || got.Version != 2 {
		t.Errorf("pin = %s at version %d, want %s at 2", got.Digest, got.Version, digest(2))
	}
}

// TestConcurrentCompareAndSwap races 50 writers expecting the same digest: exactly one
// wins, and the history holds the create and the winner's change.
func TestConcurrentCompareAndSwap(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{})
	if r := call(t, "PUT", url+"/v1/pins/api", writeToken, putBody(digest(0), sha(0))); r.status != http.StatusOK {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	const writers = 50
	statuses := make([]int, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			body := fmt.Sprintf(`{"digest": %q, "sourceSha": %q, "expectedDigest": %q}`, digest(i+1), sha(i+1), digest(0))
			req, _ := http.NewRequest("PUT", url+"/v1/pins/api", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+writeToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	count := map[int]int{}
	winner := -1
	for i, s := range statuses {
		count[s]++
		if s == http.StatusOK {
			winner = i
		}
	}
	if diff := cmp.Diff(map[int]int{http.StatusOK: 1, http.StatusConflict: writers - 1}, count); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	r := call(t, "GET", url+"/v1/pins/api/history", readToken, "")
	var got []string
	for _, c := range decodeAs[server.HistoryResponse](t, r).Changes {
		got = append(got, fmt.Sprintf("%s %d %s", c.Op, c.Version, c.Digest))
	}
	want := []string{"set 1 " + digest(0), "set 2 " + digest(winner+1)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestRuntimePinRoute(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{})
	body := fmt.Sprintf(`{"runtime": "python-3.12", "digest": %q, "source_sha": %q}`, digest(7), sha(7))
	r := call(t, "POST", url+"/cp/admin/runtime-image-pins", writeToken, body)
	if r.status != http.StatusOK {
		t.Fatalf("POST = %d %s, want 200", r.status, r.body)
	}
	r = call(t, "GET", url+"/v1/pins/python-3.12", readToken, "")
	want := pins.Pin{Name: "python-3.12", Digest: digest(7), SourceSHA: sha(7), UpdatedBy: "ci", Version: 1}
	if diff := cmp.Diff(want, decodeAs[pins.Pin](t, r), ignoreTime); r.status != http.StatusOK || diff != "" {
		t.Errorf("GET = %d (-want +got):\n%s", r.status, diff)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	store := openStore(t)
	url := start(t, server.Config{Store: store, Registerer: reg})
	call(t, "PUT", url+"/v1/pins/api", writeToken, putBody(digest(1), sha(1)))
	call(t, "GET", url+"/v1/pins/api", readToken, "")
	call(t, "GET", url+"/v1/pins/nope", readToken, "")
	call(t, "GET", url+"/nowhere", readToken, "")

	if r := call(t, "GET", url+"/healthz", "", ""); r.status != http.StatusOK {
		t.Errorf("healthz = %d %s, want 200", r.status, r.body)
	}
	r := call(t, "GET", url+"/metrics", "", "")
	for _, want := range []string{
		`shipshape_http_requests_total{code="200",route="PUT /v1/pins/{name}"} 1`,
		`shipshape_http_requests_total{code="200",route="GET /v1/pins/{name}"} 1`,
		`shipshape_http_requests_total{code="404",route="GET /v1/pins/{name}"} 1`,
		`shipshape_http_requests_total{code="404",route="unmatched"} 1`,
		`shipshape_http_request_duration_seconds_count{route="PUT /v1/pins/{name}"} 1`,
		"shipshape_pins 1",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	store.Close()
	if r := call(t, "GET", url+"/healthz", "", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("healthz with the store closed = %d %s, want 503", r.status, r.body)
	}
}

// TestWrongMethodIs405: a route called with a method it does not take answers 405 with
// the methods it does take in Allow, not 404; an unknown path is still 404.
func TestWrongMethodIs405(t *testing.T) {
	t.Parallel()
	url := start(t, server.Config{})
	for _, tc := range []struct {
		method, path, allow string
	}{
		{"POST", "/v1/pins/api", "GET, HEAD, PUT, DELETE"},
		{"DELETE", "/v1/pins", "GET, HEAD"},
		{"GET", "/cp/admin/runtime-image-pins", "POST"},
	} {
		r := call(t, tc.method, url+tc.path, writeToken, "")
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow || decodeAs[errorBody](t, r).Error.Code != "method_not_allowed" {
			t.Errorf("%s %s = %d, Allow %q, body %s; want 405 with Allow %q", tc.method, tc.path, r.status, r.header.Get("Allow"), r.body, tc.allow)
		}
	}
	if r := call(t, "GET", url+"/v2/nothing", writeToken, ""); r.status != http.StatusNotFound || r.header.Get("Allow") != "" {
		t.Errorf("GET /v2/nothing = %d, Allow %q; want 404", r.status, r.header.Get("Allow"))
	}
}

// TestAbandonedRequestIsNoServerError: a request whose client went away is logged as 499,
// not as a failure of the server (500 with an error line).
func TestAbandonedRequestIsNoServerError(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	h := server.New(server.Config{Store: openStore(t), Tokens: testTokens(t), Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPut, "/v1/pins/web", strings.NewReader(putBody(digest(1), sha(1))))
	req.Header.Set("Authorization", "Bearer "+writeToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 499 {
		t.Errorf("status = %d, want 499; body %s", rec.Code, rec.Body)
	}
	if strings.Contains(log.String(), "request failed") || !strings.Contains(log.String(), `"status":499`) {
		t.Errorf("log, want a 499 access line and no error line:\n%s", log.String())
	}
}
