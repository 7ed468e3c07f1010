package oci

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// linkingRegistry starts the in-process registry behind a middleware that pages tag lists
// as the spec says: a Link header to the next page while tags remain, and an empty page for
// a last at or past the final tag.
func linkingRegistry(t testing.TB) string {
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/tags/list") {
			reg.ServeHTTP(w, req)
			return
		}
		// Ask for every tag, and page them here.
		inner := httptest.NewRecorder()
		reg.ServeHTTP(inner, httptest.NewRequest(http.MethodGet, req.URL.Path, nil))
		var list struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		if err := json.NewDecoder(inner.Body).Decode(&list); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		q := req.URL.Query()
		page := list.Tags[:0:0]
		for _, tag := range list.Tags {
			if tag > q.Get("last") {
				page = append(page, tag)
			}
		}
		if n, err := strconv.Atoi(q.Get("n")); err == nil && n < len(page) {
			page = page[:n]
			next := url.Values{"n": {q.Get("n")}, "last": {page[n-1]}}
			w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, req.URL.Path, next.Encode()))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"name": list.Name, "tags": page})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestTagPaging(t *testing.T) {
	t.Parallel()
	const pageSize = 100
	for _, tc := range []struct {
		name      string
		start     func(testing.TB) string
		tags      int
		wantPages int
	}{
		// No Link header, but n and last honoured: ask again after each full page.
		{"InProcess/250", registrytest.NewInProcess, 250, 3},
		// ... and a last past the final tag brings the first page again, which adds nothing.
		{"InProcess/300", registrytest.NewInProcess, 300, 4},
		// n ignored: everything in one page, longer than asked for; no second request.
		{"Distribution/300", registrytest.StartDistribution, 300, 1},
		// Link headers, followed by oras.
		{"Link/300", linkingRegistry, 300, 3},
		{"Link/250", linkingRegistry, 250, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := tc.start(t)
			repo := registrytest.RepoName(t)
			d := registrytest.PushImage(t, host, repo, "", registrytest.ImageOptions{})
			want := make(map[string]string, tc.tags)
			var tags []string
			for i := range tc.tags {
				tag := fmt.Sprintf("t%04d", i)
				tags = append(tags, tag)
				want[tag] = d
			}
			registrytest.Tag(t, host, repo, d, tags...)

			c := newClient(t, host, Options{})
			c.tagPageSize = pageSize
			got, err := c.Tags(t.Context(), repo)
			if err != nil {
				t.Fatalf("Tags() error = %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Tags() (-want +got):\n%s", diff)
			}
			if s := c.Stats(); s.ByKind[shipreg.KindTagList] != tc.wantPages || s.ByKind[shipreg.KindManifestHEAD] != tc.tags {
				t.Errorf("Tags() sent %d tag list requests and %d HEADs, want %d and %d", s.ByKind[shipreg.KindTagList], s.ByKind[shipreg.KindManifestHEAD], tc.wantPages, tc.tags)
			}
		})
	}
}
