package plan

import (
	"math"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// sortKey orders push times, unknown (zero) before every known one.
func sortKey(pushed time.Time) int64 {
	if pushed.IsZero() {
		return math.MinInt64
	}
	return pushed.UnixNano()
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
