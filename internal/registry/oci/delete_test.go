package oci

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// imagesOf reads repo with a fresh client and returns its images by digest.
func imagesOf(t *testing.T, host, repo string) map[string]inventory.Image {
	t.Helper()
	inv, err := newClient(t, host, Options{}).Inventory(context.Background(), repo)
	if err != nil {
		t.Fatalf("Inventory() = %v", err)
	}
	out := map[string]inventory.Image{}
	for _, img := range inv.Images {
		out[img.Digest] = img
	}
	return out
}

// kinds returns the requests counted between before and after, by kind, without zeros.
func kinds(before, after registry.Requests) map[registry.Kind]int {
	out := map[registry.Kind]int{}
	for k, n := range after.ByKind {
		if d := n - before.ByKind[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// TestDeleteKnownSendsOneRequest deletes a buildx build (index, image, attestation) with
// what the inventory knows: one DELETE each, nothing read first; deleting again is one
// DELETE answering 404, an error wrapping ErrNotFound.
func TestDeleteKnownSendsOneRequest(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			const repo = "team/app"
			b := registrytest.PushBuild(t, host, repo, "sha-1", registrytest.BuildOptions{Created: time.Now().Add(-time.Hour)})
			c := newClient(t, host, Options{})
			inv, err := c.Inventory(context.Background(), repo)
			if err != nil {
				t.Fatal(err)
			}
			byDigest := map[string]inventory.Image{}
			for _, img := range inv.Images {
				byDigest[img.Digest] = img
			}
			order := []string{b.Index, b.Images["linux/amd64"], b.Attestations["linux/amd64"]}
			for _, pass := range []struct {
				name    string
				wantErr error
			}{{"first", nil}, {"again", registry.ErrNotFound}} {
				for _, d := range order {
					before := c.Stats()
					err := c.DeleteKnown(context.Background(), repo, byDigest[d])
					if !errors.Is(err, pass.wantErr) || (pass.wantErr == nil) != (err == nil) {
						t.Errorf("%s DeleteKnown(%s) = %v, want %v", pass.name, inventory.ShortDigest(d), err, pass.wantErr)
					}
					if diff := cmp.Diff(map[registry.Kind]int{registry.KindManifestDELETE: 1}, kinds(before, c.Stats())); diff != "" {
						t.Errorf("%s DeleteKnown(%s) requests (-want +got):\n%s", pass.name, inventory.ShortDigest(d), diff)
					}
				}
			}
			if left := imagesOf(t, host, repo); len(left) != 0 {
				t.Errorf("the repository still holds %d manifests", len(left))
			}
		})
	}
}

// TestDeleteKnownKeepsReferrersIndexes deletes referrers with what the inventory knows. On a
// registry without the referrers API, the subject's referrers index (sha256-<hex>) loses
// exactly the deleted referrer, also when two referrers of one subject are deleted at once,
// and goes when it lists nothing more; the index itself is deleted with one DELETE.
func TestDeleteKnownKeepsReferrersIndexes(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			const repo = "team/app"
			subject := registrytest.PushImage(t, host, repo, "v1", registrytest.ImageOptions{Created: time.Now().Add(-time.Hour)})
			var sigs []string
			for range 4 {
				sigs = append(sigs, registrytest.PushReferrer(t, host, repo, subject, "application/vnd.example.sig"))
			}
			c := newClient(t, host, Options{})
			inv, err := c.Inventory(context.Background(), repo)
			if err != nil {
				t.Fatal(err)
			}
			byDigest := map[string]inventory.Image{}
			refIndex := ""
			for _, img := range inv.Images {
				byDigest[img.Digest] = img
				if slices.Contains(img.Tags, strings.Replace(subject, ":", "-", 1)) {
					refIndex = img.Digest
				}
			}
			if (refIndex == "") != reg.referrersAPI {
				t.Fatalf("referrers index %q on a registry with the referrers API: %v", refIndex, reg.referrersAPI)
			}

			// One referrer, then two at once.
			before := c.Stats()
			if err := c.DeleteKnown(context.Background(), repo, byDigest[sigs[0]]); err != nil {
				t.Fatalf("DeleteKnown(referrer) = %v", err)
			}
			want := map[registry.Kind]int{registry.KindManifestDELETE: 1}
			if !reg.referrersAPI {
				// The index read by tag, the new one pushed (a PUT, counted as other), the old
				// one deleted.
				want = map[registry.Kind]int{registry.KindManifestGET: 1, registry.KindOther: 1, registry.KindManifestDELETE: 2}
			}
			if diff := cmp.Diff(want, kinds(before, c.Stats())); diff != "" {
				t.Errorf("DeleteKnown(referrer) requests (-want +got):\n%s", diff)
			}
			var wg sync.WaitGroup
			for _, d := range sigs[1:3] {
				wg.Go(func() {
					if err := c.DeleteKnown(context.Background(), repo, byDigest[d]); err != nil {
						t.Errorf("DeleteKnown(%s) = %v", inventory.ShortDigest(d), err)
					}
				})
			}
			wg.Wait()

			left := imagesOf(t, host, repo)
			for _, d := range sigs[:3] {
				if _, ok := left[d]; ok {
					t.Errorf("deleted referrer %s is still there", inventory.ShortDigest(d))
				}
			}
			if _, ok := left[sigs[3]]; !ok {
				t.Errorf("the referrer not deleted is gone")
			}
			if !reg.referrersAPI {
				var lists [][]string
				for _, img := range left {
					if slices.Contains(img.Tags, strings.Replace(subject, ":", "-", 1)) {
						var children []string
						for _, ch := range img.Children {
							children = append(children, ch.Digest)
						}
						lists = append(lists, children)
					}
				}
				if diff := cmp.Diff([][]string{{sigs[3]}}, lists); diff != "" {
					t.Errorf("referrers index after the deletions (-want +got):\n%s", diff)
				}
				if _, ok := left[refIndex]; ok {
					t.Errorf("the replaced referrers index %s is still there", inventory.ShortDigest(refIndex))
				}
				// The index that remains is bookkeeping: deleting it is one DELETE.
				var idx inventory.Image
				for _, img := range left {
					if slices.Contains(img.Tags, strings.Replace(subject, ":", "-", 1)) {
						idx = img
					}
				}
				before = c.Stats()
				if err := c.DeleteKnown(context.Background(), repo, idx); err != nil {
					t.Fatalf("DeleteKnown(referrers index) = %v", err)
				}
				if diff := cmp.Diff(map[registry.Kind]int{registry.KindManifestDELETE: 1}, kinds(before, c.Stats())); diff != "" {
					t.Errorf("DeleteKnown(referrers index) requests (-want +got):\n%s", diff)
				}
				// With its index gone, the last referrer needs no bookkeeping: one GET that
				// finds no index, one DELETE.
				before = c.Stats()
				if err := c.DeleteKnown(context.Background(), repo, byDigest[sigs[3]]); err != nil {
					t.Fatalf("DeleteKnown(last referrer) = %v", err)
				}
				want := map[registry.Kind]int{registry.KindManifestGET: 1, registry.KindManifestDELETE: 1}
				if diff := cmp.Diff(want, kinds(before, c.Stats())); diff != "" {
					t.Errorf("DeleteKnown(last referrer) requests (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestDeleteKnownErrors maps what a registry answers a DELETE with onto the sentinels apply
// acts on.
func TestDeleteKnownErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		body   string
		want   error
	}{
		{http.StatusConflict, `{"errors":[{"code":"DENIED","message":"manifest is referenced by an index"}]}`, registry.ErrReferenced},
		{http.StatusNotFound, ``, registry.ErrNotFound},
		{http.StatusNotFound, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, registry.ErrNotFound},
		{http.StatusMethodNotAllowed, `{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`, registry.ErrUnsupported},
		{http.StatusForbidden, ``, registry.ErrDenied},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			var deletes int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.Method != http.MethodDelete {
					t.Errorf("unexpected request %s %s", req.Method, req.URL.Path)
				}
				mu.Lock()
				deletes++
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, strings.TrimPrefix(srv.URL, "http://"), Options{})
			img := inventory.Image{Digest: "sha256:" + strings.Repeat("ab", 32), MediaType: inventory.MediaTypeOCIManifest}
			err := c.DeleteKnown(context.Background(), "team/app", img)
			if !errors.Is(err, tt.want) {
				t.Errorf("DeleteKnown() = %v, want %v", err, tt.want)
			}
			if deletes != 1 {
				t.Errorf("DeleteKnown() sent %d DELETEs, want 1", deletes)
			}
		})
	}
}
