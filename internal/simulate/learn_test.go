package simulate_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/simulate"
)

// wantStream is what a test expects of one learned stream.
type wantStream struct {
	kind      simulate.Kind
	perDay    float64
	reuse     float64
	tol       float64 // on perDay; 0 means 0.02
	moving    []string
	also      []string // patterns of the templates after the stream's own
	children  int
	referrers float64
}

func TestLearn(t *testing.T) {
	t.Parallel()
	prReuse := func() *inventory.Inventory {
		b := newBuilder("pr-reuse")
		pr := 100
		for d := 39; d >= 0; d-- {
			b.build(at(d, 9), 10, "sha-"+b.commit())
			if d%2 == 0 {
				pr++ // a new pull request; on odd days its second build moves the tag
			}
			b.build(at(d, 14), 10, fmt.Sprintf("pr-%d", pr))
		}
		return b.inv
	}
	latestOnly := func() *inventory.Inventory {
		b := newBuilder("latest-only")
		for d := 39; d >= 0; d-- {
			b.build(at(d, 12), 10, "latest")
		}
		return b.inv
	}
	trimmed := func() *inventory.Inventory {
		// What a keep-the-30-newest policy leaves: ten days of builds, and one old image
		// that makes the history longer than the window.
		b := newBuilder("trimmed")
		b.build(at(100, 12), 10, "v0.9.0")
		for d := 9; d >= 0; d-- {
			for _, h := range []int{2, 10, 18} {
				b.build(at(d, h), 10, "sha-"+b.commit())
			}
		}
		return b.inv
	}
	few := func() *inventory.Inventory {
		b := newBuilder("few")
		b.build(at(10, 12), 10, "sha-"+b.commit())
		b.build(at(0, 12), 10, "sha-"+b.commit())
		return b.inv
	}
	tests := []struct {
		name  string
		inv   *inventory.Inventory
		want  map[string]wantStream
		notes bool
	}{
		{
			name: "commits, pull requests, weekly signed releases",
			inv:  ciRepo("ci", 60, 10),
			want: map[string]wantStream{
				"sha-*": {kind: simulate.KindUnique, perDay: 3, moving: []string{"latest", "main"}, children: 2},
				"pr-*":  {kind: simulate.KindUnique, perDay: 1, children: 2},
				"v*":    {kind: simulate.KindRelease, perDay: 4.0 / 30, moving: []string{"latest", "main"}, also: []string{"sha-*"}, children: 2, referrers: 1},
			},
		},
		{
			name: "pull-request builds that move their tag leave untagged images",
			inv:  prReuse(),
			want: map[string]wantStream{
				"sha-*": {kind: simulate.KindUnique, perDay: 1, children: 2},
				"pr-*":  {kind: simulate.KindBranch, perDay: 1, reuse: 14.0 / 30, children: 2}, // the window cuts two pairs
			},
		},
		{
			name: "only latest: every push leaves the previous one untagged",
			inv:  latestOnly(),
			want: map[string]wantStream{
				"latest": {kind: simulate.KindMoving, perDay: 1, moving: []string{"latest"}, children: 2},
			},
		},
		{
			name: "a stream trimmed by a lifecycle policy is measured from its oldest push",
			inv:  trimmed(),
			want: map[string]wantStream{
				"sha-*": {kind: simulate.KindUnique, perDay: 3, tol: 0.1, children: 2},
			},
		},
		{
			name: "two pushes in a short history give a fractional rate",
			inv:  few(),
			want: map[string]wantStream{
				"sha-*": {kind: simulate.KindUnique, perDay: 2 / (10 + 11.0/24), children: 2},
			},
		},
		{
			name:  "no pushes",
			inv:   &inventory.Inventory{Repository: "empty", CapturedAt: now},
			want:  map[string]wantStream{},
			notes: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := simulate.Learn(tt.inv, now)
			names := []string{}
			for _, s := range p.Streams {
				names = append(names, s.Name)
			}
			wantNames := make([]string, 0, len(tt.want))
			for n := range tt.want {
				wantNames = append(wantNames, n)
			}
			slices.Sort(names)
			slices.Sort(wantNames)
			if diff := cmp.Diff(wantNames, names); diff != "" {
				t.Fatalf("Learn() streams (-want +got):\n%s\n%s", diff, p)
			}
			for _, s := range p.Streams {
				w := tt.want[s.Name]
				if s.Kind != w.kind {
					t.Errorf("%s: Kind = %s, want %s", s.Name, s.Kind, w.kind)
				}
				tol := w.tol
				if tol == 0 {
					tol = 0.02
				}
				if math.Abs(s.PerDay-w.perDay) > tol {
					t.Errorf("%s: PerDay = %.3f, want %.3f", s.Name, s.PerDay, w.perDay)
				}
				if math.Abs(s.Reuse-w.reuse) > 0.02 {
					t.Errorf("%s: Reuse = %.3f, want %.3f", s.Name, s.Reuse, w.reuse)
				}
				if diff := cmp.Diff(w.moving, s.Moving); diff != "" {
					t.Errorf("%s: Moving (-want +got):\n%s", s.Name, diff)
				}
				var also []string
				for _, tmpl := range s.Tags[min(1, len(s.Tags)):] {
					also = append(also, tmpl.Pattern())
				}
				if diff := cmp.Diff(w.also, also); diff != "" {
					t.Errorf("%s: also tagged (-want +got):\n%s", s.Name, diff)
				}
				if len(s.Children) != w.children {
					t.Errorf("%s: %d children, want %d", s.Name, len(s.Children), w.children)
				}
				if s.ReferrersPerPush != w.referrers {
					t.Errorf("%s: ReferrersPerPush = %v, want %v", s.Name, s.ReferrersPerPush, w.referrers)
				}
			}
			if got := len(p.Notes) > 0; got != tt.notes {
				t.Errorf("Learn() notes = %q, want notes: %v", p.Notes, tt.notes)
			}
		})
	}
}

// TestLearnShape checks the shape of a buildx push: a platform image whose base layer is
// shared by every build and whose app layer is new each time, and a small attestation.
func TestLearnShape(t *testing.T) {
	t.Parallel()
	p := simulate.Learn(ciRepo("ci", 60, 10), now)
	i := slices.IndexFunc(p.Streams, func(s simulate.Stream) bool { return s.Name == "sha-*" })
	if i < 0 {
		t.Fatalf("no sha-* stream in\n%s", p)
	}
	s := p.Streams[i]
	if s.Manifest.MediaType != inventory.MediaTypeOCIIndex {
		t.Errorf("Manifest.MediaType = %s, want an OCI index", s.Manifest.MediaType)
	}
	if len(s.Children) != 2 {
		t.Fatalf("%d children, want 2", len(s.Children))
	}
	img, att := s.Children[0], s.Children[1]
	if img.Platform != "linux/amd64" || img.Attestation || !att.Attestation {
		t.Errorf("children = %s/%v, %s/%v; want linux/amd64 then an attestation", img.Platform, img.Attestation, att.Platform, att.Attestation)
	}
	want := []simulate.Layer{
		{Size: base.Size, NewShare: 0, LastDigest: base.Digest, LastSize: base.Size},
		{Size: 10 * mb, NewShare: 1},
	}
	got := slices.Clone(img.Layers)
	if len(got) == 2 {
		got[1].LastDigest, got[1].LastSize = "", 0
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("platform image layers (-want +got):\n%s", diff)
	}
	if img.Config == nil || img.Config.NewShare != 1 {
		t.Errorf("platform image config = %+v, want a new one each push", img.Config)
	}
	if got, want := s.NewBytes(), int64(10*mb+5000+250+20_000); got != want {
		t.Errorf("NewBytes() = %d, want %d", got, want)
	}
	if got, want := s.PushBytes(), int64(40*mb+5000+250+20_000); got != want {
		t.Errorf("PushBytes() = %d, want %d", got, want)
	}
	out := p.String()
	for _, want := range []string{"sha-*", "3.00/day", "moves latest, main", "also tagged sha-*", "1 referrer a push"} {
		if !strings.Contains(out, want) {
			t.Errorf("Pattern.String() lacks %q:\n%s", want, out)
		}
	}
}

func TestLearnSkipsChildrenAndReferrers(t *testing.T) {
	t.Parallel()
	// Children and referrers come with their push: a repository of signed releases has one
	// stream, of releases, however many manifests each push stores.
	b := newBuilder("signed")
	for d := 20; d >= 0; d-- {
		b.sign(b.build(at(d, 12), 10, fmt.Sprintf("v2.%d.0", 20-d)), at(d, 12))
	}
	p := simulate.Learn(b.inv, now)
	if len(p.Streams) != 1 || p.Streams[0].Name != "v*" || p.Streams[0].Observed != 21 {
		t.Fatalf("Learn() = %s, want one v* stream of 21 pushes", p)
	}
	if got := p.Streams[0].Tags[0].Last; got != "2.20.0" {
		t.Errorf("v* Last = %q, want the highest version, 2.20.0", got)
	}
}
