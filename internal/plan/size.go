package plan

import (
	"math"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// blobSizes accounts storage the way a registry stores it: each blob once per repository,
// however many images reference it. Blobs are numbered once, so that the sums below are
// plain array walks.
type blobSizes struct {
	size  []int64 // blob → size
	refs  []int32 // blob → number of images that reference it
	first []int32 // image i's blobs are blobs[first[i]:first[i+1]]
	blobs []int32
	// own is the size of images with no known blobs (describe-images input): their own
	// size figure, except for indexes, whose figure repeats their largest child's.
	own []int64
}

func sizes(images []inventory.Image) *blobSizes {
	s := &blobSizes{first: make([]int32, len(images)+1), own: make([]int64, len(images))}
	ids := make(map[string]int32)
	for i := range images {
		img := &images[i]
		s.first[i] = int32(len(s.blobs))
		if len(img.Layers) == 0 && img.Config == nil {
			if !img.IsIndex() {
				s.own[i] = img.SizeBytes
			}
			continue
		}
		add := func(b inventory.Blob) {
			id, ok := ids[b.Digest]
			if !ok {
				id = int32(len(s.size))
				ids[b.Digest] = id
				s.size = append(s.size, b.Size)
				s.refs = append(s.refs, 0)
			}
			for _, seen := range s.blobs[s.first[i]:] {
				if seen == id {
					return // the same blob twice in one image
				}
			}
			s.blobs = append(s.blobs, id)
			s.refs[id]++
		}
		if img.Config != nil {
			add(*img.Config)
		}
		for _, l := range img.Layers {
			add(l)
		}
	}
	s.first[len(images)] = int32(len(s.blobs))
	return s
}

func (s *blobSizes) total() int64 {
	var n int64
	for _, v := range s.size {
		n += v
	}
	for _, v := range s.own {
		n += v
	}
	return n
}

// only sums the blobs referenced by marked images alone: what removing them frees.
func (s *blobSizes) only(marked []bool) int64 {
	hits := make([]int32, len(s.size))
	var n int64
	for i, m := range marked {
		if !m {
			continue
		}
		n += s.own[i]
		for _, b := range s.blobs[s.first[i]:s.first[i+1]] {
			hits[b]++
			if hits[b] == s.refs[b] {
				n += s.size[b]
			}
		}
	}
	return n
}

// of sums the distinct blobs any marked image references.
func (s *blobSizes) of(marked []bool) int64 {
	seen := make([]bool, len(s.size))
	var n int64
	for i, m := range marked {
		if !m {
			continue
		}
		n += s.own[i]
		for _, b := range s.blobs[s.first[i]:s.first[i+1]] {
			if !seen[b] {
				seen[b] = true
				n += s.size[b]
			}
		}
	}
	return n
}

// sortKey orders unknown times before every known one.
func sortKey(img *inventory.Image) int64 {
	if img.PushedAt.IsZero() {
		return math.MinInt64
	}
	return img.PushedAt.UnixNano()
}
