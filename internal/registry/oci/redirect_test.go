package oci

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestRedirectDropsCredentials puts a registry behind two servers on 127.0.0.1: A asks for
// basic auth and redirects every authenticated request to B (other port, so another
// origin), as registries redirect blob GETs to storage; B serves them. The client follows
// the redirects, and B never sees the registry's credentials. net/http alone would send
// them to B, a host differing only by port; oras-go's auth.Client drops them on leaving
// the origin (v2.6.4, the version go.mod requires, does), and this test keeps it so.
func TestRedirectDropsCredentials(t *testing.T) {
	t.Parallel()
	const revision = "org.opencontainers.image.revision"
	upstream := registrytest.NewInProcess(t)
	dgst := registrytest.PushImage(t, upstream, "team/app", "v1", registrytest.ImageOptions{Labels: map[string]string{revision: "abc"}})

	var (
		mu       sync.Mutex
		atB      []string // Authorization headers B saw
		redirect int      // requests A redirected
	)
	target, err := url.Parse("http://" + upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atB = append(atB, r.Header.Get("Authorization"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(b.Close)
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "ci" || pass != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		mu.Lock()
		redirect++
		mu.Unlock()
		http.Redirect(w, r, b.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(a.Close)

	host := strings.TrimPrefix(a.URL, "http://")
	c := newClient(t, host, Options{Credentials: auth.StaticCredential(host, auth.Credential{Username: "ci", Password: "s3cret"})})
	if _, err := c.Manifest(t.Context(), "team/app", dgst); err != nil {
		t.Fatalf("Manifest() through the redirect error = %v", err)
	}
	inv, err := c.Inventory(t.Context(), "team/app") // tags, manifests and the config blob
	if err != nil {
		t.Fatalf("Inventory() through the redirect error = %v", err)
	}
	if len(inv.Images) != 1 || inv.Images[0].Labels[revision] != "abc" {
		t.Errorf("Inventory() = %+v, want the image with the labels of its config", inv.Images)
	}

	mu.Lock()
	defer mu.Unlock()
	if redirect == 0 || len(atB) != redirect {
		t.Fatalf("A redirected %d requests, B saw %d; want every authenticated request redirected", redirect, len(atB))
	}
	for i, h := range atB {
		if h != "" {
			t.Errorf("request %d at B carried Authorization %q, want none", i, h)
		}
	}
}
