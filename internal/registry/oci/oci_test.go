package oci

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// newClient returns a client of host, failing the test on error.
func newClient(t testing.TB, host string, opts Options) *Client {
	t.Helper()
	c, err := New(host, opts)
	if err != nil {
		t.Fatalf("New(%q) error = %v", host, err)
	}
	return c
}

// registries are the registries the focused tests run against.
var registries = []struct {
	name  string
	start func(testing.TB) string
	// referrersAPI says whether the registry serves the referrers API.
	referrersAPI bool
}{
	{"InProcess", registrytest.NewInProcess, true},
	{"Distribution", registrytest.StartDistribution, false},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			registrytest.Conformance(t, func(t *testing.T) (registry.Registry, string) {
				return newClient(t, host, Options{}), host
			})
		})
	}
}

func TestMapError(t *testing.T) {
	t.Parallel()
	response := func(status int, codes ...string) error {
		e := &errcode.ErrorResponse{Method: http.MethodGet, StatusCode: status}
		for _, c := range codes {
			e.Errors = append(e.Errors, errcode.Error{Code: c})
		}
		return fmt.Errorf("wrapped: %w", e)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error // nil: no sentinel
	}{
		{"404", response(http.StatusNotFound), registry.ErrNotFound},
		{"NAME_UNKNOWN", response(http.StatusNotFound, "NAME_UNKNOWN"), registry.ErrNotFound},
		{"MANIFEST_UNKNOWN on 400", response(http.StatusBadRequest, "MANIFEST_UNKNOWN"), registry.ErrNotFound},
		{"oras not found", fmt.Errorf("sha256:ab: %w", errdef.ErrNotFound), registry.ErrNotFound},
		{"401", response(http.StatusUnauthorized), registry.ErrUnauthorized},
		{"UNAUTHORIZED on 400", response(http.StatusBadRequest, "UNAUTHORIZED"), registry.ErrUnauthorized},
		{"403", response(http.StatusForbidden, "DENIED"), registry.ErrDenied},
		{"405", response(http.StatusMethodNotAllowed, "UNSUPPORTED"), registry.ErrUnsupported},
		{"UNSUPPORTED on 400", response(http.StatusBadRequest, "UNSUPPORTED"), registry.ErrUnsupported},
		{"oras unsupported", errdef.ErrUnsupported, registry.ErrUnsupported},
		{"500", response(http.StatusInternalServerError), nil},
		{"other", errors.New("connection refused"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := mapError(tc.err)
			for _, s := range []error{registry.ErrNotFound, registry.ErrUnauthorized, registry.ErrDenied, registry.ErrUnsupported} {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("errors.Is(mapError(%v), %v) = %v, want %v", tc.err, s, !(s == tc.want), s == tc.want)
				}
			}
			if !errors.Is(got, tc.err) || got.Error() != tc.err.Error() {
				t.Errorf("mapError(%v) = %v, want an error that wraps it with the same message", tc.err, got)
			}
		})
	}
}

// TestStatusErrors checks that each call maps the registry's refusals onto the sentinels.
func TestStatusErrors(t *testing.T) {
	t.Parallel()
	const dgst = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		status int
		code   string
		want   error
	}{
		{http.StatusNotFound, "NAME_UNKNOWN", registry.ErrNotFound},
		{http.StatusUnauthorized, "UNAUTHORIZED", registry.ErrUnauthorized},
		{http.StatusForbidden, "DENIED", registry.ErrDenied},
		{http.StatusMethodNotAllowed, "UNSUPPORTED", registry.ErrUnsupported},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			// Everything is refused, except that HEAD of a manifest succeeds (unless the
			// refusal is 404), so that Delete gets as far as the DELETE.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/manifests/") && tc.status != http.StatusNotFound {
					w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
					w.Header().Set("Docker-Content-Digest", dgst)
					w.Header().Set("Content-Length", "100")
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"refused"}]}`, tc.code)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, strings.TrimPrefix(srv.URL, "http://"), Options{})
			ctx := t.Context()
			calls := map[string]func() error{
				"Inventory": func() error { _, err := c.Inventory(ctx, "app"); return err },
				"Tags":      func() error { _, err := c.Tags(ctx, "app"); return err },
				"Delete":    func() error { return c.Delete(ctx, "app", dgst) },
			}
			for name, call := range calls {
				if err := call(); !errors.Is(err, tc.want) {
					t.Errorf("%s() error = %v, want %v", name, err, tc.want)
				}
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"tags":[]}`)
	}))
	t.Cleanup(srv.Close)
	// An explicit rate applies even to a loopback host. The burst is the concurrency (1),
	// so 6 requests at 20 per second take at least 5 × 50 ms.
	c := newClient(t, strings.TrimPrefix(srv.URL, "http://"), Options{RequestsPerSecond: 20, Concurrency: 1})
	start := time.Now()
	for range 6 {
		if _, err := c.Tags(t.Context(), "app"); err != nil {
			t.Fatalf("Tags() error = %v", err)
		}
	}
	if d := time.Since(start); d < 240*time.Millisecond {
		t.Errorf("6 requests at 20 per second took %v, want at least 250ms", d)
	}
}

// TestBackendLinksNoTestRegistry keeps go-containerregistry, which only tests use, out of
// the backend and so out of the shipshape binary.
func TestBackendLinksNoTestRegistry(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/google/go-containerregistry") {
			t.Errorf("the oci package depends on %s", dep)
		}
	}
}
