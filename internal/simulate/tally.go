package simulate

import "github.com/shipshape-dev/shipshape/internal/inventory"

// class is a storage account the tally keeps.
type class int

const (
	standard class = iota // ACTIVE and ACTIVATING images
	archive               // ARCHIVED images
	billed                // ARCHIVED images and those deleted before their archive minimum
	classes
)

// tally keeps the deduplicated size of each storage class as images come and go, counting
// as inventory.Storage does (each blob once, however many images of the class reference it;
// manifests without known blobs by their own size figure, except indexes, whose figure
// repeats their largest child's). inventory.Storage is rebuilt from all the images; the
// tally only looks at the images that change, which keeps a day's bookkeeping proportional
// to the day's pushes and removals rather than to the repository. TestTallyMatchesStorage
// holds the two to the same figures.
type tally struct {
	ids   map[string]int32
	size  []int64
	refs  [classes][]int32
	bytes [classes]int64
	seen  []int32 // scratch: the distinct blobs of one image
}

func newTally(n int) *tally {
	return &tally{ids: make(map[string]int32, n)}
}

// add counts img in class c.
func (t *tally) add(img *inventory.Image, c class) { t.update(img, c, 1) }

// remove stops counting img in class c.
func (t *tally) remove(img *inventory.Image, c class) { t.update(img, c, -1) }

func (t *tally) update(img *inventory.Image, c class, delta int32) {
	if img.Config == nil && len(img.Layers) == 0 {
		if !img.IsIndex() {
			t.bytes[c] += int64(delta) * max(img.SizeBytes, 0)
		}
		return
	}
	t.seen = t.seen[:0]
	visit := func(b *inventory.Blob) {
		id := t.id(b)
		for _, s := range t.seen {
			if s == id {
				return // the same blob twice in one image
			}
		}
		t.seen = append(t.seen, id)
		refs := t.refs[c]
		switch refs[id] += delta; {
		case delta > 0 && refs[id] == 1:
			t.bytes[c] += t.size[id]
		case delta < 0 && refs[id] == 0:
			t.bytes[c] -= t.size[id]
		}
	}
	if img.Config != nil {
		visit(img.Config)
	}
	for n := range img.Layers {
		visit(&img.Layers[n])
	}
}

// id numbers a blob the first time it is seen; its size is the size first seen, as in
// inventory.Storage.
func (t *tally) id(b *inventory.Blob) int32 {
	if id, ok := t.ids[b.Digest]; ok {
		return id
	}
	id := int32(len(t.size))
	t.ids[b.Digest] = id
	t.size = append(t.size, max(b.Size, 0))
	for c := range t.refs {
		t.refs[c] = append(t.refs[c], 0)
	}
	return id
}
