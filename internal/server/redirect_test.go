package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/server"
)

// authRecorder answers {"pins": []} and records the Authorization header of each request.
type authRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (a *authRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Header.Get("Authorization"))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"pins": []}`))
}

func (a *authRecorder) headers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// TestClientRedirectKeepsTokenAtOrigin lets a server redirect the client's request: the
// token goes along only to the origin it was given for. Both servers listen on 127.0.0.1,
// so they differ only by port, which net/http alone does not tell apart.
func TestClientRedirectKeepsTokenAtOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// redirect returns where server A sends GET /v1/pins, given the URLs of A and B.
		redirect func(a, b string) string
		wantA    []string // Authorization headers A sees
		wantB    []string // Authorization headers B sees
	}{
		{name: "OtherOrigin", redirect: func(a, b string) string { return b + "/v1/pins" },
			wantA: []string{"Bearer tok3n"}, wantB: []string{""}},
		{name: "SameOrigin", redirect: func(a, b string) string { return a + "/moved" },
			wantA: []string{"Bearer tok3n", "Bearer tok3n"}},
		{name: "OtherOriginAndBack", redirect: func(a, b string) string { return b + "/back" },
			wantA: []string{"Bearer tok3n", ""}, wantB: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var recA, recB authRecorder
			var a, b *httptest.Server
			a = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/pins" {
					recA.mu.Lock()
					recA.seen = append(recA.seen, r.Header.Get("Authorization"))
					recA.mu.Unlock()
					http.Redirect(w, r, tt.redirect(a.URL, b.URL), http.StatusTemporaryRedirect)
					return
				}
				recA.ServeHTTP(w, r)
			}))
			defer a.Close()
			b = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/back" {
					recB.mu.Lock()
					recB.seen = append(recB.seen, r.Header.Get("Authorization"))
					recB.mu.Unlock()
					http.Redirect(w, r, a.URL+"/moved", http.StatusFound)
					return
				}
				recB.ServeHTTP(w, r)
			}))
			defer b.Close()

			c, err := server.NewClient(a.URL, "tok3n", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.List(t.Context()); err != nil {
				t.Fatalf("List() error = %v", err)
			}
			if got := recA.headers(); strings.Join(got, "|") != strings.Join(tt.wantA, "|") {
				t.Errorf("server A saw Authorization %q, want %q", got, tt.wantA)
			}
			if got := recB.headers(); strings.Join(got, "|") != strings.Join(tt.wantB, "|") {
				t.Errorf("server B saw Authorization %q, want %q", got, tt.wantB)
			}
		})
	}
}

func TestCheckRedirectStops(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	}))
	defer srv.Close()
	c, err := server.NewClient(srv.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(t.Context()); err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("List() error = %v, want it to stop after 10 redirects", err)
	}
}

// TestClientErrorsHideCredentials gives the client URLs with credentials in their userinfo:
// no error shows them.
func TestClientErrorsHideCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, url string }{
		{name: "TokenAsUser", url: "http://tok3n-secret@127.0.0.1:1"},
		{name: "Password", url: "http://ci:tok3n-secret@127.0.0.1:1"},
		{name: "BadScheme", url: "ftp://ci:tok3n-secret@host"},
		{name: "BadSchemeTokenAsUser", url: "ftp://tok3n-secret@host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := server.NewClient(tt.url, "", nil)
			if err == nil {
				_, err = c.List(t.Context())
			}
			if err == nil {
				t.Fatalf("List() from %s succeeded, want an error", tt.url)
			}
			if strings.Contains(err.Error(), "tok3n") {
				t.Errorf("error = %q, shows the credential", err)
			}
		})
	}
}
