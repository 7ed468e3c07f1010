package inventory

import (
	"strings"
	"time"
)

// List reads the images of an inventory by position, in whichever form the inventory holds
// them: Images, or a compact Table. Its methods return what the Image fields of the same
// names hold. For a Table they build strings and times as they are asked for, so code that
// walks a million images asks only for what it needs: CompareDigests and AppendDigest
// rather than Digest, for instance.
//
// The zero List is empty.
type List struct {
	images []Image
	table  *Table
}

// ListOf returns the List of images.
func ListOf(images []Image) List { return List{images: images} }

// List returns the List of the inventory's images.
func (inv *Inventory) List() List {
	if inv.Table != nil {
		return List{table: inv.Table}
	}
	return List{images: inv.Images}
}

// Len returns the number of images.
func (l List) Len() int {
	if l.table != nil {
		return l.table.Len()
	}
	return len(l.images)
}

// Image returns image i. An image of a Table is built anew at each call.
func (l List) Image(i int) Image {
	if l.table != nil {
		return l.table.image(i)
	}
	return l.images[i]
}

// Digest returns the digest of image i.
func (l List) Digest(i int) string {
	if l.table != nil {
		return l.table.digest(i)
	}
	return l.images[i].Digest
}

// AppendDigest appends the digest of image i to b.
func (l List) AppendDigest(b []byte, i int) []byte {
	if l.table != nil {
		return l.table.appendDigest(b, i)
	}
	return append(b, l.images[i].Digest...)
}

// CompareDigests compares the digests of images i and j as strings.Compare does.
func (l List) CompareDigests(i, j int) int {
	if l.table != nil {
		return l.table.compareDigests(i, j)
	}
	return strings.Compare(l.images[i].Digest, l.images[j].Digest)
}

// Tags returns the tags of image i, which the caller must not change.
func (l List) Tags(i int) []string {
	if l.table != nil {
		return l.table.tagsOf(i)
	}
	return l.images[i].Tags
}

// MediaType returns the media type of image i.
func (l List) MediaType(i int) string {
	if l.table != nil {
		return l.table.kindOf(i).mediaType
	}
	return l.images[i].MediaType
}

// IsIndex reports whether image i is an image index or manifest list.
func (l List) IsIndex(i int) bool {
	mt := l.MediaType(i)
	return mt == MediaTypeOCIIndex || mt == MediaTypeDockerList
}

// ImageStatus returns the status of image i, treating an empty one as ACTIVE.
func (l List) ImageStatus(i int) Status {
	if l.table != nil {
		if s := l.table.kindOf(i).status; s != "" {
			return s
		}
		return StatusActive
	}
	return l.images[i].ImageStatus()
}

// PushedAt returns when image i was pushed.
func (l List) PushedAt(i int) time.Time {
	if l.table != nil {
		return l.table.pushedAt(i)
	}
	return l.images[i].PushedAt
}

// LastPulledAt returns when image i was last pulled.
func (l List) LastPulledAt(i int) time.Time {
	if l.table != nil {
		return l.table.lastPulledAt(i)
	}
	return l.images[i].LastPulledAt
}

// LastArchivedAt returns when image i was last archived.
func (l List) LastArchivedAt(i int) time.Time {
	if l.table != nil {
		return l.table.lastArchivedAt(i)
	}
	return l.images[i].LastArchivedAt
}

// LastActivatedAt returns when image i was last restored from archive.
func (l List) LastActivatedAt(i int) time.Time {
	if l.table != nil {
		return l.table.lastActivatedAt(i)
	}
	return l.images[i].LastActivatedAt
}

// SizeBytes returns the registry's size figure of image i.
func (l List) SizeBytes(i int) int64 {
	if l.table != nil {
		return l.table.rec(i).size
	}
	return l.images[i].SizeBytes
}

// Subject returns the digest image i refers to, or "".
func (l List) Subject(i int) string {
	if l.table != nil {
		return l.table.subject(i)
	}
	return l.images[i].Subject
}

// Children returns the manifests image i, an index, lists; nil when unknown, as always in
// a Table.
func (l List) Children(i int) []Child {
	if l.table != nil {
		return nil
	}
	return l.images[i].Children
}
