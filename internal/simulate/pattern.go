package simulate

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// Window is how far back Learn looks to estimate push rates: recent enough to follow the
// current cadence, long enough to see a weekly release four times.
const Window = 30 * day

const day = 24 * time.Hour

// Learning bounds and thresholds.
const (
	// maxRecent is how many recent tags a branch stream's pushes choose from when they
	// reuse one (the pull requests still open).
	maxRecent = 5
	// minTrimmed is the fewest pushes from which Learn trusts a gap before a stream's
	// oldest push to mean that older pushes were deleted (by a lifecycle policy) rather
	// than never made: with fewer, a gap is just chance.
	minTrimmed = 5
	// trimmedGaps is how many mean gaps between pushes must separate the window's start from
	// a stream's oldest push for Learn to measure its rate from that push instead (a
	// Poisson stream leaves such a gap by chance about once in twenty).
	trimmedGaps = 3
)

// Kind says how the pushes of a stream are tagged.
type Kind string

// Stream kinds.
const (
	// KindRelease: each push gets a new version tag, which it keeps.
	KindRelease Kind = "release"
	// KindUnique: each push gets a new tag (sha-<commit>, nightly-<date>), which it keeps.
	KindUnique Kind = "unique"
	// KindBranch: a push gets a new tag or, with probability Reuse, moves a recent one to
	// itself (a new build of an open pull request), leaving the image it took it from
	// untagged.
	KindBranch Kind = "branch"
	// KindMoving: pushes carry only fixed tags (latest), which each push takes from the one
	// before, leaving it untagged.
	KindMoving Kind = "moving"
	// KindUntagged: pushed without a tag.
	KindUntagged Kind = "untagged"
)

// Pattern is how a repository grows: the streams of pushes it receives. Learn estimates
// one from an inventory; callers may also build or edit one (a cadence given by hand).
type Pattern struct {
	Repository string `json:"repository,omitempty"`
	// From and To bound the pushes the rates were measured on.
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Streams []Stream  `json:"streams"`
	// Notes say what makes the pattern less certain.
	Notes []string `json:"notes,omitempty"`
}

// Stream is one kind of push: its tags, its daily rate and the shape of one push.
type Stream struct {
	// Name is unique within a pattern: the stream's tag pattern ("sha-*", "v*"), its fixed
	// tags ("latest"), or "untagged".
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Tags are the templates of the tags each push carries: the stream's own first, then
	// any it also carries (a release build also tagged sha-<commit>). Empty for moving and
	// untagged streams.
	Tags []Template `json:"tags,omitempty"`
	// Moving are the fixed tags (latest, main) each push takes to itself.
	Moving []string `json:"moving,omitempty"`
	// PerDay is the mean number of pushes a day; each day's count is drawn from a Poisson
	// distribution with this mean, so fractional rates work.
	PerDay float64 `json:"perDay"`
	// Reuse is, for branch streams, the share of pushes that move a recent tag of the
	// stream instead of making a new one.
	Reuse float64 `json:"reuse,omitempty"`
	// Observed counts the pushes Learn saw, and SpanDays the days it measured them over:
	// shorter than the window when older pushes of the stream are gone.
	Observed int     `json:"observed"`
	SpanDays float64 `json:"spanDays"`

	// Manifest is what a push tags: an image, an index or an artifact.
	Manifest Component `json:"manifest"`
	// Children are the manifests an index push lists (platform images, attestations).
	Children []Component `json:"children,omitempty"`
	// Referrer is the manifest pushed with a subject (a signature), ReferrersPerPush times
	// per push on average.
	Referrer         *Component `json:"referrer,omitempty"`
	ReferrersPerPush float64    `json:"referrersPerPush,omitempty"`
}

// Component is one manifest of a push.
type Component struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType,omitempty"`
	// Platform and Attestation describe an index's entry for a child.
	Platform    string `json:"platform,omitempty"`
	Attestation bool   `json:"attestation,omitempty"`
	// SizeBytes is the mean size the registry reports; it is the stored size of manifests
	// whose blobs are unknown (describe-images input).
	SizeBytes int64 `json:"sizeBytes"`
	// Config and Layers are the blobs, when known.
	Config *Layer  `json:"config,omitempty"`
	Layers []Layer `json:"layers,omitempty"`
}

// Layer is one blob position of a component (the config, or the n-th layer).
type Layer struct {
	// Size is the mean size of the distinct blobs seen here.
	Size int64 `json:"size"`
	// NewShare is the share of pushes that brought a new blob here; the others reuse the
	// previous push's (a base layer that changes monthly has a small share, an application
	// layer 1).
	NewShare float64 `json:"newShare"`
	// LastDigest and LastSize are the newest blob seen here, which pushes reuse until one
	// brings a new blob; empty makes the first push bring one.
	LastDigest string `json:"lastDigest,omitempty"`
	LastSize   int64  `json:"lastSize,omitempty"`
}

// Learn estimates the push pattern of inv from its pushes in the Window before now (or
// its whole history, when shorter).
//
// A push is a manifest that no index in the inventory lists and that is no referrer of a
// manifest present: with it come its children and referrers. Pushes are grouped into
// streams by their tags: a version tag makes a release; otherwise the most common
// prefix-and-format among the tags (sha-<hex>, pr-<number>, nightly-<date>) names the
// stream; fixed tags alone (latest) make a moving stream. A fixed tag moves with every
// stream that shares a prefix with the image carrying it now: latest on a sha- build moves
// with sha- pushes and releases built from commits.
//
// Untagged pushes are mostly what moving tags left behind. Learn gives them to the moving
// streams of the same shape (media type and number of children) or, failing those, to the
// branch-like streams (pr-<number>, names), as the share of their pushes that reuse a tag;
// the rest form an untagged stream.
//
// A stream whose oldest push in the window comes long after the window's start (no push
// for trimmedGaps mean gaps) has had its older pushes deleted, likely by a lifecycle
// policy: its rate is measured from its oldest push instead, on the pushes after it.
//
// Shapes come from the stream's pushes: per blob position, the mean size and how often a
// push brought a new blob; sizes of manifests without known blobs from the registry's own
// figure.
func Learn(inv *inventory.Inventory, now time.Time) Pattern {
	l := learner{images: inv.Images, now: now, g: inventory.NewGraph(inv.Images)}
	return l.learn(inv.Repository)
}

type learner struct {
	images []inventory.Image
	g      *inventory.Graph
	now    time.Time
	from   time.Time
	// hexPrefixes are the prefixes of tags that carry commits or digests.
	hexPrefixes map[string]bool
}

// tagged is what classify says of one tag of one push.
type tagged struct {
	tmpl   Template
	suffix string
}

// group gathers the pushes of one stream while learning.
type group struct {
	name    string
	kind    Kind
	primary Template
	also    []Template
	moving  []string
	shape   string
	members []int // positions, oldest first
	extra   []int // attributed untagged pushes, for the shape only
	perDay  float64
	span    float64
	reuse   float64 // pushes a day that move a recent tag of a branch stream
}

func (l *learner) learn(repo string) Pattern {
	p := Pattern{Repository: repo, To: l.now}
	pushes, noChildren := l.windowPushes()
	p.From = l.from
	if len(pushes) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("no pushes in the %d days before %s: the projection only ages what the repository holds",
			int(Window/day), l.now.UTC().Format(time.DateOnly)))
		return p
	}
	if noChildren > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d recent indexes have no list of children (describe-images input): their children count as separate untagged pushes", noChildren))
	}
	tags, fixed := l.classifyPushes(pushes)
	groups := l.group(pushes, tags, fixed)
	l.attachMoving(groups)
	windowDays := max(l.now.Sub(l.from).Hours()/24, 1)
	for _, g := range groups {
		g.perDay, g.span = l.rate(g.members, windowDays)
	}
	attributeUntagged(groups, tags)

	for _, k := range slices.Sorted(maps.Keys(groups)) {
		p.Streams = append(p.Streams, l.stream(groups[k]))
	}
	slices.SortStableFunc(p.Streams, func(a, b Stream) int {
		if c := cmp.Compare(b.PerDay, a.PerDay); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	dedupeNames(p.Streams)
	return p
}

// windowPushes returns the pushes of the window, oldest first, and how many are indexes
// without a list of children; it sets l.from, the window's start: Window before now, or
// the oldest push when the history is shorter.
func (l *learner) windowPushes() (pushes []int, noChildren int) {
	var oldest time.Time
	from := l.now.Add(-Window)
	for i := range l.images {
		img := &l.images[i]
		t := img.PushedAt
		if !l.isPush(i) || t.IsZero() || t.After(l.now) {
			continue
		}
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
		if t.Before(from) {
			continue
		}
		pushes = append(pushes, i)
		if img.IsIndex() && img.Children == nil {
			noChildren++
		}
	}
	l.from = from
	if oldest.After(from) {
		l.from = oldest
	}
	slices.SortStableFunc(pushes, func(a, b int) int { return l.images[a].PushedAt.Compare(l.images[b].PushedAt) })
	return pushes, noChildren
}

// classifyPushes classifies the tags of every push, first finding which prefixes carry
// commits (see classifyTags).
func (l *learner) classifyPushes(pushes []int) (map[int][]tagged, map[int][]string) {
	l.hexPrefixes = map[string]bool{}
	for _, i := range pushes {
		ts, _ := classifyTags(l.images[i].Tags, nil)
		for _, t := range ts {
			if t.tmpl.Format == FormatHex {
				l.hexPrefixes[t.tmpl.Prefix] = true
			}
		}
	}
	tags := make(map[int][]tagged, len(pushes))
	fixed := make(map[int][]string)
	for _, i := range pushes {
		tags[i], fixed[i] = classifyTags(l.images[i].Tags, l.hexPrefixes)
	}
	return tags, fixed
}

// group sorts the pushes into streams, keyed by their own template (or fixed tags, or
// shape for untagged pushes), with the templates their pushes also carry.
func (l *learner) group(pushes []int, tags map[int][]tagged, fixed map[int][]string) map[string]*group {
	freq := map[string]int{}
	for _, i := range pushes {
		seen := map[string]bool{}
		for _, t := range tags[i] {
			if k := t.tmpl.key(); !seen[k] {
				seen[k] = true
				freq[k]++
			}
		}
	}
	groups := map[string]*group{}
	for _, i := range pushes {
		key, g := l.groupOf(i, tags[i], fixed[i], freq)
		if have, ok := groups[key]; ok {
			g = have
		} else {
			groups[key] = g
		}
		g.members = append(g.members, i)
	}
	lasts := lastSuffixes(pushes, tags)
	for _, g := range groups {
		if g.kind == KindRelease || g.kind == KindUnique {
			g.also = alsoTemplates(g, tags)
			g.primary = withLast(g.primary, lasts)
			for n := range g.also {
				g.also[n] = withLast(g.also[n], lasts)
			}
		}
	}
	return groups
}

// attributeUntagged gives the untagged pushes to the streams that leave them behind: the
// moving streams of the same shape or, failing those, the branch-like ones, in proportion
// to their rates. Untagged pushes no stream explains stay a stream of their own.
func attributeUntagged(groups map[string]*group, tags map[int][]tagged) {
	keys := slices.Sorted(maps.Keys(groups))
	passes := []func(g *group) bool{
		func(g *group) bool { return g.kind == KindMoving },
		func(g *group) bool { return (g.kind == KindUnique || g.kind == KindBranch) && g.primary.branchLike() },
	}
	for _, k := range keys {
		u := groups[k]
		if u.kind != KindUntagged {
			continue
		}
		var to []*group
		for _, pass := range passes {
			for _, k2 := range keys {
				if g := groups[k2]; g != nil && g.shape == u.shape && pass(g) {
					to = append(to, g)
				}
			}
			if len(to) > 0 {
				break
			}
		}
		if len(to) == 0 {
			continue
		}
		var weight float64
		for _, g := range to {
			weight += g.perDay
		}
		for _, g := range to {
			share := u.perDay * g.perDay / weight
			g.perDay += share
			g.extra = append(g.extra, u.members...)
			if g.kind != KindMoving {
				g.kind = KindBranch
				g.primary.Recent = recentSuffixes(g, tags)
				g.reuse += share
			}
		}
		delete(groups, k)
	}
}

// isPush reports whether image i is pushed on its own: no index lists it, and it is no
// referrer of a manifest present.
func (l *learner) isPush(i int) bool {
	if len(l.g.Parents(i)) > 0 {
		return false
	}
	if s := l.images[i].Subject; s != "" {
		if j, ok := l.g.Index(s); ok && j != i {
			return false
		}
	}
	return true
}

// classifyTags classifies tags. A number or date as long as a commit abbreviation, after a
// prefix that other tags show to carry commits (hexPrefixes), is a commit whose digits
// happen to be decimal: sha-1234567 belongs with sha-abcdef0.
func classifyTags(tags []string, hexPrefixes map[string]bool) (ts []tagged, fixed []string) {
	for _, tag := range tags {
		if t, suffix, ok := classify(tag); ok {
			if (t.Format == FormatNumber || t.Format == FormatDate) && len(suffix) >= minHexDigits &&
				hexRun(suffix) == len(suffix) && hexPrefixes[t.Prefix] {
				t.Format = FormatHex
			}
			ts = append(ts, tagged{t, suffix})
		} else {
			fixed = append(fixed, tag)
		}
	}
	return ts, fixed
}

// groupOf names the stream push i belongs to, and a new group for it.
func (l *learner) groupOf(i int, ts []tagged, fixed []string, freq map[string]int) (string, *group) {
	img := &l.images[i]
	shape := shapeOf(img)
	if len(ts) == 0 {
		if len(fixed) == 0 {
			return "untagged\x00" + shape, &group{kind: KindUntagged, shape: shape, name: "untagged"}
		}
		fs := slices.Clone(fixed)
		slices.Sort(fs)
		name := strings.Join(fs, ",")
		return "moving\x00" + name, &group{kind: KindMoving, shape: shape, name: name, moving: fs}
	}
	best := -1
	for n, t := range ts {
		switch {
		case best < 0:
			best = n
		case (t.tmpl.Format == FormatSemver) != (ts[best].tmpl.Format == FormatSemver):
			if t.tmpl.Format == FormatSemver {
				best = n
			}
		case freq[t.tmpl.key()] != freq[ts[best].tmpl.key()]:
			if freq[t.tmpl.key()] > freq[ts[best].tmpl.key()] {
				best = n
			}
		case t.tmpl.key() < ts[best].tmpl.key():
			best = n
		}
	}
	t := ts[best].tmpl
	kind := KindUnique
	if t.Format == FormatSemver {
		kind = KindRelease
	}
	return "tagged\x00" + t.key(), &group{kind: kind, shape: shape, name: t.Pattern(), primary: t}
}

// shapeOf is what untagged pushes are matched to streams by: media type and child count.
func shapeOf(img *inventory.Image) string {
	return fmt.Sprintf("%s#%d", img.MediaType, len(img.Children))
}

// lastSuffixes finds, per template, the variable part new tags continue from: the highest
// version or number, else the newest push's.
func lastSuffixes(pushes []int, tags map[int][]tagged) map[string]string {
	last := map[string]string{}
	for _, i := range pushes { // oldest first: the newest wins unless ordered by value
		for _, t := range tags[i] {
			k := t.tmpl.key()
			if have, ok := last[k]; ok && (t.tmpl.Format == FormatSemver || t.tmpl.Format == FormatNumber) && !later(t.tmpl.Format, t.suffix, have) {
				continue
			}
			last[k] = t.suffix
		}
	}
	return last
}

func withLast(t Template, lasts map[string]string) Template {
	t.Last = lasts[t.key()]
	return t
}

// alsoTemplates are the templates other than the stream's own that at least half its
// pushes carry.
func alsoTemplates(g *group, tags map[int][]tagged) []Template {
	count := map[string]int{}
	byKey := map[string]Template{}
	for _, i := range g.members {
		seen := map[string]bool{}
		for _, t := range tags[i] {
			k := t.tmpl.key()
			if k == g.primary.key() || seen[k] {
				continue
			}
			seen[k] = true
			count[k]++
			byKey[k] = t.tmpl
		}
	}
	var out []Template
	for _, k := range slices.Sorted(maps.Keys(count)) {
		if 2*count[k] >= len(g.members) {
			out = append(out, byKey[k])
		}
	}
	return out
}

// recentSuffixes are the stream's own most recent distinct tags, newest first.
func recentSuffixes(g *group, tags map[int][]tagged) []string {
	var out []string
	for n := len(g.members) - 1; n >= 0 && len(out) < maxRecent; n-- {
		for _, t := range tags[g.members[n]] {
			if t.tmpl.key() == g.primary.key() && !slices.Contains(out, t.suffix) {
				out = append(out, t.suffix)
				break
			}
		}
	}
	return out
}

// attachMoving gives each fixed tag to the streams it moves with: those sharing a
// template with the image that carries it now (any image, however old), or, for an image
// with fixed tags only, its own moving stream.
func (l *learner) attachMoving(groups map[string]*group) {
	for i := range l.images {
		img := &l.images[i]
		if len(img.Tags) == 0 || !l.isPush(i) {
			continue
		}
		ts, fixed := classifyTags(img.Tags, l.hexPrefixes)
		if len(fixed) == 0 || len(ts) == 0 {
			continue // moving streams already carry their fixed tags
		}
		holds := map[string]bool{}
		for _, t := range ts {
			holds[t.tmpl.key()] = true
		}
		for _, g := range groups {
			if g.kind != KindRelease && g.kind != KindUnique {
				continue
			}
			shares := holds[g.primary.key()]
			for _, a := range g.also {
				shares = shares || holds[a.key()]
			}
			if !shares {
				continue
			}
			for _, f := range fixed {
				if !slices.Contains(g.moving, f) {
					g.moving = append(g.moving, f)
				}
			}
		}
	}
	for _, g := range groups {
		slices.Sort(g.moving)
	}
}

// rate estimates pushes a day from pushes (oldest first), and the days it measured over.
func (l *learner) rate(pushes []int, windowDays float64) (perDay, span float64) {
	n := len(pushes)
	if n == 0 {
		return 0, windowDays
	}
	first := l.images[pushes[0]].PushedAt
	own := l.now.Sub(first)
	if n >= minTrimmed && first.Sub(l.from) > trimmedGaps*own/time.Duration(n) {
		// The first push kept is where the deletions stopped, not a draw of the process:
		// the other n-1 pushes are the observations.
		days := max(own.Hours()/24, 1)
		return float64(n-1) / days, days
	}
	return float64(n) / windowDays, windowDays
}

// stream turns a group into a Stream with its shape.
func (l *learner) stream(g *group) Stream {
	s := Stream{
		Name:     g.name,
		Kind:     g.kind,
		Moving:   g.moving,
		PerDay:   g.perDay,
		Observed: len(g.members),
		SpanDays: g.span,
	}
	if g.kind != KindMoving && g.kind != KindUntagged {
		s.Tags = append([]Template{g.primary}, g.also...)
	}
	if g.kind == KindBranch && g.perDay > 0 {
		s.Reuse = min(g.reuse/g.perDay, 1)
	}
	seq := append(slices.Clone(g.members), g.extra...)
	slices.SortStableFunc(seq, func(a, b int) int { return l.images[a].PushedAt.Compare(l.images[b].PushedAt) })
	s.Manifest = learnComponent(l.images, seq)

	// Children, slot by slot as the newest push lists them.
	newest := &l.images[seq[len(seq)-1]]
	for k, c := range newest.Children {
		var slot []int
		for _, i := range seq {
			ch := l.images[i].Children
			if k < len(ch) && ch[k].Platform == c.Platform {
				if j, ok := l.g.Index(ch[k].Digest); ok {
					slot = append(slot, j)
				}
			}
		}
		if len(slot) == 0 {
			continue
		}
		comp := learnComponent(l.images, slot)
		comp.Platform, comp.Attestation = c.Platform, c.IsAttestation()
		s.Children = append(s.Children, comp)
	}

	var refs []int
	for _, i := range seq {
		refs = append(refs, l.g.Referrers(i)...)
	}
	if len(refs) > 0 {
		slices.SortStableFunc(refs, func(a, b int) int { return l.images[a].PushedAt.Compare(l.images[b].PushedAt) })
		r := learnComponent(l.images, refs)
		s.Referrer = &r
		s.ReferrersPerPush = float64(len(refs)) / float64(len(seq))
	}
	return s
}

// learnComponent describes the manifests seq (oldest first), one per push.
func learnComponent(images []inventory.Image, seq []int) Component {
	newest := &images[seq[len(seq)-1]]
	c := Component{MediaType: newest.MediaType, ArtifactType: newest.ArtifactType}
	var total float64
	for _, i := range seq {
		total += float64(max(images[i].SizeBytes, 0))
	}
	c.SizeBytes = int64(math.Round(total / float64(len(seq))))
	if newest.Config != nil {
		l := learnLayer(images, seq, func(img *inventory.Image) *inventory.Blob { return img.Config })
		c.Config = &l
	}
	for n := range newest.Layers {
		c.Layers = append(c.Layers, learnLayer(images, seq, func(img *inventory.Image) *inventory.Blob {
			if n < len(img.Layers) {
				return &img.Layers[n]
			}
			return nil
		}))
	}
	return c
}

// learnLayer describes one blob position over seq: how often it changed from one push to
// the next, and the mean size of its distinct blobs.
func learnLayer(images []inventory.Image, seq []int, at func(*inventory.Image) *inventory.Blob) Layer {
	var l Layer
	seen := map[string]bool{}
	var sum float64
	n, changes := 0, 0
	for _, i := range seq {
		b := at(&images[i])
		if b == nil {
			continue
		}
		if n > 0 && b.Digest != l.LastDigest {
			changes++
		}
		n++
		l.LastDigest, l.LastSize = b.Digest, max(b.Size, 0)
		if !seen[b.Digest] {
			seen[b.Digest] = true
			sum += float64(max(b.Size, 0))
		}
	}
	l.NewShare = 1
	if n > 1 {
		l.NewShare = float64(changes) / float64(n-1)
	}
	if len(seen) > 0 {
		l.Size = int64(math.Round(sum / float64(len(seen))))
	}
	return l
}

// dedupeNames makes stream names unique by numbering repeats.
func dedupeNames(streams []Stream) {
	seen := map[string]int{}
	for n := range streams {
		name := streams[n].Name
		seen[name]++
		if c := seen[name]; c > 1 {
			streams[n].Name = fmt.Sprintf("%s#%d", name, c)
		}
	}
}

// PushesPerDay is the total mean number of pushes a day over all streams.
func (p Pattern) PushesPerDay() float64 {
	var n float64
	for _, s := range p.Streams {
		n += s.PerDay
	}
	return n
}

// String describes the pattern for people, one line per stream.
func (p Pattern) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.1f pushes a day, learned from %s to %s", p.PushesPerDay(),
		p.From.UTC().Format(time.DateOnly), p.To.UTC().Format(time.DateOnly))
	if len(p.Streams) == 0 {
		b.WriteString(": none")
	}
	b.WriteString("\n")
	width := 0
	for _, s := range p.Streams {
		width = max(width, len(s.Name))
	}
	for _, s := range p.Streams {
		fmt.Fprintf(&b, "  %-*s  %5.2f/day  %s\n", width, s.Name, s.PerDay, s.describe())
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return b.String()
}

// describe is the detail of a stream's line in Pattern.String.
func (s Stream) describe() string {
	var parts []string
	switch s.Kind {
	case KindRelease:
		parts = append(parts, "releases")
	case KindMoving:
		parts = append(parts, "only fixed tags: each push leaves the previous one untagged")
	case KindUntagged:
		parts = append(parts, "pushed untagged")
	}
	parts = append(parts, s.shape())
	if len(s.Tags) > 1 {
		also := make([]string, len(s.Tags)-1)
		for n, t := range s.Tags[1:] {
			also[n] = t.Pattern()
		}
		parts = append(parts, "also tagged "+strings.Join(also, ", "))
	}
	if len(s.Moving) > 0 && s.Kind != KindMoving {
		parts = append(parts, "moves "+strings.Join(s.Moving, ", "))
	}
	if s.Kind == KindBranch {
		parts = append(parts, fmt.Sprintf("%.0f%% move a recent %s tag", s.Reuse*100, s.Tags[0].Pattern()))
	}
	switch r := s.ReferrersPerPush; {
	case r == 1:
		parts = append(parts, "1 referrer a push")
	case r > 0:
		parts = append(parts, fmt.Sprintf("%.2g referrers a push", r))
	}
	parts = append(parts, fmt.Sprintf("%s a push, %s new", report.Bytes(s.PushBytes()), report.Bytes(s.NewBytes())))
	if s.Observed > 0 {
		parts = append(parts, fmt.Sprintf("seen %d in %.0f days", s.Observed, s.SpanDays))
	}
	return strings.Join(parts, "; ")
}

// shape names what one push is: "image", "index of 2 (linux/amd64, attestation)".
func (s Stream) shape() string {
	m := s.Manifest
	kind := "image"
	switch {
	case m.MediaType == inventory.MediaTypeOCIIndex || m.MediaType == inventory.MediaTypeDockerList:
		kind = "index"
	case m.ArtifactType != "":
		kind = "artifact"
	}
	if len(s.Children) == 0 {
		return kind
	}
	names := make([]string, len(s.Children))
	for n, c := range s.Children {
		names[n] = c.Platform
		if c.Attestation {
			names[n] = "attestation"
		}
	}
	return fmt.Sprintf("%s of %d (%s)", kind, len(s.Children), strings.Join(names, ", "))
}

// PushBytes is the mean size of one push: every blob of its manifests (children and
// referrers included), shared or not.
func (s Stream) PushBytes() int64 {
	return s.bytes(func(l Layer) float64 { return float64(l.Size) })
}

// NewBytes is the mean size of the blobs one push adds to the repository: each blob
// position's size times how often a push brings a new blob there.
func (s Stream) NewBytes() int64 {
	return s.bytes(func(l Layer) float64 { return float64(l.Size) * l.NewShare })
}

func (s Stream) bytes(of func(Layer) float64) int64 {
	comp := func(c Component) float64 {
		if c.Config == nil && len(c.Layers) == 0 {
			if c.MediaType == inventory.MediaTypeOCIIndex || c.MediaType == inventory.MediaTypeDockerList {
				return 0
			}
			return float64(c.SizeBytes)
		}
		var n float64
		if c.Config != nil {
			n += of(*c.Config)
		}
		for _, l := range c.Layers {
			n += of(l)
		}
		return n
	}
	n := comp(s.Manifest)
	for _, c := range s.Children {
		n += comp(c)
	}
	if s.Referrer != nil {
		n += s.ReferrersPerPush * comp(*s.Referrer)
	}
	return int64(math.Round(n))
}
