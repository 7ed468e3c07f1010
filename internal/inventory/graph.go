package inventory

import (
	"cmp"
	"slices"
)

// Graph indexes the edges of an inventory: which indexes list a manifest, and which referrers
// name it as their subject. Images are addressed by their position in the slice the graph
// was built from; only edges between images present in that slice are kept.
type Graph struct {
	// pos finds the images of a slice by digest; a Table finds its own.
	pos       map[string]int
	table     *Table
	parents   edges
	referrers edges
}

// edges holds, for each image, the images at the other end of its edges: image i's are
// to[start[i]:start[i+1]]. start is nil when no image has any, as in every inventory read
// from describe-images output (which lists no index children) without referrers.
type edges struct {
	start []int32
	to    []int
}

func (e *edges) of(i int) []int {
	if e.start == nil {
		return nil
	}
	s, t := e.start[i], e.start[i+1]
	if s == t {
		return nil
	}
	return e.to[s:t:t]
}

// NewGraph builds the edge index of images. Digests are compared as given.
func NewGraph(images []Image) *Graph {
	return ListOf(images).Graph()
}

// Graph builds the edge index of the images of l. Digests are compared as given.
func (l List) Graph() *Graph {
	g := &Graph{table: l.table}
	n := l.Len()
	if l.table == nil {
		g.pos = make(map[string]int, n)
		for i := range l.images {
			g.pos[l.images[i].Digest] = i
		}
	}
	// Edges as (from, to) pairs: parents from child to index, referrers from subject to
	// referrer.
	var parents, referrers [][2]int
	if l.table != nil {
		for k, at := range l.table.subjects.at {
			if j, ok := g.Index(l.table.subjects.val[k]); ok && j != int(at) {
				referrers = append(referrers, [2]int{j, int(at)})
			}
		}
	} else {
		for i := range l.images {
			img := &l.images[i]
			for _, c := range img.Children {
				if j, ok := g.pos[c.Digest]; ok && j != i {
					parents = append(parents, [2]int{j, i})
				}
			}
			if img.Subject != "" {
				if j, ok := g.pos[img.Subject]; ok && j != i {
					referrers = append(referrers, [2]int{j, i})
				}
			}
		}
	}
	g.parents = newEdges(n, parents, l)
	g.referrers = newEdges(n, referrers, l)
	return g
}

// newEdges indexes pairs by their first image, each list ordered by digest and without
// repeats (an index that lists one manifest twice is its parent once).
func newEdges(n int, pairs [][2]int, l List) edges {
	if len(pairs) == 0 {
		return edges{}
	}
	slices.SortFunc(pairs, func(a, b [2]int) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		if c := l.CompareDigests(a[1], b[1]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	pairs = slices.Compact(pairs)
	e := edges{start: make([]int32, n+1), to: make([]int, len(pairs))}
	for k, p := range pairs {
		e.start[p[0]+1]++
		e.to[k] = p[1]
	}
	for i := range n {
		e.start[i+1] += e.start[i]
	}
	return e
}

// Index returns the position of digest in the slice the graph was built from.
func (g *Graph) Index(digest string) (int, bool) {
	if g.table != nil {
		return g.table.find(digest)
	}
	n, ok := g.pos[digest]
	return n, ok
}

// Parents returns the positions of the indexes that list image i, ordered by digest.
func (g *Graph) Parents(i int) []int { return g.parents.of(i) }

// Referrers returns the positions of the images whose subject is image i, ordered by digest.
func (g *Graph) Referrers(i int) []int { return g.referrers.of(i) }
