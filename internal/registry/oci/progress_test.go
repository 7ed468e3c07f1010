package oci

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/progress/progresstest"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// noting notes each request it sends in a Recorder's event log, so that a test sees which
// phase it was sent in.
type noting struct {
	rec  *progresstest.Recorder
	base http.RoundTripper
}

func (n noting) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := "referrers"
	switch p := req.URL.Path; {
	case strings.HasSuffix(p, "/tags/list"):
		kind = "tags"
	case strings.Contains(p, "/manifests/"):
		kind = "manifest"
	case strings.Contains(p, "/blobs/"):
		kind = "blob"
	}
	n.rec.Note("request " + kind)
	return n.base.RoundTrip(req)
}

// imagesPhase matches an "images" phase that read all n manifests it found.
func imagesPhase(n int) func(progresstest.Phase) bool {
	return func(p progresstest.Phase) bool { return p.Name == "images" && p.Done == n && p.Total == n && p.Ended }
}

// phaseOf returns, for each kind of request, the phases it was sent in.
func phaseOf(events []string) map[string][]string {
	out := map[string][]string{}
	phase := "none"
	for _, e := range events {
		switch {
		case strings.HasPrefix(e, "phase "):
			phase = strings.Fields(e)[1]
		case strings.HasPrefix(e, "end "):
			phase = "none"
		case strings.HasPrefix(e, "request "):
			kind := strings.TrimPrefix(e, "request ")
			if !slices.Contains(out[kind], phase) {
				out[kind] = append(out[kind], phase)
			}
		}
	}
	return out
}

func TestInventoryReportsProgress(t *testing.T) {
	t.Parallel()
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			t.Parallel()
			host := reg.start(t)
			repo := registrytest.RepoName(t)
			fillRepository(t, host, repo)
			// Enough tags for several pages.
			img := registrytest.PushImage(t, host, repo, "extra-0", registrytest.ImageOptions{})
			for i := 1; i < 5; i++ {
				registrytest.Tag(t, host, repo, img, fmt.Sprintf("extra-%d", i))
			}
			dir := t.TempDir()

			var rec progresstest.Recorder
			c := newClient(t, host, Options{CacheDir: dir, Progress: &rec, Transport: noting{&rec, http.DefaultTransport}})
			c.tagPageSize = 3
			inv, err := c.Inventory(t.Context(), repo)
			if err != nil {
				t.Fatalf("Inventory() error = %v", err)
			}
			tags := 0
			for _, img := range inv.Images {
				tags += len(img.Tags)
			}

			events := rec.Events()
			if len(events) == 0 || events[0] != "phase tags 0/0" {
				t.Errorf("first event = %q, want the tags phase before any request", events[:min(1, len(events))])
			}
			// The tags phase while the tags are listed. The work is pipelined: a tag is
			// resolved, and its manifest's config and referrers read, as soon as its page
			// of the tag list arrives, so the requests of each kind may come in any phase
			// from the first; the registry that pages the list (InProcess, 3 tags a page)
			// has manifests read while it still lists tags.
			got := phaseOf(events)
			if diff := cmp.Diff([]string{"tags"}, got["tags"]); diff != "" {
				t.Errorf("tag list requests by phase (-want +got):\n%s", diff)
			}
			for kind, phases := range got {
				for _, p := range phases {
					if !slices.Contains([]string{"tags", "manifests", "images"}, p) {
						t.Errorf("%s request sent in phase %q, want one of tags, manifests, images\nevents: %q", kind, p, events)
					}
				}
			}
			if reg.referrersAPI && !slices.Contains(got["manifest"], "tags") {
				t.Errorf("manifest requests sent in phases %q, want some while the tags are still listed\nevents: %q", got["manifest"], events)
			}
			phases := rec.Phases()
			if names := rec.Names(); !slices.Equal(names, []string{"tags", "manifests", "images"}) {
				t.Errorf("phases = %q, want tags, manifests, images", names)
			}
			if len(phases) == 3 {
				if p := phases[0]; p.Done != tags || p.Total != 0 {
					t.Errorf("tags phase = %+v, want %d tags listed, no total", p, tags)
				}
				if p := phases[1]; p.Done != tags || p.Total != tags || p.StartTotal != tags {
					t.Errorf("manifests phase = %+v, want %d of %d, the total known from its start", p, tags, tags)
				}
				if !imagesPhase(len(inv.Images))(phases[2]) {
					t.Errorf("images phase = %+v, want %d of %d, ended", phases[2], len(inv.Images), len(inv.Images))
				}
			}

			// Delete an image: the next inventory asks again whether the manifests the
			// history remembers exist.
			if err := c.Delete(t.Context(), repo, img); err != nil {
				t.Fatal(err)
			}
			var again progresstest.Recorder
			warm := newClient(t, host, Options{CacheDir: dir, Progress: &again})
			if _, err := warm.Inventory(t.Context(), repo); err != nil {
				t.Fatalf("second Inventory() error = %v", err)
			}
			for _, p := range again.Phases() {
				if p.Name == "history" && (p.Done != 1 || p.Total != 1) {
					t.Errorf("history phase = %+v, want the deleted manifest asked about", p)
				}
				if !p.Ended || (p.Total > 0 && p.Done != p.Total) {
					t.Errorf("phase %+v, want it ended with done = total", p)
				}
			}
			if names := again.Names(); !slices.Contains(names, "history") {
				t.Errorf("second inventory's phases = %q, want a history phase", names)
			}
		})
	}
}

func TestTagsCountsIntoTheCallersPhase(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := registrytest.RepoName(t)
	fillRepository(t, host, repo)
	var rec progresstest.Recorder
	c := newClient(t, host, Options{Progress: &rec})
	rec.Phase("re-check", 0, 0)
	tags, err := c.Tags(t.Context(), repo)
	if err != nil {
		t.Fatalf("Tags() error = %v", err)
	}
	rec.End()
	want := []progresstest.Phase{{Name: "re-check", Done: len(tags), Total: len(tags), Ended: true}}
	if diff := cmp.Diff(want, rec.Phases()); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
}
