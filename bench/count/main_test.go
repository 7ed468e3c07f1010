package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	for _, tc := range []struct {
		method, path, want string
	}{
		{"GET", "/v2/", "ping"},
		{"HEAD", "/v2/", "ping"},
		{"GET", "/v2/team/app/tags/list", "tags"},
		{"GET", "/v2/tags/list/tags/list", "tags"},
		{"GET", "/v2/team/app/manifests/sha-1234567", "manifest_get"},
		{"HEAD", "/v2/team/app/manifests/" + d, "manifest_head"},
		{"PUT", "/v2/team/app/manifests/v1", "other"},
		{"DELETE", "/v2/team/app/manifests/" + d, "manifest_delete"},
		{"GET", "/v2/a/b/c/blobs/" + d, "blob_get"},
		{"HEAD", "/v2/app/blobs/" + d, "blob_head"},
		{"POST", "/v2/app/blobs/uploads/", "other"},
		{"PATCH", "/v2/app/blobs/uploads/0f1e", "other"},
		{"GET", "/v2/app/referrers/" + d, "referrers"},
		{"GET", "/v2/_catalog", "other"},
		{"GET", "/healthz", "other"},
	} {
		if got := kindNames[classify(tc.method, tc.path)]; got != tc.want {
			t.Errorf("classify(%s %s) = %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestHandlerCountsAndResets(t *testing.T) {
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/missing") {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer registry.Close()
	target, _ := url.Parse(registry.URL)
	proxy := httptest.NewServer(handler(&url.URL{Scheme: "http", Host: target.Host}, &counter{}))
	defer proxy.Close()

	get := func(method, path string) string {
		t.Helper()
		req, _ := http.NewRequest(method, proxy.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	get("GET", "/v2/")
	get("GET", "/v2/app/tags/list")
	get("HEAD", "/v2/app/manifests/v1")
	get("GET", "/v2/app/manifests/missing")
	want := "total=4 tags=1 manifest_get=1 manifest_head=1 manifest_delete=0 blob_get=0 blob_head=0 referrers=0 ping=1 other=0 errors=1"
	if got := get("GET", "/_count?reset=1"); got != want {
		t.Errorf("counts:\n got %s\nwant %s", got, want)
	}
	want = "total=0 tags=0 manifest_get=0 manifest_head=0 manifest_delete=0 blob_get=0 blob_head=0 referrers=0 ping=0 other=0 errors=0"
	if got := get("GET", "/_count"); got != want {
		t.Errorf("after reset:\n got %s\nwant %s", got, want)
	}
}
