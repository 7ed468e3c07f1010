package inventory

import (
	"bytes"
	"encoding/hex"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Table holds the images of a compact inventory (see ReadCompact): what describe-images
// output says of each image, in about 80 bytes an image rather than the 400 of an Image and
// its strings, so that a repository of a million images is planned in a few hundred
// megabytes. A sha256 digest is held as its 32 bytes, a time as Unix nanoseconds, the media
// types and status as one number for the few distinct combinations, and the tags of all
// images in one slice. Read it through List.
//
// A Table never changes once read, so that any number of goroutines may read it.
type Table struct {
	// blocks holds the records, blockSize to a block, so that a table grows without
	// copying what it holds.
	blocks [][]record
	n      int
	// tags holds the tags of every image, in order: image i's are
	// tags[rec(i-1).tagEnd:rec(i).tagEnd].
	tags []string
	// kinds holds the distinct media types and statuses that rec(i).kind points into.
	kinds []kind
	// Rarely set fields, by image: digests other than sha256 in lower-case hex, subjects,
	// the times of archiving and restoring, and times beyond int64 nanoseconds.
	odd       sparse[string]
	subjects  sparse[string]
	archived  sparse[int64]
	activated sparse[int64]
	farTimes  map[farTime]time.Time
	// byDigest finds an image by digest.
	byDigest posIndex
	seed     maphash.Seed
}

// record is one image of a Table.
type record struct {
	// digest holds a sha256 digest's bytes; zero for a digest in odd.
	digest [32]byte
	// pushed and pulled are Unix nanoseconds, or noTime or farTime.
	pushed, pulled int64
	size           int64
	// tagEnd is the end of the image's tags in Table.tags.
	tagEnd uint32
	kind   uint32
}

// kind is the media types and status of an image, as an Image holds them.
type kind struct {
	mediaType, artifactType string
	status                  Status
}

// Stand-ins for times in a record: none, and one in Table.farTimes.
const (
	noTime  = math.MinInt64
	farAway = math.MinInt64 + 1
)

// Times of a record, to find one in Table.farTimes.
const (
	timePushed = iota
	timePulled
	timeArchived
	timeActivated
)

// farTime names a time outside int64 nanoseconds (before 1678 or after 2262).
type farTime struct {
	image int32
	which uint8
}

// Records go in blocks of blockSize (256 KB): a table of a million images grows by 250
// blocks, never copying, where a slice would copy several times what it holds as it grew.
const (
	blockBits = 12
	blockSize = 1 << blockBits
	blockMask = blockSize - 1
)

// rec returns the record of image i.
func (t *Table) rec(i int) *record {
	return &t.blocks[i>>blockBits][i&blockMask]
}

// add appends a record.
func (t *Table) add(r record) {
	if t.n&blockMask == 0 {
		t.blocks = append(t.blocks, make([]record, blockSize))
	}
	t.blocks[t.n>>blockBits][t.n&blockMask] = r
	t.n++
}

// maxTableImages bounds the images and the tags of a Table, which it counts in 32 bits:
// describe-images output of that many would be over a terabyte.
const maxTableImages = math.MaxInt32

// Len returns the number of images.
func (t *Table) Len() int { return t.n }

// digest returns image i's digest.
func (t *Table) digest(i int) string {
	if d, ok := t.odd.get(i); ok {
		return d
	}
	return string(t.appendDigest(make([]byte, 0, len(sha256Prefix)+sha256Len), i))
}

const sha256Prefix = "sha256:"

func (t *Table) appendDigest(b []byte, i int) []byte {
	if d, ok := t.odd.get(i); ok {
		return append(b, d...)
	}
	b = append(b, sha256Prefix...)
	return hex.AppendEncode(b, t.rec(i).digest[:])
}

// compareDigests compares the digests of images i and j as strings.
func (t *Table) compareDigests(i, j int) int {
	if len(t.odd.at) == 0 {
		return bytes.Compare(t.rec(i).digest[:], t.rec(j).digest[:])
	}
	_, oi := t.odd.get(i)
	_, oj := t.odd.get(j)
	if !oi && !oj {
		return bytes.Compare(t.rec(i).digest[:], t.rec(j).digest[:])
	}
	return strings.Compare(t.digest(i), t.digest(j))
}

func (t *Table) tagsOf(i int) []string {
	start := uint32(0)
	if i > 0 {
		start = t.rec(i - 1).tagEnd
	}
	end := t.rec(i).tagEnd
	if start == end {
		return nil
	}
	return t.tags[start:end:end]
}

func (t *Table) kindOf(i int) *kind { return &t.kinds[t.rec(i).kind] }

// time returns time which of image i, stored as v.
func (t *Table) time(i int, which uint8, v int64) time.Time {
	switch v {
	case noTime:
		return time.Time{}
	case farAway:
		return t.farTimes[farTime{int32(i), which}]
	}
	return time.Unix(0, v).UTC()
}

func (t *Table) sparseTime(s *sparse[int64], i int, which uint8) time.Time {
	v, ok := s.get(i)
	if !ok {
		return time.Time{}
	}
	return t.time(i, which, v)
}

func (t *Table) pushedAt(i int) time.Time {
	return t.time(i, timePushed, t.rec(i).pushed)
}

func (t *Table) lastPulledAt(i int) time.Time {
	return t.time(i, timePulled, t.rec(i).pulled)
}

func (t *Table) lastArchivedAt(i int) time.Time {
	return t.sparseTime(&t.archived, i, timeArchived)
}

func (t *Table) lastActivatedAt(i int) time.Time {
	return t.sparseTime(&t.activated, i, timeActivated)
}

func (t *Table) subject(i int) string {
	s, _ := t.subjects.get(i)
	return s
}

// image returns image i as an Image.
func (t *Table) image(i int) Image {
	k := t.kindOf(i)
	return Image{
		Digest:          t.digest(i),
		Tags:            t.tagsOf(i),
		MediaType:       k.mediaType,
		ArtifactType:    k.artifactType,
		PushedAt:        t.pushedAt(i),
		LastPulledAt:    t.lastPulledAt(i),
		LastArchivedAt:  t.lastArchivedAt(i),
		LastActivatedAt: t.lastActivatedAt(i),
		Status:          k.status,
		SizeBytes:       t.rec(i).size,
		Subject:         t.subject(i),
	}
}

// find returns the position of the image with digest d.
func (t *Table) find(d string) (int, bool) {
	if d == "" {
		return 0, false // every image has a digest
	}
	var h uint64
	var sum [32]byte
	canonical := decodeSHA256(d, &sum)
	if canonical {
		h = maphash.Bytes(t.seed, sum[:])
	} else {
		h = maphash.String(t.seed, d)
	}
	return t.byDigest.find(h, func(i int32) bool {
		if canonical {
			_, odd := t.odd.get(int(i))
			return !odd && t.rec(int(i)).digest == sum
		}
		o, odd := t.odd.get(int(i))
		return odd && o == d
	})
}

// hashOf hashes the digest of image i as find does.
func (t *Table) hashOf(i int32) uint64 {
	if d, ok := t.odd.get(int(i)); ok {
		return maphash.String(t.seed, d)
	}
	return maphash.Bytes(t.seed, t.rec(int(i)).digest[:])
}

// decodeSHA256 decodes d into sum if it is "sha256:" and 64 lower-case hex digits, the one
// spelling of a sha256 digest that ValidDigest accepts. d is a string or the bytes of one.
func decodeSHA256[S string | []byte](d S, sum *[32]byte) bool {
	if len(d) != len(sha256Prefix)+sha256Len || string(d[:len(sha256Prefix)]) != sha256Prefix {
		return false
	}
	c := uint8(classLowerHex)
	for i := len(sha256Prefix); i < len(d); i++ {
		c &= charClass[d[i]]
	}
	if c == 0 {
		return false
	}
	for i := range sum {
		hi, lo := d[len(sha256Prefix)+2*i], d[len(sha256Prefix)+2*i+1]
		sum[i] = hexValue[hi]<<4 | hexValue[lo]
	}
	return true
}

// hexValue maps a lower-case hex digit to its value.
var hexValue = func() (t [256]byte) {
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// sparse holds a value for a few images, in image order.
type sparse[T any] struct {
	at  []int32
	val []T
}

// add sets the value of image i, which comes after every image set so far.
func (s *sparse[T]) add(i int, v T) {
	s.at = append(s.at, int32(i))
	s.val = append(s.val, v)
}

func (s *sparse[T]) get(i int) (T, bool) {
	var zero T
	if len(s.at) == 0 {
		return zero, false
	}
	n, ok := slices.BinarySearch(s.at, int32(i))
	if !ok {
		return zero, false
	}
	return s.val[n], true
}

// posIndex finds positions (of images, of tags) by a hash of what is at them: an open
// addressing table of positions plus one (zero marks an empty slot), each beside the top
// half of its hash, which rules out most other positions without looking at what is there.
// The hash comes from a seeded maphash, so that no input can make many positions collide.
type posIndex struct {
	slots []uint64
	n     int
}

// find returns the position that hashes to h and for which eq is true.
func (x *posIndex) find(h uint64, eq func(int32) bool) (int, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for s := h & mask; ; s = (s + 1) & mask {
		v := x.slots[s]
		if v == 0 {
			return 0, false
		}
		if v>>32 == h>>32 && eq(int32(uint32(v))-1) {
			return int(uint32(v)) - 1, true
		}
	}
}

// insert adds position pos, which hashes to h; hash rehashes the positions already in when
// the table grows.
func (x *posIndex) insert(h uint64, pos int32, hash func(int32) uint64) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow(hash)
	}
	x.put(h, uint32(pos)+1)
	x.n++
}

func (x *posIndex) put(h uint64, v uint32) {
	mask := uint64(len(x.slots) - 1)
	s := h & mask
	for x.slots[s] != 0 {
		s = (s + 1) & mask
	}
	x.slots[s] = h>>32<<32 | uint64(v)
}

func (x *posIndex) grow(hash func(int32) uint64) {
	old := x.slots
	x.slots = make([]uint64, max(64, 2*len(old)))
	for _, v := range old {
		if v != 0 {
			x.put(hash(int32(uint32(v))-1), uint32(v))
		}
	}
}

// imageOfTag returns the image whose tags hold the tag at position n of Table.tags.
func (t *Table) imageOfTag(n int) int {
	return sort.Search(t.n, func(i int) bool { return int(t.rec(i).tagEnd) > n })
}
