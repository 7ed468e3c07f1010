package oci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// fixedPusher pushes content whose every byte is fixed, so that digests, and the inventory
// of what it pushed, are the same on every run.
type fixedPusher struct {
	t    testing.TB
	repo *remote.Repository
}

func newFixedPusher(t testing.TB, host, repo string) *fixedPusher {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	return &fixedPusher{t: t, repo: r}
}

// push pushes b as content of mediaType (a blob, or a manifest tagged with each of tags),
// and returns its descriptor.
func (p *fixedPusher) push(mediaType string, b []byte, tags ...string) ocispec.Descriptor {
	p.t.Helper()
	desc := content.NewDescriptorFromBytes(mediaType, b)
	if err := p.repo.Push(p.t.Context(), desc, bytes.NewReader(b)); err != nil {
		p.t.Fatalf("pushing %s: %v", desc.Digest, err)
	}
	for _, tag := range tags {
		if err := p.repo.PushReference(p.t.Context(), desc, bytes.NewReader(b), tag); err != nil {
			p.t.Fatalf("tagging %s as %s: %v", desc.Digest, tag, err)
		}
	}
	return desc
}

// json pushes v, marshalled, as push does.
func (p *fixedPusher) json(mediaType string, v any, tags ...string) ocispec.Descriptor {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.push(mediaType, b, tags...)
}

// image pushes an image manifest with one layer of the bytes seed names, whose config has
// created and labels, and annotations; it returns the manifest's descriptor.
func (p *fixedPusher) image(seed string, mediaType string, created time.Time, labels, annotations map[string]string, tags ...string) ocispec.Descriptor {
	p.t.Helper()
	configType, layerType := ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageLayer
	if mediaType == mediaTypeDockerManifest {
		configType, layerType = "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"
	}
	layer := p.push(layerType, []byte("layer of "+seed))
	cfg := map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Labels": labels},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layer.Digest.String()}},
	}
	if !created.IsZero() {
		cfg["created"] = created.Format(time.RFC3339)
	}
	config := p.json(configType, cfg)
	return p.json(mediaType, map[string]any{
		"schemaVersion": 2, "mediaType": mediaType, "config": config, "layers": []ocispec.Descriptor{layer},
		"annotations": annotations,
	}, tags...)
}

// attestation pushes a buildx provenance attestation manifest of subject.
func (p *fixedPusher) attestation(subject ocispec.Descriptor) ocispec.Descriptor {
	p.t.Helper()
	stmt := p.push("application/vnd.in-toto+json", []byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"`+subject.Digest.Encoded()+`"}}]}`))
	config := p.json(ocispec.MediaTypeImageConfig, map[string]any{"architecture": "unknown", "os": "unknown", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{stmt.Digest.String()}}})
	d := p.json(ocispec.MediaTypeImageManifest, ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: config, Layers: []ocispec.Descriptor{stmt}, Versioned: specs.Versioned{SchemaVersion: 2}})
	d.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	d.Annotations = map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation, "vnd.docker.reference.digest": subject.Digest.String()}
	return d
}

// index pushes an index of children, with annotations.
func (p *fixedPusher) index(mediaType string, children []ocispec.Descriptor, annotations map[string]string, tags ...string) ocispec.Descriptor {
	p.t.Helper()
	return p.json(mediaType, map[string]any{"schemaVersion": 2, "mediaType": mediaType, "manifests": children, "annotations": annotations}, tags...)
}

const mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

// pushFixedRepository pushes a repository with a little of everything Inventory reads, every
// byte of it fixed: buildx builds (an annotated index, its annotated image and an
// attestation), some with two tags; builds without annotations, whose images have labels
// and a time only in their configs; a Docker manifest list; an index of indexes; a platform
// image that also has a tag of its own; a referrer; a cosign signature; an image of a
// reproducible build (1970).
func pushFixedRepository(t testing.TB, host, repo string) {
	t.Helper()
	p := newFixedPusher(t, host, repo)
	at := func(i int) time.Time {
		return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 90 * time.Minute)
	}
	amd64 := &ocispec.Platform{OS: "linux", Architecture: "amd64"}

	var builds []ocispec.Descriptor
	var images []ocispec.Descriptor
	for i := range 12 {
		stamp := at(i).Format(time.RFC3339)
		rev := fmt.Sprintf("%040d", i)
		// The config's org.opencontainers.image.* labels are the manifest's annotations too.
		img := p.image(fmt.Sprintf("build %d", i), ocispec.MediaTypeImageManifest, at(i),
			map[string]string{ocispec.AnnotationCreated: stamp, ocispec.AnnotationRevision: rev, "maintainer": "ci"},
			map[string]string{ocispec.AnnotationCreated: stamp, ocispec.AnnotationRevision: rev})
		img.Platform = amd64
		tags := []string{fmt.Sprintf("sha-%03d", i)}
		if i%3 == 2 {
			tags = append(tags, fmt.Sprintf("v1.%d", i))
		}
		builds = append(builds, p.index(ocispec.MediaTypeImageIndex, []ocispec.Descriptor{img, p.attestation(img)},
			map[string]string{ocispec.AnnotationCreated: stamp}, tags...))
		images = append(images, img)
	}
	for i := range 3 {
		img := p.image(fmt.Sprintf("plain %d", i), ocispec.MediaTypeImageManifest, at(20+i),
			map[string]string{ocispec.AnnotationRevision: fmt.Sprintf("%040d", 100+i), ocispec.AnnotationSource: "https://example.com/app"}, nil)
		img.Platform = amd64
		p.index(ocispec.MediaTypeImageIndex, []ocispec.Descriptor{img, p.attestation(img)}, nil, fmt.Sprintf("plain-%d", i))
	}
	var docker []ocispec.Descriptor
	for _, arch := range []string{"amd64", "arm64"} {
		img := p.image("docker "+arch, mediaTypeDockerManifest, at(30), nil, nil)
		img.Platform = &ocispec.Platform{OS: "linux", Architecture: arch}
		docker = append(docker, img)
	}
	p.index("application/vnd.docker.distribution.manifest.list.v2+json", docker, nil, "docker")
	p.index(ocispec.MediaTypeImageIndex, builds[1:3], map[string]string{ocispec.AnnotationCreated: at(40).Format(time.RFC3339)}, "bundle")
	// The platform image of build 0, tagged too.
	p.push(ocispec.MediaTypeImageManifest, mustFetch(t, p, images[0]), "sha-000-amd64")

	subject := images[3]
	subject.Platform = nil
	sbom := p.push("application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`))
	empty := p.push(ocispec.MediaTypeEmptyJSON, []byte("{}"))
	p.json(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: "application/spdx+json", Config: empty, Layers: []ocispec.Descriptor{sbom}, Subject: &subject})

	sig := p.push("application/vnd.dev.cosign.simplesigning.v1+json", []byte(`{"critical":{"image":{"docker-manifest-digest":"`+builds[4].Digest.String()+`"}}}`))
	sigConfig := p.json(ocispec.MediaTypeImageConfig, map[string]any{"architecture": "", "os": "", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{sig.Digest.String()}}})
	p.json(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: sigConfig, Layers: []ocispec.Descriptor{sig}}, "sha256-"+builds[4].Digest.Encoded()+".sig")

	epoch := time.Unix(0, 0).UTC()
	p.image("epoch", ocispec.MediaTypeImageManifest, epoch, nil, map[string]string{ocispec.AnnotationCreated: epoch.Format(time.RFC3339)}, "epoch")
}

// mustFetch returns the manifest desc describes.
func mustFetch(t testing.TB, p *fixedPusher, desc ocispec.Descriptor) []byte {
	t.Helper()
	desc.Platform = nil
	b, err := content.FetchAll(t.Context(), p.repo, desc)
	if err != nil {
		t.Fatalf("fetching %s: %v", desc.Digest, err)
	}
	return b
}

// snapshotOf writes inv as a snapshot, with the capture time and host fixed.
func snapshotOf(t *testing.T, inv *inventory.Inventory) string {
	t.Helper()
	fixed := *inv
	fixed.Repository = "registry.test/fixed"
	fixed.CapturedAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := inventory.WriteSnapshot(&b, &fixed); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// jitter delays each response by a random time of up to a few milliseconds, so that
// concurrent requests complete in a different order on every run.
type jitter struct {
	next http.RoundTripper
	mu   sync.Mutex
	rng  *rand.Rand
}

func (j *jitter) RoundTrip(req *http.Request) (*http.Response, error) {
	j.mu.Lock()
	d := time.Duration(j.rng.IntN(3000)) * time.Microsecond
	j.mu.Unlock()
	time.Sleep(d)
	return j.next.RoundTrip(req)
}

// TestInventoryMatchesGolden checks that Inventory finds what the sequential, level by level
// implementation it replaced found, whatever the order requests complete in: with one
// request at a time, with many in flight and responses delayed at random, and with the tags
// listed a few to a page.
func TestInventoryMatchesGolden(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			repo := "fixed/app"
			pushFixedRepository(t, host, repo)
			// What every run sends, whatever its order: one GET per tag, and one per other
			// manifest, as the sequential implementation did; but 7 configs, not 19: those
			// of the 12 images whose annotation gives their time are not read. With the
			// referrers API, one referrers request per manifest and the probe.
			want := map[shipreg.Kind]int{shipreg.KindTagList: 1, shipreg.KindManifestGET: 57, shipreg.KindBlobGET: 7, shipreg.KindReferrers: 1}
			if reg.referrersAPI {
				want[shipreg.KindReferrers] += 53
			}
			for _, tc := range []struct {
				name        string
				concurrency int
				pageSize    int
				jitter      bool
			}{
				{"sequential", 1, 0, false},
				{"default", 0, 0, false},
				{"jittered", 16, 0, true},
				{"pages", 4, 3, true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					opts := Options{Concurrency: tc.concurrency}
					if tc.jitter {
						opts.Transport = &jitter{next: http.DefaultTransport, rng: rand.New(rand.NewPCG(uint64(len(tc.name)), 7))}
					}
					for run := range 3 {
						c := newClient(t, host, opts)
						if tc.pageSize > 0 {
							c.tagPageSize = tc.pageSize
						}
						inv, err := c.Inventory(t.Context(), repo)
						if err != nil {
							t.Fatalf("Inventory() error = %v", err)
						}
						if tc.pageSize == 0 {
							if diff := cmp.Diff(want, c.Stats().ByKind); diff != "" {
								t.Errorf("run %d: Inventory() requests (-want +got):\n%s", run, diff)
							}
						}
						if run == 0 && tc.name == "sequential" {
							golden.Check(t, "fixed-"+reg.name+".json", snapshotOf(t, inv))
							continue
						}
						want, err := os.ReadFile(filepath.Join("testdata", "golden", "fixed-"+reg.name+".json"))
						if err != nil {
							t.Fatal(err)
						}
						if diff := cmp.Diff(string(want), snapshotOf(t, inv)); diff != "" {
							t.Fatalf("run %d: Inventory() differs from the golden file (-want +got):\n%s", run, diff)
						}
					}
				})
			}
		})
	}
}

// blobLog records the digests of the blobs a Client GETs.
type blobLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []string
}

func (l *blobLog) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, d, ok := strings.Cut(req.URL.Path, "/blobs/"); ok && req.Method == http.MethodGet {
		l.mu.Lock()
		l.got = append(l.got, d)
		l.mu.Unlock()
	}
	return l.next.RoundTrip(req)
}

func (l *blobLog) fetched() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(slices.Values(l.got))
}

// TestConfigsReadOnlyWhenNeeded checks that Inventory leaves unread the config of an image
// whose manifest's own created annotation gives its time, and reads every other: that of an
// image without the annotation, of an image whose index alone is annotated, and of an image
// whose annotation is a reproducible-build epoch; with ConfigLabels, and in Manifest (which
// labels check reads), it reads them all.
func TestConfigsReadOnlyWhenNeeded(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := registrytest.RepoName(t)
	p := newFixedPusher(t, host, repo)
	day := func(d int) time.Time { return time.Date(2026, 5, d, 0, 0, 0, 0, time.UTC) }
	rev := map[string]string{ocispec.AnnotationRevision: "abc123"}
	created := func(t time.Time) map[string]string {
		return map[string]string{ocispec.AnnotationCreated: t.Format(time.RFC3339)}
	}
	configOf := func(desc ocispec.Descriptor) string {
		var m ocispec.Manifest
		if err := json.Unmarshal(mustFetch(t, p, desc), &m); err != nil {
			t.Fatal(err)
		}
		return m.Config.Digest.String()
	}

	annotated := p.image("annotated", ocispec.MediaTypeImageManifest, day(1), rev, created(day(2)), "annotated")
	plain := p.image("plain", ocispec.MediaTypeImageManifest, day(3), rev, nil, "plain")
	child := p.image("child", ocispec.MediaTypeImageManifest, day(4), rev, nil)
	child.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	index := p.index(ocispec.MediaTypeImageIndex, []ocispec.Descriptor{child}, created(day(5)), "index")
	epoch := p.image("epoch", ocispec.MediaTypeImageManifest, day(6), rev, created(time.Unix(0, 0).UTC()), "epoch")

	for _, tc := range []struct {
		name         string
		configLabels bool
		skipped      []ocispec.Descriptor
	}{
		{"default", false, []ocispec.Descriptor{annotated}},
		{"ConfigLabels", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &blobLog{next: http.DefaultTransport}
			c := newClient(t, host, Options{ConfigLabels: tc.configLabels, Transport: log})
			inv, err := c.Inventory(t.Context(), repo)
			if err != nil {
				t.Fatalf("Inventory() error = %v", err)
			}
			var want []string
			for _, d := range []ocispec.Descriptor{annotated, plain, child, epoch} {
				if !slices.ContainsFunc(tc.skipped, func(s ocispec.Descriptor) bool { return s.Digest == d.Digest }) {
					want = append(want, configOf(d))
				}
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, log.fetched()); diff != "" {
				t.Errorf("configs read (-want +got):\n%s", diff)
			}

			type facts struct {
				PushedAt time.Time
				Labels   map[string]string
			}
			got := make(map[string]facts)
			for _, img := range inv.Images {
				got[img.Digest] = facts{img.PushedAt, img.Labels}
			}
			annotatedLabels := map[string]string{ocispec.AnnotationCreated: day(2).Format(time.RFC3339)}
			if tc.configLabels {
				annotatedLabels[ocispec.AnnotationRevision] = "abc123"
			}
			wantFacts := map[string]facts{
				// The annotation, before the config's created time; labels from the
				// annotations alone unless the config is read.
				annotated.Digest.String(): {day(2), annotatedLabels},
				plain.Digest.String():     {day(3), rev},
				// The index's annotation gives the child its time; its config is read for
				// its labels.
				child.Digest.String(): {day(5), rev},
				index.Digest.String(): {day(5), created(day(5))},
				// The epoch counts as unknown: the config's time.
				epoch.Digest.String(): {day(6), map[string]string{ocispec.AnnotationCreated: time.Unix(0, 0).UTC().Format(time.RFC3339), ocispec.AnnotationRevision: "abc123"}},
			}
			if diff := cmp.Diff(wantFacts, got); diff != "" {
				t.Errorf("push times and labels (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("Manifest", func(t *testing.T) {
		log := &blobLog{next: http.DefaultTransport}
		img, err := newClient(t, host, Options{Transport: log}).Manifest(t.Context(), repo, annotated.Digest.String())
		if err != nil {
			t.Fatalf("Manifest() error = %v", err)
		}
		if diff := cmp.Diff([]string{configOf(annotated)}, log.fetched()); diff != "" {
			t.Errorf("configs read (-want +got):\n%s", diff)
		}
		if img.Labels[ocispec.AnnotationRevision] != "abc123" {
			t.Errorf("Manifest() labels = %v, want the config's revision", img.Labels)
		}
	})
}

// TestInventoryDoesNotWaitForLevels checks that the walk has no barrier between one level
// of the graph and the next: while the GET of one manifest is held, the config of a root
// read from another tag, and a grandchild read through another child, are read.
func TestInventoryDoesNotWaitForLevels(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := registrytest.RepoName(t)
	p := newFixedPusher(t, host, repo)
	day := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	p.image("slow", ocispec.MediaTypeImageManifest, day, nil, nil, "slow")
	quick := p.image("quick", ocispec.MediaTypeImageManifest, day, nil, nil, "quick")
	sibling := p.image("sibling", ocispec.MediaTypeImageManifest, day, nil, nil)
	grandchild := p.image("grandchild", ocispec.MediaTypeImageManifest, day, nil, nil)
	inner := p.index(ocispec.MediaTypeImageIndex, []ocispec.Descriptor{grandchild}, nil)
	p.index(ocispec.MediaTypeImageIndex, []ocispec.Descriptor{sibling, inner}, nil, "top")
	configOf := func(desc ocispec.Descriptor) string {
		var m ocispec.Manifest
		if err := json.Unmarshal(mustFetch(t, p, desc), &m); err != nil {
			t.Fatal(err)
		}
		return m.Config.Digest.String()
	}

	for _, tc := range []struct {
		name string
		held string // the reference whose manifest GET is held
		want string // the config read meanwhile
	}{
		// The sequential implementation read no config before every tag was resolved.
		{"roots", "slow", configOf(quick)},
		// Nor a grandchild before every child was read.
		{"children", sibling.Digest.String(), configOf(grandchild)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{Hold: func(req *http.Request) bool {
				return req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/manifests/"+tc.held)
			}})
			log := &blobLog{next: http.DefaultTransport}
			c := newClient(t, proxy.Host, Options{Concurrency: 4, Transport: log})
			done := make(chan error, 1)
			go func() {
				_, err := c.Inventory(t.Context(), repo)
				done <- err
			}()
			if err := proxy.WaitHeld(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Contains(log.fetched(), tc.want) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if !slices.Contains(log.fetched(), tc.want) {
				t.Errorf("config %s not read while the GET of %s was held; read: %v", tc.want, tc.held, log.fetched())
			}
			proxy.Release()
			if err := <-done; err != nil {
				t.Fatalf("Inventory() error = %v", err)
			}
		})
	}
}
