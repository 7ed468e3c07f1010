package inventory

import (
	"slices"
	"strings"
)

// Graph indexes the edges of an inventory: which indexes list a manifest, and which referrers
// name it as their subject. Images are addressed by their position in the slice the graph
// was built from; only edges between images present in that slice are kept.
type Graph struct {
	pos       map[string]int
	parents   [][]int
	referrers [][]int
}

// NewGraph builds the edge index of images. Digests are compared as given.
func NewGraph(images []Image) *Graph {
	g := &Graph{
		pos:       make(map[string]int, len(images)),
		parents:   make([][]int, len(images)),
		referrers: make([][]int, len(images)),
	}
	for n := range images {
		g.pos[images[n].Digest] = n
	}
	for n := range images {
		img := &images[n]
		for _, c := range img.Children {
			if j, ok := g.pos[c.Digest]; ok && j != n && !slices.Contains(g.parents[j], n) {
				g.parents[j] = append(g.parents[j], n)
			}
		}
		if img.Subject != "" {
			if j, ok := g.pos[img.Subject]; ok && j != n {
				g.referrers[j] = append(g.referrers[j], n)
			}
		}
	}
	byDigest := func(a, b int) int { return strings.Compare(images[a].Digest, images[b].Digest) }
	for _, edges := range [][][]int{g.parents, g.referrers} {
		for _, e := range edges {
			if len(e) > 1 {
				slices.SortFunc(e, byDigest)
			}
		}
	}
	return g
}

// Index returns the position of digest in the slice the graph was built from.
func (g *Graph) Index(digest string) (int, bool) {
	n, ok := g.pos[digest]
	return n, ok
}

// Parents returns the positions of the indexes that list image i, ordered by digest.
func (g *Graph) Parents(i int) []int { return g.parents[i] }

// Referrers returns the positions of the images whose subject is image i, ordered by digest.
func (g *Graph) Referrers(i int) []int { return g.referrers[i] }
