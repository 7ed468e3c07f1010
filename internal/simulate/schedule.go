package simulate

import (
	"cmp"
	"encoding/hex"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Push timing within a day, as buildx pushes: children first, then the index, then the
// referrers (a signature made after the push).
const (
	childLead     = time.Second
	referrerDelay = 30 * time.Second
	// dayMargin keeps every manifest of a push strictly inside its day, before the
	// lifecycle run that ends it.
	dayMargin = time.Minute
)

// schedule holds the synthetic pushes of every day. It depends only on the pattern, the
// seed, the repository name and the start, never on a policy, so every policy compared
// sees the same pushes; runs share it and never modify it.
type schedule struct {
	// days[d-1] holds the manifests pushed on day d, in push order.
	days [][]inventory.Image
}

// push is one push: the manifests it stores, children first.
type push struct {
	at     time.Time
	stream int
	images []inventory.Image
}

func newSchedule(p *Pattern, repo string, seed uint64, start time.Time, days int) *schedule {
	gens := make([]*generator, len(p.Streams))
	for n := range p.Streams {
		gens[n] = newGenerator(&p.Streams[n], repo, seed)
	}
	s := &schedule{days: make([][]inventory.Image, days)}
	var pushes []push
	for d := range days {
		from := start.Add(time.Duration(d) * day)
		pushes = pushes[:0]
		for n, g := range gens {
			pushes = g.day(pushes, n, from)
		}
		slices.SortStableFunc(pushes, func(a, b push) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return cmp.Compare(a.stream, b.stream)
		})
		size := 0
		for _, p := range pushes {
			size += len(p.images)
		}
		out := make([]inventory.Image, 0, size)
		for _, p := range pushes {
			out = append(out, p.images...)
		}
		s.days[d] = out
	}
	return s
}

// generator makes the pushes of one stream. Each stream draws from its own random source,
// seeded by the seed, the repository and the stream's name, so that adding a stream to a
// pattern leaves the others' pushes as they were.
type generator struct {
	s     *Stream
	rng   *rand.Rand
	tags  []tagState
	top   component
	kids  []component
	ref   *component
	times []time.Duration
	hex   [64]byte
}

// tagState is a template as new tags advance it.
type tagState struct {
	Template
	date    string // the last date a date-formatted tag used, and how many did
	dateN   int
	counter int // name-formatted tags made
}

// component is a Component with the blobs that pushes currently reuse.
type component struct {
	c      *Component
	config *slot
	layers []slot
}

type slot struct {
	l   *Layer
	cur inventory.Blob
}

func newGenerator(s *Stream, repo string, seed uint64) *generator {
	h := fnv.New64a()
	h.Write([]byte(repo))
	h.Write([]byte{0})
	h.Write([]byte(s.Name))
	g := &generator{s: s, rng: rand.New(rand.NewPCG(seed, h.Sum64()))}
	for _, t := range s.Tags {
		t.Recent = slices.Clone(t.Recent)
		g.tags = append(g.tags, tagState{Template: t})
	}
	g.top = newComponent(&s.Manifest)
	for n := range s.Children {
		g.kids = append(g.kids, newComponent(&s.Children[n]))
	}
	if s.Referrer != nil {
		r := newComponent(s.Referrer)
		g.ref = &r
	}
	return g
}

func newComponent(c *Component) component {
	out := component{c: c}
	if c.Config != nil {
		out.config = &slot{l: c.Config, cur: inventory.Blob{Digest: c.Config.LastDigest, Size: c.Config.LastSize}}
	}
	out.layers = make([]slot, len(c.Layers))
	for n := range c.Layers {
		l := &c.Layers[n]
		out.layers[n] = slot{l: l, cur: inventory.Blob{Digest: l.LastDigest, Size: l.LastSize}}
	}
	return out
}

// day appends the pushes of one day starting at from.
func (g *generator) day(out []push, stream int, from time.Time) []push {
	n := poisson(g.rng, g.s.PerDay)
	if n == 0 {
		return out
	}
	g.times = g.times[:0]
	span := int64(day - 2*dayMargin)
	for range n {
		g.times = append(g.times, dayMargin+time.Duration(g.rng.Int64N(span)).Truncate(time.Second))
	}
	slices.Sort(g.times)
	for _, off := range g.times {
		at := from.Add(off)
		out = append(out, push{at: at, stream: stream, images: g.push(at)})
	}
	return out
}

// push makes the manifests of one push at t.
func (g *generator) push(t time.Time) []inventory.Image {
	images := make([]inventory.Image, 0, len(g.kids)+2)
	tags := g.nextTags(t)
	var children []inventory.Child
	var platform string
	var largest int64
	for n := range g.kids {
		k := &g.kids[n]
		img := g.manifest(k, t.Add(-childLead))
		images = append(images, img)
		largest = max(largest, img.SizeBytes)
		ch := inventory.Child{Digest: img.Digest, MediaType: img.MediaType, Platform: k.c.Platform}
		if k.c.Attestation {
			ch.Annotations = map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation}
			if platform != "" {
				ch.Annotations[inventory.AnnotationRefDigest] = platform
			}
		} else if platform == "" {
			platform = img.Digest
		}
		children = append(children, ch)
	}
	top := g.manifest(&g.top, t)
	top.Tags = tags
	if len(children) > 0 {
		top.Children = children
		top.SizeBytes = largest
	}
	images = append(images, top)
	if g.ref != nil {
		whole, frac := math.Modf(g.s.ReferrersPerPush)
		n := int(whole)
		if g.rng.Float64() < frac {
			n++
		}
		for range n {
			r := g.manifest(g.ref, t.Add(referrerDelay))
			r.Subject = top.Digest
			images = append(images, r)
		}
	}
	return images
}

// manifest makes one manifest of component c pushed at t, drawing its blobs.
func (g *generator) manifest(c *component, t time.Time) inventory.Image {
	img := inventory.Image{
		Digest:       g.digest(),
		MediaType:    c.c.MediaType,
		ArtifactType: c.c.ArtifactType,
		PushedAt:     t,
		SizeBytes:    c.c.SizeBytes,
	}
	if c.config == nil && len(c.layers) == 0 {
		return img
	}
	var size int64
	if c.config != nil {
		b := g.blob(c.config)
		img.Config = &b
		size += b.Size
	}
	if len(c.layers) > 0 {
		img.Layers = make([]inventory.Blob, len(c.layers))
		for n := range c.layers {
			img.Layers[n] = g.blob(&c.layers[n])
			size += img.Layers[n].Size
		}
	}
	img.SizeBytes = size
	return img
}

// blob returns the blob a push has at slot s: a new one with probability NewShare (or when
// there is none yet), else the previous push's.
func (g *generator) blob(s *slot) inventory.Blob {
	if g.rng.Float64() < s.l.NewShare || s.cur.Digest == "" {
		s.cur = inventory.Blob{Digest: g.digest(), Size: s.l.Size}
	}
	return s.cur
}

// digest returns a new random sha256 digest.
func (g *generator) digest() string {
	var raw [32]byte
	for n := range 4 {
		v := g.rng.Uint64()
		for b := range 8 {
			raw[n*8+b] = byte(v >> (8 * b))
		}
	}
	hex.Encode(g.hex[:], raw[:])
	return "sha256:" + string(g.hex[:])
}

// nextTags returns the tags of a push at t: one per template (a branch stream's own may
// be a recent one, moved), then the moving tags.
func (g *generator) nextTags(t time.Time) []string {
	if len(g.tags) == 0 && len(g.s.Moving) == 0 {
		return nil
	}
	out := make([]string, 0, len(g.tags)+len(g.s.Moving))
	for n := range g.tags {
		ts := &g.tags[n]
		branch := n == 0 && g.s.Kind == KindBranch
		if branch && len(ts.Recent) > 0 && g.rng.Float64() < g.s.Reuse {
			out = append(out, ts.Prefix+ts.Recent[g.rng.IntN(len(ts.Recent))])
			continue
		}
		suffix := g.nextSuffix(ts, t)
		if branch {
			ts.Recent = slices.Insert(ts.Recent, 0, suffix)
			ts.Recent = ts.Recent[:min(len(ts.Recent), maxRecent)]
		}
		out = append(out, ts.Prefix+suffix)
	}
	return append(out, g.s.Moving...)
}

// nextSuffix makes the variable part of a new tag of ts, pushed at t.
func (g *generator) nextSuffix(ts *tagState, t time.Time) string {
	switch ts.Format {
	case FormatSemver:
		parts := semverParts(ts.Last)
		if len(parts) == 0 || ts.Last == "" {
			parts = []int{0, 1, 0}
		}
		parts[len(parts)-1]++
		s := make([]string, len(parts))
		for n, v := range parts {
			s[n] = strconv.Itoa(v)
		}
		ts.Last = strings.Join(s, ".")
		return ts.Last
	case FormatNumber:
		n, _ := strconv.ParseUint(ts.Last, 10, 64)
		ts.Last = strconv.FormatUint(n+1, 10)
		return ts.Last
	case FormatDate:
		layout := dateLayout(ts.Last)
		if layout == "" {
			layout = "20060102"
		}
		d := t.UTC().Format(layout)
		if d == ts.date {
			ts.dateN++
			return d + "-" + strconv.Itoa(ts.dateN)
		}
		ts.date, ts.dateN, ts.Last = d, 1, d
		return d
	case FormatHex:
		n := hexRun(ts.Last)
		rest := ""
		if n < minHexDigits {
			n = minHexDigits
		} else {
			rest = ts.Last[n:]
		}
		var raw [32]byte
		for i := range 4 {
			v := g.rng.Uint64()
			for b := range 8 {
				raw[i*8+b] = byte(v >> (8 * b))
			}
		}
		ts.Last = hex.EncodeToString(raw[:])[:min(n, 64)] + rest
		return ts.Last
	}
	ts.counter++
	return "sim" + strconv.Itoa(ts.counter)
}

// poissonChunk bounds the mean drawn at once by Knuth's method, whose e^-mean must stay
// far from float64's underflow; larger means are drawn as sums.
const poissonChunk = 30

// poisson draws from a Poisson distribution of the given mean.
func poisson(r *rand.Rand, mean float64) int {
	n := 0
	for mean > 0 {
		m := min(mean, poissonChunk)
		mean -= m
		limit, p := math.Exp(-m), 1.0
		for {
			p *= r.Float64()
			if p <= limit {
				break
			}
			n++
		}
	}
	return n
}
