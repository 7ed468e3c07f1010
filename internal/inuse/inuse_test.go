package inuse_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    inuse.Ref
		wantErr string
	}{
		{in: "nginx", want: inuse.Ref{Host: "docker.io", Repository: "library/nginx", Tag: "latest"}},
		{in: "nginx:1.27", want: inuse.Ref{Host: "docker.io", Repository: "library/nginx", Tag: "1.27"}},
		{in: "docker.io/library/redis:7", want: inuse.Ref{Host: "docker.io", Repository: "library/redis", Tag: "7"}},
		{in: "index.docker.io/bitnami/redis", want: inuse.Ref{Host: "docker.io", Repository: "bitnami/redis", Tag: "latest"}},
		{in: "bitnami/redis:7", want: inuse.Ref{Host: "docker.io", Repository: "bitnami/redis", Tag: "7"}},
		{in: "localhost:5000/team/app:sha-1", want: inuse.Ref{Host: "localhost:5000", Repository: "team/app", Tag: "sha-1"}},
		{in: "localhost/app", want: inuse.Ref{Host: "localhost", Repository: "app", Tag: "latest"}},
		{in: "GHCR.io/org/app@sha256:" + hex64, want: inuse.Ref{Host: "ghcr.io", Repository: "org/app", Digest: "sha256:" + hex64}},
		{in: "ghcr.io/org/app:v1@sha256:" + hex64, want: inuse.Ref{Host: "ghcr.io", Repository: "org/app", Tag: "v1", Digest: "sha256:" + hex64}},
		{in: "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v2",
			want: inuse.Ref{Host: "123456789012.dkr.ecr.us-east-1.amazonaws.com", Repository: "team/app", Tag: "v2"}},
		{in: "", wantErr: "empty"},
		{in: "ghcr.io/org/app@sha256:abc", wantErr: "not a digest"},
		{in: "ghcr.io/org/App:v1", wantErr: "not a repository path"},
		{in: "ghcr.io/org/app:{{ .Values.tag }}", wantErr: "not a tag"},
		{in: "ghcr.io//app", wantErr: "not a repository path"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := inuse.ParseRef(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseRef(%q) = %+v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestProtect(t *testing.T) {
	t.Parallel()
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	inv := &inventory.Inventory{Images: []inventory.Image{
		{Digest: d("a"), Tags: []string{"v1", "latest"}},
		{Digest: d("b"), Tags: []string{"v2"}},
		{Digest: d("c")},
		{Digest: d("e")},
	}}
	uses := []inuse.Use{
		{Image: "localhost:5000/team/app:v1", Where: "kubernetes:prod/Deployment/api container api"},
		{Image: "localhost:5000/team/app:v2", Digest: d("c"), Where: "kubernetes:prod/Pod/api-1 container api"},
		{Image: "localhost:5000/team/app@" + d("e"), Where: "manifests:deploy.yaml Deployment/worker container w"},
		{Image: "localhost:5000/team/app", Where: "compose:web"},
		{Image: "localhost:5000/team/app:gone", Where: "ecs:prod/service/old deployment ACTIVE container app"},
		{Image: "localhost:5000/team/other:v2", Where: "kubernetes:prod/Deployment/other container o"},
		{Image: "LOCALHOST:5000/team/app:v1", Where: "kubernetes:dev/Deployment/api container api"},
		{Image: "ghcr.io/org/thing:{{ .Values.tag }}", Unresolved: "templated", Where: "manifests:other.yaml"},
		{Image: "localhost:5000/team/app:${TAG}", Unresolved: "templated", Where: "manifests:compose.yaml web"},
		{Image: "{{ .Values.image }}", Unresolved: "templated", Where: "manifests:any.yaml"},
	}
	got := inuse.Protect(uses, "localhost:5000", "team/app", inv)
	want := inuse.Protection{
		Digests: map[string]string{
			d("a"): "compose:web; kubernetes:dev/Deployment/api container api; kubernetes:prod/Deployment/api container api",
			d("c"): "kubernetes:prod/Pod/api-1 container api",
			d("e"): "manifests:deploy.yaml Deployment/worker container w",
		},
		Problems: []string{
			`manifests:any.yaml: "{{ .Values.image }}": templated`,
			`manifests:compose.yaml web: "localhost:5000/team/app:${TAG}": templated`,
		},
		Notes: []string{"ecs:prod/service/old deployment ACTIVE container app runs localhost:5000/team/app:gone, a tag the repository does not have now"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Protect() (-want +got):\n%s", diff)
	}
}
