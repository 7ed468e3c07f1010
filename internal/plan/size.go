package plan

import (
	"math"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// sortKey orders unknown times before every known one.
func sortKey(img *inventory.Image) int64 {
	if img.PushedAt.IsZero() {
		return math.MinInt64
	}
	return img.PushedAt.UnixNano()
}

// Reclaimed returns the deduplicated bytes freed by removing the images for which removed
// reports true: blobs no remaining image references.
func Reclaimed(images []inventory.Image, removed func(digest string) bool) int64 {
	marked := make([]bool, len(images))
	for i := range images {
		marked[i] = removed(images[i].Digest)
	}
	return inventory.NewStorage(images).Only(marked)
}
