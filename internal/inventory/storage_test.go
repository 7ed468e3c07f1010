package inventory_test

import (
	"math"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// TestStorageSaturates checks that sums of sizes stop at math.MaxInt64 rather than wrap
// around to a small or negative figure, and that a negative size counts as nothing.
func TestStorageSaturates(t *testing.T) {
	t.Parallel()
	huge := int64(math.MaxInt64 - 10)
	for _, tt := range []struct {
		name            string
		images          []inventory.Image
		total, only, of int64
	}{{
		name: "own sizes",
		images: []inventory.Image{
			{Digest: digestA, SizeBytes: huge},
			{Digest: digestB, SizeBytes: huge},
		},
		total: math.MaxInt64, only: huge, of: math.MaxInt64,
	}, {
		name: "blobs",
		images: []inventory.Image{
			{Digest: digestA, Layers: []inventory.Blob{{Digest: digestC, Size: huge}, {Digest: digestD, Size: 11}}},
			{Digest: digestB, Layers: []inventory.Blob{{Digest: digestC, Size: huge}}, Config: &inventory.Blob{Digest: digestE, Size: huge}},
		},
		total: math.MaxInt64, only: 11, of: math.MaxInt64,
	}, {
		name: "just fits",
		images: []inventory.Image{
			{Digest: digestA, SizeBytes: huge},
			{Digest: digestB, SizeBytes: 10},
		},
		total: math.MaxInt64, only: huge, of: math.MaxInt64,
	}, {
		name: "negative sizes count as zero",
		images: []inventory.Image{
			{Digest: digestA, SizeBytes: -100},
			{Digest: digestB, Layers: []inventory.Blob{{Digest: digestC, Size: -5}, {Digest: digestD, Size: 7}}},
		},
		total: 7, only: 0, of: 7,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := inventory.NewStorage(tt.images)
			all := make([]bool, len(tt.images))
			for i := range all {
				all[i] = true
			}
			first := make([]bool, len(tt.images))
			first[0] = true
			if got := s.Total(); got != tt.total {
				t.Errorf("Total() = %d, want %d", got, tt.total)
			}
			if got := s.Only(first); got != tt.only {
				t.Errorf("Only(first) = %d, want %d", got, tt.only)
			}
			if got := s.Of(all); got != tt.of {
				t.Errorf("Of(all) = %d, want %d", got, tt.of)
			}
		})
	}
}
