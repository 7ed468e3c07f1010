package registry_test

import (
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

func TestParseReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ref, host, repo string
		err             string // part of the error message; "" for none
	}{
		{ref: "localhost:5000/team/app", host: "localhost:5000", repo: "team/app"},
		{ref: "127.0.0.1:5000/app", host: "127.0.0.1:5000", repo: "app"},
		{ref: "ghcr.io/org/app", host: "ghcr.io", repo: "org/app"},
		{ref: "123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app", host: "123456789012.dkr.ecr.us-east-2.amazonaws.com", repo: "team/app"},
		{ref: "localhost/app", host: "localhost", repo: "app"},
		{ref: "alpine", host: "registry-1.docker.io", repo: "library/alpine"},
		{ref: "library/alpine", host: "registry-1.docker.io", repo: "library/alpine"},
		{ref: "bitnami/redis", host: "registry-1.docker.io", repo: "bitnami/redis"},
		{ref: "docker.io/alpine", host: "registry-1.docker.io", repo: "library/alpine"},
		{ref: "ghcr.io/org/app:v1", err: "names a tag"},
		{ref: "localhost:5000/app:latest", err: "names a tag"},
		{ref: "alpine:3.19", err: "names a tag"},
		{ref: "ghcr.io/org/app@sha256:" + strings.Repeat("0", 64), err: "names a digest"},
		{ref: "https://ghcr.io/org/app", err: "URL scheme"},
		{ref: "ghcr.io/Org/App", err: "not a repository name"},
		{ref: "ghcr.io//app", err: "not a repository name"},
		{ref: "user:pw@host/app", err: "names a digest"},
		{ref: "", err: "empty"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			t.Parallel()
			host, repo, err := registry.ParseReference(tc.ref)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseReference(%q) error = %v, want one saying %q", tc.ref, err, tc.err)
				}
				return
			}
			if err != nil || host != tc.host || repo != tc.repo {
				t.Errorf("ParseReference(%q) = %q, %q, %v; want %q, %q", tc.ref, host, repo, err, tc.host, tc.repo)
			}
		})
	}
}
