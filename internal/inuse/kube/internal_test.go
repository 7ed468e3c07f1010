package kube

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 100))
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		max     int64
		wantErr error
	}{
		{max: 99, wantErr: errTooLarge},
		{max: 100},
		{max: 1000},
	} {
		client := &http.Client{Transport: bodyLimit{next: http.DefaultTransport, max: tc.max}}
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("max %d: reading the body: error = %v, want %v", tc.max, err, tc.wantErr)
		}
		if tc.wantErr == nil && len(body) != 100 {
			t.Errorf("max %d: read %d bytes, want 100", tc.max, len(body))
		}
	}
}

func TestPulledManifest(t *testing.T) {
	t.Parallel()
	const hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		imageID, wantRef, wantDigest string
	}{
		{"docker-pullable://nginx@sha256:" + hex, "nginx@sha256:" + hex, "sha256:" + hex},
		{"docker-pullable://localhost:5000/app@sha256:" + hex, "localhost:5000/app@sha256:" + hex, "sha256:" + hex},
		{"ghcr.io/org/app@sha256:" + hex, "ghcr.io/org/app@sha256:" + hex, "sha256:" + hex},
		{"sha256:" + hex, "", ""},
		{"docker://sha256:" + hex, "", ""},
		{"ghcr.io/org/app@sha256:0123", "", ""},
		{"ghcr.io/org/app:v1", "", ""},
		{"", "", ""},
	} {
		r, ref, ok := pulledManifest(tc.imageID)
		if ref != tc.wantRef || r.Digest != tc.wantDigest || ok != (tc.wantRef != "") {
			t.Errorf("pulledManifest(%q) = %q (digest %q), %v; want %q (digest %q)", tc.imageID, ref, r.Digest, ok, tc.wantRef, tc.wantDigest)
		}
	}
}

func TestListAllBoundsPages(t *testing.T) {
	t.Parallel()
	s := &Source{context: "prod-eu", pageSize: 2, log: slog.New(slog.DiscardHandler)}
	calls := 0
	looping := listedResource{name: "pods", list: func(context.Context, metav1.ListOptions) (string, int, error) {
		calls++
		return "same-token", 2, nil
	}}
	err := s.listAll(context.Background(), looping)
	want := "listing pods in all namespaces of context prod-eu: more than 10000 pages of 2"
	if err == nil || err.Error() != want {
		t.Errorf("listAll() error = %v, want %q", err, want)
	}
	if calls != MaxPages {
		t.Errorf("listAll() made %d calls, want MaxPages (%d)", calls, MaxPages)
	}
}
