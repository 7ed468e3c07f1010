package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// expireOld expires images tagged old* pushed more than a day ago.
const expireOld = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["old"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`

// sharedBuilds pushes what issue 8 describes: a build tagged old (an index listing a
// platform image and its attestation), and an index tagged prod that lists the same two.
// It returns the build and prod's digest.
func sharedBuilds(t *testing.T, host, repo string) (registrytest.Build, string) {
	t.Helper()
	old := registrytest.PushBuild(t, host, repo, "old", registrytest.BuildOptions{Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	prod := registrytest.PushIndex(t, host, repo, "prod", old.Images["linux/amd64"], old.Attestations["linux/amd64"])
	return old, prod
}

// lyingGET makes a proxy answer 404 to GET of the manifest dgst of repo, by digest and by
// each of tags, while HEAD still answers 200.
func lyingGET(repo, dgst string, tags ...string) func(*http.Request) bool {
	return func(req *http.Request) bool {
		if req.Method != http.MethodGet {
			return false
		}
		ref, ok := strings.CutPrefix(req.URL.Path, "/v2/"+repo+"/manifests/")
		return ok && (ref == dgst || slices.Contains(tags, ref))
	}
}

// checkBlocked checks that inv names want as unreadable, lists it among its images without
// children, and that a plan expiring the old build keeps everything and says why.
func checkBlocked(t *testing.T, inv *inventory.Inventory, want []inventory.Unreadable) {
	t.Helper()
	if diff := cmp.Diff(want, inv.Unreadable); diff != "" {
		t.Errorf("Inventory().Unreadable (-want +got):\n%s", diff)
	}
	for _, u := range want {
		i := slices.IndexFunc(inv.Images, func(img inventory.Image) bool { return img.Digest == u.Digest })
		if i < 0 {
			t.Errorf("Inventory().Images lacks the unreadable %s", u.Digest)
			continue
		}
		if img := inv.Images[i]; !slices.Equal(img.Tags, u.Tags) || img.Children != nil {
			t.Errorf("unreadable image %s: tags %v, children %v; want tags %v, children unknown (nil)", u.Digest, img.Tags, img.Children, u.Tags)
		}
	}
	if !slices.ContainsFunc(inv.Notes, func(n string) bool { return strings.Contains(n, "could not be read") }) {
		t.Errorf("Inventory().Notes = %q, want one about the unreadable manifests", inv.Notes)
	}

	pol, err := policy.Load([]byte(expireOld))
	if err != nil {
		t.Fatal(err)
	}
	pl := plan.Build(pol, inv, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), plan.Options{})
	for _, it := range pl.Images {
		if it.Action != policy.Keep || !strings.Contains(it.Reason, "could not be read") {
			t.Errorf("plan: %s %v %s (%s); want keep, because a manifest could not be read", it.Action, it.Tags, inventory.ShortDigest(it.Digest), it.Reason)
		}
	}
	if pl.Blocked == "" || pl.Summary.Expire != 0 || len(pl.Unreadable) != len(want) {
		t.Errorf("plan: blocked %q, %d to expire, %d unreadable; want blocked, none to expire, %d unreadable", pl.Blocked, pl.Summary.Expire, len(pl.Unreadable), len(want))
	}
}

// TestUnreadableManifest reproduces issue 8 (failure 4): a tagged index whose GET answers
// 404 while its HEAD answers 200 must not vanish from the inventory, or the children it
// shares with an expired index look unreferenced and go.
func TestUnreadableManifest(t *testing.T) {
	t.Parallel()

	t.Run("tagged", func(t *testing.T) {
		t.Parallel()
		host := registrytest.StartDistribution(t)
		repo := registrytest.RepoName(t)
		old, prod := sharedBuilds(t, host, repo)
		proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{NotFound: lyingGET(repo, prod, "prod")})
		dir := t.TempDir()
		want := []inventory.Unreadable{{Digest: prod, Tags: []string{"prod"}, Reason: "GET answers 404 although HEAD answers 200"}}

		// Cold: GET by tag answers 404, HEAD of the tag 200.
		inv, err := newClient(t, proxy.Host, Options{CacheDir: dir}).Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		checkBlocked(t, inv, want)
		for _, d := range []string{old.Index, old.Images["linux/amd64"], old.Attestations["linux/amd64"]} {
			if !slices.ContainsFunc(inv.Images, func(img inventory.Image) bool { return img.Digest == d }) {
				t.Errorf("Inventory() lacks %s", d)
			}
		}

		// Warm: HEAD of the tag answers 200, GET of the digest (not in the cache) 404.
		c := newClient(t, proxy.Host, Options{CacheDir: dir})
		inv, err = c.Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("second Inventory() error = %v", err)
		}
		if s := c.Stats(); s.ByKind[registry.KindManifestHEAD] == 0 {
			t.Errorf("second Inventory() Stats = %+v, want HEADs of the tags (a warm run)", s)
		}
		checkBlocked(t, inv, want)
	})

	t.Run("remembered", func(t *testing.T) {
		t.Parallel()
		host := registrytest.StartDistribution(t)
		repo := registrytest.RepoName(t)
		_, prod := sharedBuilds(t, host, repo)
		var lying atomic.Bool
		lie := lyingGET(repo, prod)
		proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{NotFound: func(req *http.Request) bool {
			return lying.Load() && lie(req)
		}})
		dir := t.TempDir()
		if _, err := newClient(t, proxy.Host, Options{CacheDir: dir}).Inventory(t.Context(), repo); err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		// prod moves on; the history remembers the index it left, which HEAD finds and GET
		// (the cached copy gone) does not.
		registrytest.PushBuild(t, host, repo, "prod", registrytest.BuildOptions{})
		if err := os.RemoveAll(filepath.Join(dir, kindManifest)); err != nil {
			t.Fatal(err)
		}
		lying.Store(true)
		inv, err := newClient(t, proxy.Host, Options{CacheDir: dir}).Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		checkBlocked(t, inv, []inventory.Unreadable{{Digest: prod, Reason: "GET answers 404 although HEAD answers 200"}})

		// The history does not forget it as gone.
		var h history
		b, err := os.ReadFile(filepath.Join(dir, "tags", strings.ReplaceAll(proxy.Host, ":", "_"), repo+".json"))
		if err == nil {
			err = json.Unmarshal(b, &h)
		}
		if err != nil {
			t.Fatalf("reading the tag history: %v", err)
		}
		if _, ok := h.Manifests[prod]; !ok {
			t.Errorf("the tag history forgot the unreadable %s", prod)
		}
	})

	t.Run("child", func(t *testing.T) {
		t.Parallel()
		host := registrytest.StartDistribution(t)
		repo := registrytest.RepoName(t)
		old, _ := sharedBuilds(t, host, repo)
		image := old.Images["linux/amd64"]
		proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{NotFound: lyingGET(repo, image)})
		inv, err := newClient(t, proxy.Host, Options{}).Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		checkBlocked(t, inv, []inventory.Unreadable{{Digest: image, Reason: "GET answers 404 although HEAD answers 200"}})
	})

	t.Run("child gone", func(t *testing.T) {
		t.Parallel()
		host := registrytest.StartDistribution(t)
		repo := registrytest.RepoName(t)
		old, _ := sharedBuilds(t, host, repo)
		att := old.Attestations["linux/amd64"]
		c := newClient(t, host, Options{})
		if err := c.Delete(t.Context(), repo, att); err != nil {
			t.Fatalf("Delete() error = %v", err)
		}
		// HEAD and GET both answer 404: the child is gone, and nothing is unreadable.
		inv, err := c.Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		if len(inv.Unreadable) != 0 || slices.ContainsFunc(inv.Images, func(img inventory.Image) bool { return img.Digest == att }) {
			t.Errorf("Inventory() after deleting a child: unreadable %v, images include it: %v; want gone", inv.Unreadable,
				slices.ContainsFunc(inv.Images, func(img inventory.Image) bool { return img.Digest == att }))
		}
	})

	t.Run("tag deleted", func(t *testing.T) {
		t.Parallel()
		host := registrytest.StartDistribution(t)
		repo := registrytest.RepoName(t)
		_, prod := sharedBuilds(t, host, repo)
		// The tag list names prod, but HEAD and GET of it answer 404: deleted while listing.
		proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{NotFound: func(req *http.Request) bool {
			return strings.HasSuffix(req.URL.Path, "/manifests/prod") || strings.HasSuffix(req.URL.Path, "/manifests/"+prod)
		}})
		inv, err := newClient(t, proxy.Host, Options{}).Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		if len(inv.Unreadable) != 0 || slices.ContainsFunc(inv.Images, func(img inventory.Image) bool { return img.Digest == prod }) {
			t.Errorf("Inventory() with prod deleted while listing: unreadable %v; want prod gone", inv.Unreadable)
		}
	})
}

// putRaw pushes body as a manifest of mediaType tagged tag, as it is, and returns its digest.
func putRaw(t *testing.T, host, repo, tag, mediaType string, body []byte) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://"+host+"/v2/"+repo+"/manifests/"+tag, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("pushing %s: %v", tag, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("pushing %s: %s", tag, resp.Status)
	}
	return digest.FromBytes(body).String()
}

// TestUnparseableManifest checks that a manifest shipshape cannot parse, or will not read
// for its size, is unreadable rather than a manifest without children: it may be an index.
func TestUnparseableManifest(t *testing.T) {
	t.Parallel()
	// go-containerregistry's registry stores any manifest that is not an index as it is.
	host := registrytest.NewInProcess(t)
	repo := registrytest.RepoName(t)
	sharedBuilds(t, host, repo)
	broken := putRaw(t, host, repo, "broken", inventory.MediaTypeOCIManifest, []byte("{not json"))
	large := []byte(`{"schemaVersion":2,"annotations":{"x":"` + strings.Repeat("x", MaxManifestBytes) + `"}}`)
	huge := putRaw(t, host, repo, "huge", inventory.MediaTypeOCIManifest, large)
	want := []inventory.Unreadable{
		{Digest: broken, Tags: []string{"broken"}, Reason: "the manifest cannot be parsed: decoding manifest: invalid character 'n' looking for beginning of object key string"},
		{Digest: huge, Tags: []string{"huge"}, Reason: fmt.Sprintf("%d bytes, more than the %d accepted", len(large), MaxManifestBytes)},
	}
	slices.SortFunc(want, func(a, b inventory.Unreadable) int { return strings.Compare(a.Digest, b.Digest) })
	dir := t.TempDir()
	for _, run := range []string{"cold", "warm"} {
		inv, err := newClient(t, host, Options{CacheDir: dir}).Inventory(t.Context(), repo)
		if err != nil {
			t.Fatalf("%s Inventory() error = %v", run, err)
		}
		checkBlocked(t, inv, want)
	}
}

// TestManifestUnreadable checks the re-check apply makes: a manifest HEAD finds but GET does
// not is an error, not "gone".
func TestManifestUnreadable(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	repo := registrytest.RepoName(t)
	_, prod := sharedBuilds(t, host, repo)
	proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{NotFound: lyingGET(repo, prod)})
	c := newClient(t, proxy.Host, Options{})
	_, err := c.Manifest(t.Context(), repo, prod)
	if err == nil || errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "GET answers 404 although HEAD answers 200") {
		t.Errorf("Manifest() of a manifest HEAD finds and GET does not: error = %v, want one saying GET answers 404, not ErrNotFound", err)
	}
	missing := "sha256:" + strings.Repeat("ab", 32)
	if _, err := c.Manifest(t.Context(), repo, missing); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Manifest() of a missing manifest: error = %v, want ErrNotFound", err)
	}
}
