package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"oras.land/oras-go/v2/registry/remote/auth"

	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// catalogCounter is a transport that counts catalog requests and remembers their n.
type catalogCounter struct {
	next  http.RoundTripper
	count atomic.Int32
	lastN atomic.Int32
}

func (c *catalogCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/v2/_catalog") {
		c.count.Add(1)
		n, _ := strconv.Atoi(req.URL.Query().Get("n"))
		c.lastN.Store(int32(n))
	}
	return c.next.RoundTrip(req)
}

// noCredentials keeps tests from reading the Docker configuration of the machine.
func noCredentials(context.Context, string) (auth.Credential, error) {
	return auth.EmptyCredential, nil
}

// catalogServer serves names (sorted) as a catalog paged the way mode says, and nothing else
// but /v2/:
//
//	link         n and last honoured, a Link header to the next page (the spec, distribution)
//	no-link      n and last honoured, no Link header
//	wrap         as no-link, but a last at or past the final name brings the first page again
//	ignore-last  the first n names of a fixed shuffle, whatever last says
//	ignore-n     every name in one page
func catalogServer(t *testing.T, mode string, names []string) string {
	t.Helper()
	sorted := slices.Sorted(slices.Values(names))
	shuffled := slices.Clone(sorted)
	for i := range shuffled { // a fixed permutation: reversed pairs
		if j := i ^ 1; j < len(shuffled) && i < j {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v2/" {
			return
		}
		if req.URL.Path != "/v2/_catalog" {
			http.NotFound(w, req)
			return
		}
		q := req.URL.Query()
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n <= 0 {
			n = len(sorted)
		}
		last := q.Get("last")
		var page []string
		switch mode {
		case "ignore-n":
			page = sorted
		case "ignore-last":
			page = shuffled[:min(n, len(shuffled))]
		default:
			for _, name := range sorted {
				if name > last {
					page = append(page, name)
				}
			}
			if mode == "wrap" && len(page) == 0 {
				page = sorted
			}
			if len(page) > n {
				page = page[:n]
				if mode == "link" {
					next := url.Values{"n": {strconv.Itoa(n)}, "last": {page[n-1]}}
					w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?%s>; rel="next"`, next.Encode()))
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"repositories": page})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestRepositoriesPaging proves Repositories lists every repository once, sorted, however the registry pages its catalog, in as few requests as that paging allows.
func TestRepositoriesPaging(t *testing.T) {
	t.Parallel()
	const pageSize = 5
	names := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("team/app-%02d", n-1-i)
		}
		return out
	}
	for _, tc := range []struct {
		mode      string
		repos     int
		wantPages int
		// wantLastN is the n of the last request: MaxUnpagedCatalog after the registry
		// showed it ignores last.
		wantLastN int
	}{
		{"link", 23, 5, pageSize},
		{"link", 25, 5, pageSize},
		{"no-link", 23, 5, pageSize},
		{"no-link", 25, 6, pageSize}, // the sixth page is empty
		{"wrap", 25, 7, MaxUnpagedCatalog},
		{"ignore-last", 23, 3, MaxUnpagedCatalog}, // the second page repeats the first
		{"ignore-n", 23, 1, pageSize},
		{"ignore-n", 0, 1, pageSize},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.mode, tc.repos), func(t *testing.T) {
			t.Parallel()
			want := names(tc.repos)
			host := catalogServer(t, tc.mode, want)
			slices.Sort(want)
			counter := &catalogCounter{next: http.DefaultTransport}
			c := newClient(t, host, Options{Transport: counter, Credentials: noCredentials})
			c.catalogPageSize = pageSize
			got, err := c.Repositories(t.Context())
			if err != nil {
				t.Fatalf("Repositories() error = %v", err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Repositories() (-want +got):\n%s", diff)
			}
			if n, lastN := int(counter.count.Load()), int(counter.lastN.Load()); n != tc.wantPages || lastN != tc.wantLastN {
				t.Errorf("Repositories() sent %d catalog requests, the last with n=%d; want %d, n=%d", n, lastN, tc.wantPages, tc.wantLastN)
			}
		})
	}
}

// TestRepositoriesRealRegistries proves Repositories lists every repository pushed to distribution (Link headers, several pages) and to the in-process registry (which ignores last), with small pages and with the default.
func TestRepositoriesRealRegistries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start func(testing.TB) string
		// wantPages is the number of catalog requests with pages of 5; with the default
		// page size, every registry answers in one.
		wantPages int
	}{
		{"Distribution", registrytest.StartDistribution, 5},
		// 5 random names, 5 more (some repeated), then one request for everything.
		{"InProcess", registrytest.NewInProcess, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := tc.start(t)
			want := registrytest.PushRepositories(t, host, "fleet", 23)
			for _, pageSize := range []int{5, CatalogPageSize} {
				counter := &catalogCounter{next: http.DefaultTransport}
				c := newClient(t, host, Options{Transport: counter, Credentials: noCredentials})
				c.catalogPageSize = pageSize
				got, err := c.Repositories(t.Context())
				if err != nil {
					t.Fatalf("Repositories() with pages of %d: error = %v", pageSize, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Repositories() with pages of %d (-want +got):\n%s", pageSize, diff)
				}
				wantPages := 1
				if pageSize == 5 {
					wantPages = tc.wantPages
				}
				if n := int(counter.count.Load()); n < wantPages || tc.name == "Distribution" && n != wantPages {
					t.Errorf("Repositories() with pages of %d sent %d catalog requests, want %d", pageSize, n, wantPages)
				}
				if s := c.Stats(); s.Total() == 0 {
					t.Errorf("Stats() = %v: the catalog requests were not counted", s)
				}
			}
		})
	}
}

// TestRepositoriesNoCatalog proves a registry that does not list its repositories (404, 405, UNSUPPORTED, a catalog scope refused to credentials /v2/ accepts) gives ErrNoCatalog with the way out, and refused credentials give ErrUnauthorized.
func TestRepositoriesNoCatalog(t *testing.T) {
	t.Parallel()
	errorBody := func(w http.ResponseWriter, status int, code, message string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, message)
	}
	for _, tc := range []struct {
		name string
		// serve answers everything but /token, which gives a token to anyone.
		serve     func(w http.ResponseWriter, req *http.Request, host string)
		wantErr   error
		wantNoCat bool
	}{
		{"404", func(w http.ResponseWriter, req *http.Request, _ string) {
			if req.URL.Path == "/v2/" {
				return
			}
			errorBody(w, http.StatusNotFound, "NOT_FOUND", "page not found")
		}, shipreg.ErrNoCatalog, true},
		{"405", func(w http.ResponseWriter, req *http.Request, _ string) {
			if req.URL.Path == "/v2/" {
				return
			}
			w.WriteHeader(http.StatusMethodNotAllowed)
		}, shipreg.ErrNoCatalog, true},
		{"UNSUPPORTED", func(w http.ResponseWriter, req *http.Request, _ string) {
			if req.URL.Path == "/v2/" {
				return
			}
			errorBody(w, http.StatusBadRequest, "UNSUPPORTED", "the catalog is disabled")
		}, shipreg.ErrNoCatalog, true},
		// Docker Hub: a token for registry:catalog:* is issued with no access in it.
		{"scope refused", func(w http.ResponseWriter, req *http.Request, host string) {
			if req.Header.Get("Authorization") == "" || req.URL.Path == "/v2/_catalog" {
				scope := ""
				if req.URL.Path == "/v2/_catalog" {
					scope = `,scope="registry:catalog:*"`
				}
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"%s`, host, scope))
				errorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			}
		}, shipreg.ErrNoCatalog, true},
		{"denied", func(w http.ResponseWriter, req *http.Request, _ string) {
			if req.URL.Path == "/v2/" {
				return
			}
			errorBody(w, http.StatusForbidden, "DENIED", "requested access to the resource is denied")
		}, shipreg.ErrNoCatalog, true},
		// Credentials needed everywhere, none given: not a catalog problem.
		{"no credentials", func(w http.ResponseWriter, req *http.Request, _ string) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			errorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		}, shipreg.ErrUnauthorized, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var host string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.URL.Path == "/token" {
					json.NewEncoder(w).Encode(map[string]string{"token": "anonymous"})
					return
				}
				tc.serve(w, req, host)
			}))
			t.Cleanup(srv.Close)
			host = strings.TrimPrefix(srv.URL, "http://")
			c := newClient(t, host, Options{Credentials: noCredentials})
			got, err := c.Repositories(t.Context())
			if !errors.Is(err, tc.wantErr) || errors.Is(err, shipreg.ErrNoCatalog) != tc.wantNoCat {
				t.Fatalf("Repositories() = %v, %v; want an error wrapping %v", got, err, tc.wantErr)
			}
			if tc.wantNoCat && (!strings.Contains(err.Error(), "--repositories FILE") || !strings.HasPrefix(err.Error(), host+" does not list its repositories")) {
				t.Errorf("Repositories() error = %q, want it to name %s and say to give --repositories FILE", err, host)
			}
			if errors.Is(err, shipreg.ErrNotFound) {
				t.Errorf("Repositories() error = %v wraps ErrNotFound: a missing catalog is not a missing repository", err)
			}
		})
	}
}
