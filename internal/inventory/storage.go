package inventory

import "math"

// Storage accounts storage the way a registry stores it: each blob once per repository,
// however many images reference it. Images are addressed by their position in the slice (or
// List) the Storage was built from. Blobs are numbered once, so that the sums are plain array
// walks.
//
// Sums saturate at math.MaxInt64 rather than wrap around, and negative sizes (which the
// readers refuse, but an Image built elsewhere may carry) count as zero, so that no sum reads
// smaller than its parts.
type Storage struct {
	size  []int64 // blob → size
	refs  []int32 // blob → number of images that reference it
	first []int32 // image i's blobs are blobs[first[i]:first[i+1]]; nil when none has any
	blobs []int32
	// own is the size of images with no known blobs (describe-images input): their own
	// size figure, except for indexes, whose figure repeats their largest child's. A
	// Table's images have no blobs: their own sizes are read from it.
	own   []int64
	table *Table
}

// NewStorage numbers the blobs of images.
func NewStorage(images []Image) *Storage {
	return ListOf(images).Storage()
}

// Storage numbers the blobs of the images of l. A Table knows no blobs: its images count
// their own size figures.
func (l List) Storage() *Storage {
	if l.table != nil {
		return &Storage{table: l.table}
	}
	images := l.images
	s := &Storage{first: make([]int32, len(images)+1), own: make([]int64, len(images))}
	ids := make(map[string]int32)
	for i := range images {
		img := &images[i]
		s.first[i] = int32(len(s.blobs))
		if len(img.Layers) == 0 && img.Config == nil {
			if !img.IsIndex() {
				s.own[i] = max(img.SizeBytes, 0)
			}
			continue
		}
		add := func(b Blob) {
			id, ok := ids[b.Digest]
			if !ok {
				id = int32(len(s.size))
				ids[b.Digest] = id
				s.size = append(s.size, max(b.Size, 0))
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

// Total is the deduplicated size of all the images.
func (s *Storage) Total() int64 {
	var n int64
	for _, v := range s.size {
		n = AddSize(n, v)
	}
	for i := range s.images() {
		n = AddSize(n, s.ownSize(i))
	}
	return n
}

// images returns the number of images.
func (s *Storage) images() int {
	if s.table != nil {
		return s.table.Len()
	}
	return len(s.own)
}

// ownSize returns the own size of image i.
func (s *Storage) ownSize(i int) int64 {
	if t := s.table; t != nil {
		if (List{table: t}).IsIndex(i) {
			return 0
		}
		return max(t.rec(i).size, 0)
	}
	return s.own[i]
}

// Only sums the blobs that marked images alone reference (what removing them frees), and
// the own size of marked images without blob information.
func (s *Storage) Only(marked []bool) int64 {
	hits := make([]int32, len(s.size))
	var n int64
	for i, m := range marked {
		if !m {
			continue
		}
		n = AddSize(n, s.ownSize(i))
		for _, b := range s.blobsOf(i) {
			hits[b]++
			if hits[b] == s.refs[b] {
				n = AddSize(n, s.size[b])
			}
		}
	}
	return n
}

// Of sums the distinct blobs any marked image references.
func (s *Storage) Of(marked []bool) int64 {
	seen := make([]bool, len(s.size))
	var n int64
	for i, m := range marked {
		if !m {
			continue
		}
		n = AddSize(n, s.ownSize(i))
		for _, b := range s.blobsOf(i) {
			if !seen[b] {
				seen[b] = true
				n = AddSize(n, s.size[b])
			}
		}
	}
	return n
}

// blobsOf returns the blobs of image i.
func (s *Storage) blobsOf(i int) []int32 {
	if s.first == nil {
		return nil
	}
	return s.blobs[s.first[i]:s.first[i+1]]
}

// AddSize returns a+b, saturated at the bounds of int64 rather than wrapped around: a sum
// of sizes that does not fit reads as "at least this much", never as a small or negative
// number.
func AddSize(a, b int64) int64 {
	s := a + b
	if (s > a) != (b > 0) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}
