package oci

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestTagNamesAndResolve lists tags with one request and no HEAD, and resolves only the
// references asked for, one HEAD each, leaving out those the registry does not have.
func TestTagNamesAndResolve(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			const repo = "team/app"
			a := registrytest.PushImage(t, host, repo, "a", registrytest.ImageOptions{})
			b := registrytest.PushImage(t, host, repo, "b", registrytest.ImageOptions{})
			registrytest.Tag(t, host, repo, a, "c")
			c := newClient(t, host, Options{})

			before := c.Stats()
			names, err := c.TagNames(context.Background(), repo)
			if err != nil {
				t.Fatalf("TagNames() = %v", err)
			}
			slices.Sort(names)
			if diff := cmp.Diff([]string{"a", "b", "c"}, names); diff != "" {
				t.Errorf("TagNames() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[registry.Kind]int{registry.KindTagList: 1}, kinds(before, c.Stats())); diff != "" {
				t.Errorf("TagNames() requests (-want +got):\n%s", diff)
			}

			before = c.Stats()
			missing := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			got, err := c.Resolve(context.Background(), repo, []string{"a", "c", "gone", b, missing})
			if err != nil {
				t.Fatalf("Resolve() = %v", err)
			}
			want := map[string]string{"a": a, "c": a, b: b}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Resolve() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[registry.Kind]int{registry.KindManifestHEAD: 5}, kinds(before, c.Stats())); diff != "" {
				t.Errorf("Resolve() requests (-want +got):\n%s", diff)
			}
		})
	}
}
