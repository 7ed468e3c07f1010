package oci

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestErrorsSayWhatToDo: the failures a new user meets first read as what they mean and
// what to do, not as the library's raw text, and still match the registry's sentinels.
func TestErrorsSayWhatToDo(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials anywhere
	ctx := context.Background()

	// A registry that wants basic credentials, and one that refuses every credential.
	basic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Name":"team/app","Action":"pull"}]}]}`))
	}))
	defer basic.Close()
	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Name":"team/app","Action":"pull"}]}]}`))
	}))
	defer refused.Close()
	known := registrytest.NewInProcess(t)

	for _, tc := range []struct {
		name, host, repo string
		want             string
		sentinel         error
	}{
		{"no credentials", strings.TrimPrefix(basic.URL, "http://"), "team/app", "asks for credentials and none were found: run docker login 127.0.0.1:", registry.ErrUnauthorized},
		{"credentials refused", strings.TrimPrefix(refused.URL, "http://"), "team/app", "refused the credentials for team/app (401: authentication required): check them with docker login 127.0.0.1:", registry.ErrUnauthorized},
		{"no such repository", known, "demo/nope", "repository demo/nope not found on " + known, registry.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.host, Options{Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Tags(ctx, tc.repo)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "map[") {
				t.Fatalf("Tags = %v, want %q and no raw detail", err, tc.want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("Tags = %v, want it to match %v", err, tc.sentinel)
			}
		})
	}
}
