package inuse_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

func TestRows(t *testing.T) {
	t.Parallel()
	d := "sha256:" + hex64
	uses := []inuse.Use{
		{Image: "nginx:1.27", Where: "kubernetes:prod/web"},
		{Image: "ghcr.io/org/app:v1", Where: "ecs:prod/api", Digest: d},
		{Image: "nginx:1.27", Where: "kubernetes:prod/web"}, // a duplicate
		{Image: "ghcr.io/org/app:${TAG}", Where: "manifests:compose.yaml", Unresolved: "templated"},
		{Image: "ghcr.io/org/app@nodigest", Where: "manifests:bad.yaml"},
	}
	want := []inuse.Row{
		{Image: "ghcr.io/org/app@nodigest", Where: "manifests:bad.yaml", Unresolved: `image reference "ghcr.io/org/app@nodigest": "nodigest" is not a digest`},
		{Image: "ghcr.io/org/app:${TAG}", Where: "manifests:compose.yaml", Unresolved: "templated"},
		{Repository: "docker.io/library/nginx", Tag: "1.27", Image: "nginx:1.27", Where: "kubernetes:prod/web"},
		{Repository: "ghcr.io/org/app", Digest: d, Tag: "v1", Image: "ghcr.io/org/app:v1", Where: "ecs:prod/api"},
	}
	if diff := cmp.Diff(want, inuse.Rows(uses)); diff != "" {
		t.Errorf("Rows() (-want +got):\n%s", diff)
	}
}

func TestResolveRows(t *testing.T) {
	t.Parallel()
	d := "sha256:" + hex64
	rows := inuse.Rows([]inuse.Use{
		{Image: "ghcr.io/org/app:v1", Where: "b"},
		{Image: "ghcr.io/org/app:gone", Where: "a"},
		{Image: "ghcr.io/org/other:v1", Where: "c"},
		{Image: "ghcr.io/org/app:${TAG}", Where: "d", Unresolved: "templated"},
	})
	got := inuse.ResolveRows(rows, "ghcr.io", "org/app", map[string]string{"v1": d})
	want := []inuse.Row{
		{Repository: "ghcr.io/org/app", Tag: "gone", Image: "ghcr.io/org/app:gone", Where: "a"},
		{Image: "ghcr.io/org/app:${TAG}", Where: "d", Unresolved: "templated"},
		{Repository: "ghcr.io/org/app", Digest: d, Tag: "v1", Image: "ghcr.io/org/app:v1", Where: "b"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResolveRows() (-want +got):\n%s", diff)
	}
}

func TestSplitRepository(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, host, path string }{
		{"localhost:5000/team/app", "localhost:5000", "team/app"},
		{"ghcr.io/org/app", "ghcr.io", "org/app"},
		{"localhost/app", "localhost", "app"},
		{"team/app", "", "team/app"},
		{"app", "", "app"},
	}
	for _, tt := range tests {
		if host, path := inuse.SplitRepository(tt.in); host != tt.host || path != tt.path {
			t.Errorf("SplitRepository(%q) = %q, %q, want %q, %q", tt.in, host, path, tt.host, tt.path)
		}
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	d := "sha256:" + hex64
	rows := []inuse.Row{
		{Image: "ghcr.io/org/app:${TAG}", Where: "manifests:compose.yaml", Unresolved: "templated"},
		{Repository: "ghcr.io/org/app", Digest: d, Tag: "v1", Image: "ghcr.io/org/app:v1", Where: "ecs:prod/api"},
	}
	tests := []struct {
		name string
		rows []inuse.Row
		json bool
		want string
	}{
		{"table", rows, false, "REPOSITORY       DIGEST               IMAGE               WHERE\n" +
			"ghcr.io/org/app  sha256:0123456789ab  ghcr.io/org/app:v1  ecs:prod/api\n" +
			"unresolved: manifests:compose.yaml: \"ghcr.io/org/app:${TAG}\": templated\n" +
			"1 image reference in use, 1 unresolved.\n"},
		{"empty table", nil, false, "REPOSITORY  DIGEST  IMAGE  WHERE\n0 image references in use.\n"},
		{"empty json", nil, true, "{\n  \"uses\": [],\n  \"failures\": []\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			var err error
			if tt.json {
				err = inuse.WriteJSON(&b, tt.rows, nil)
			} else {
				err = inuse.WriteTable(&b, tt.rows)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}
