package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Snapshot identification: the value of "kind" and the format version this package reads
// and writes. docs/snapshot.md describes the format.
const (
	SnapshotKind    = "shipshape.snapshot"
	SnapshotVersion = 1
)

// Read reads an inventory in any format shipshape accepts: a shipshape snapshot (a JSON
// object whose kind is "shipshape.snapshot") or the output of `aws ecr describe-images` in
// any of the shapes ReadDescribeImages accepts.
func Read(r io.Reader) (*Inventory, error) {
	inv, err := ReadCompact(r)
	if err != nil {
		return nil, err
	}
	return inv.Expanded(), nil
}

// ReadCompact reads an inventory as Read does, but describe-images output into a compact
// inventory (see Table), streamed: neither the input nor an Image per image is ever held,
// so that a million images take some 80 MB rather than a gigabyte. A snapshot, whose
// layers and index children a Table does not hold, is read whole into Images, as Read
// reads it.
func ReadCompact(r io.Reader) (*Inventory, error) {
	l := newStreamLexer(r)
	// The window keeps the input from its start until the format is known: a snapshot is
	// read from memory, whole.
	l.setMark(0)
	if l.in.err != nil && len(l.data) == 0 {
		return nil, fmt.Errorf("reading input: %w", l.in.err)
	}
	if err := checkEncoding(l.data); err != nil {
		return nil, err
	}
	if l.space(); l.pos == len(l.data) {
		if l.in.err != nil {
			return nil, fmt.Errorf("reading input: %w", l.in.err)
		}
		return nil, errors.New("empty input")
	}
	if l.looksLikeSnapshot() {
		// The window holds the input from its start: looksLikeSnapshot kept it.
		if l.in.err != nil {
			return nil, fmt.Errorf("reading input: %w", l.in.err)
		}
		data := l.data
		if !l.in.eof {
			var err error
			if data, err = readOn(l.data, l.in.r); err != nil {
				return nil, err
			}
		}
		return readSnapshot(data)
	}
	return readDescribeImages(l)
}

// looksLikeSnapshot reports whether the input is a JSON object with snapshot fields rather
// than a describe-images response. It reads member names only until one decides (kind comes
// first in snapshots, imageDetails in describe-images output), so it does not read the
// images. The window must hold the input from its start, under a mark; it leaves the lexer
// there, and the mark set if it returns true.
func (l *lexer) looksLikeSnapshot() bool {
	defer l.seek(0)
	more, err := l.beginObject()
	for ; more && err == nil; more, err = l.nextMember() {
		key, err := l.key()
		if err != nil {
			return false
		}
		switch string(key) {
		case "imageDetails", "nextToken":
			l.resetMark(-1)
			return false
		case "kind", "version", "images", "repository", "capturedAt", "notes":
			return true
		}
		if err := l.skipValue(); err != nil {
			break
		}
	}
	l.resetMark(-1)
	return false
}

// ReadSnapshot reads a shipshape snapshot, as WriteSnapshot writes it. It is strict: fields it
// does not know (names are case-sensitive) are errors, and so are values of the wrong type, a
// key repeated in an object, a kind other than "shipshape.snapshot", a version other than 1,
// a missing digest, a digest listed twice, a digest that ValidDigest refuses, a tag that
// ValidTag refuses, a tag on two images or twice on one, and a size that is negative or
// beyond int64. Times are returned in UTC.
func ReadSnapshot(r io.Reader) (*Inventory, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	if err := checkEncoding(data); err != nil {
		return nil, err
	}
	return readSnapshot(data)
}

func readSnapshot(data []byte) (*Inventory, error) {
	p := &snapshotParser{lexer: lexer{data: data}}
	inv, err := p.snapshot()
	if err != nil {
		// A newer or foreign file is better reported as such than by its first odd field.
		if herr := snapshotHeader(data); herr != nil {
			return nil, herr
		}
		return nil, err
	}
	return inv, nil
}

// snapshotHeader checks kind and version without reading the rest of the file. It returns
// nil if they are fine, missing, or cannot be found.
func snapshotHeader(data []byte) error {
	l := &lexer{data: data}
	var seen keySet
	more, err := l.beginObject()
	for ; more && err == nil; more, err = l.nextMember() {
		key, err := l.key()
		if err != nil {
			return nil
		}
		if m := snapshotMember(key); m != memberUnknown && !seen.add(m) {
			return nil // a repeated key, which the full read reports
		}
		switch string(key) {
		case "kind":
			if l.peek() == '"' {
				if kind, err := l.str(); err == nil {
					if err := checkKind(string(kind)); err != nil {
						return err
					}
					continue
				}
			}
		case "version":
			if c := l.peek(); '0' <= c && c <= '9' {
				if b, err := l.number(); err == nil {
					if v, ok := digits(b); ok && len(b) <= 9 {
						if err := checkVersion(v); err != nil {
							return err
						}
					}
					continue
				}
			}
		}
		if err := l.skipValue(); err != nil {
			return nil
		}
	}
	return nil
}

func checkKind(kind string) error {
	switch kind {
	case SnapshotKind:
		return nil
	case "":
		return fmt.Errorf("kind: missing (want %q)", SnapshotKind)
	}
	return fmt.Errorf("kind: %q is not %q", kind, SnapshotKind)
}

func checkVersion(v int) error {
	switch {
	case v == SnapshotVersion:
		return nil
	case v == 0:
		return fmt.Errorf("version: missing (want %d)", SnapshotVersion)
	case v > SnapshotVersion:
		return fmt.Errorf("version: snapshot version %d was written by a newer shipshape; this one reads version %d", v, SnapshotVersion)
	}
	return fmt.Errorf("version: unsupported snapshot version %d (want %d)", v, SnapshotVersion)
}

// fieldError is an error in the value at path, a JSON path such as images[2].pushedAt.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// at puts err inside elem, a field name or an index "[n]": it prefixes elem to err's path.
// Syntax errors, which give a line and column, are returned as they are.
func at(elem string, err error) error {
	var syn *syntaxError
	var f *fieldError
	switch {
	case errors.As(err, &syn):
		return err
	case errors.As(err, &f):
		if strings.HasPrefix(f.path, "[") {
			f.path = elem + f.path
		} else {
			f.path = elem + "." + f.path
		}
		return f
	}
	return &fieldError{elem, err}
}

func index(n int) string { return "[" + strconv.Itoa(n) + "]" }

// Errors about a value, without its path.
var (
	errMissing      = errors.New("missing")
	errUnknown      = errors.New("unknown field")
	errDuplicateKey = errors.New("duplicate key")
	errString       = errors.New("want a string")
	errStrings      = errors.New("want an array of strings")
	errArray        = errors.New("want an array")
	errObject       = errors.New("want an object")
	errStrMap       = errors.New("want an object of strings")
	errSize         = errors.New("want a number of bytes")
	errVersion      = errors.New("want an integer")
	errTimeNum      = errors.New("cannot use a number as a time (want an RFC 3339 string)")
)

// sampleImages is how many images snapshotParser reads before it estimates how many there are.
const sampleImages = 64

// snapshotParser reads a snapshot in one pass; see lexer.
type snapshotParser struct {
	lexer
	interned interner
}

func (p *snapshotParser) snapshot() (*Inventory, error) {
	if p.peek() == 0 && p.pos == len(p.data) {
		return nil, errors.New("empty snapshot")
	}
	if p.peek() != '{' {
		return nil, p.unexpected("a JSON object (a shipshape snapshot)")
	}
	inv := &Inventory{}
	var kind string
	version := 0
	var seen keySet
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		m := snapshotMember(key)
		if m != memberUnknown && !seen.add(m) {
			return nil, at(string(key), errDuplicateKey)
		}
		switch m {
		case memberKind:
			if kind, err = p.stringValue(); err == nil {
				if err := checkKind(kind); err != nil {
					return nil, err
				}
			}
		case memberVersion:
			if version, err = p.version(); err == nil {
				if err := checkVersion(version); err != nil {
					return nil, err
				}
			}
		case memberRepository:
			inv.Repository, err = p.stringValue()
		case memberCapturedAt:
			inv.CapturedAt, err = p.timeValue()
		case memberNotes:
			inv.Notes, err = p.stringArray()
		case memberImages:
			inv.Images, err = p.images()
		default:
			err = errUnknown
		}
		if err != nil {
			return nil, at(string(key), err)
		}
	}
	if err != nil {
		return nil, err
	}
	if p.pos = skipSpace(p.data, p.pos); p.pos < len(p.data) {
		return nil, p.syntaxError("unexpected data after the snapshot")
	}
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	if inv.Images == nil {
		inv.Images = []Image{}
	}
	return inv, nil
}

func (p *snapshotParser) images() ([]Image, error) {
	if p.peek() == 'n' {
		return nil, p.literal("null")
	}
	if p.peek() != '[' {
		return nil, p.want(errArray)
	}
	var images []Image
	// seen maps each digest to the image it was read on, and tagged holds the tags read so
	// far. A digest listed twice is an error even if both entries agree: WriteSnapshot never
	// writes one.
	seen := make(map[string]int)
	tagged := make(map[string]struct{})
	start := p.pos
	more, err := p.beginArray()
	for n := 0; more; more, err = p.nextElement() {
		if n == sampleImages {
			// Size the slice and maps for the rest of the images, estimated from the size
			// of the first ones, rather than grow them step by step: with a hundred thousand
			// images, growing copies several times their size.
			scale := 1.2 * float64(len(p.data)-start) / float64(p.pos-start)
			estimate := int(float64(n) * scale)
			images = slices.Grow(images, estimate-n)
			grown := make(map[string]int, estimate)
			maps.Copy(grown, seen)
			seen = grown
			grownTags := make(map[string]struct{}, int(float64(len(tagged))*scale))
			maps.Copy(grownTags, tagged)
			tagged = grownTags
		}
		images = append(images, Image{})
		img := &images[n]
		if err := p.image(img); err != nil {
			return nil, at(index(n), err)
		}
		if prev, ok := seen[img.Digest]; ok {
			return nil, at(index(n), at("digest", fmt.Errorf("duplicate digest %s (also at images[%d])", img.Digest, prev)))
		}
		seen[img.Digest] = n
		if err := checkTags(images, n, tagged); err != nil {
			return nil, at(index(n), err)
		}
		n++
	}
	if err != nil {
		return nil, err
	}
	if images == nil {
		images = []Image{}
	}
	return images, nil
}

// checkTags checks the tags of images[n], the image just read: each must be valid, on no
// other image, and listed once. Two images with one tag cannot both be what it names, and a
// plan that took either would keep or delete the wrong one. tagged holds the tags of the
// images before n, and gets those of n.
func checkTags(images []Image, n int, tagged map[string]struct{}) error {
	img := &images[n]
	for k, tag := range img.Tags {
		if err := ValidTag(tag); err != nil {
			return at("tags", at(index(k), err))
		}
		size := len(tagged)
		if tagged[tag] = struct{}{}; len(tagged) > size {
			continue // a new tag, found with one map operation
		}
		var err error
		if prev := taggedBefore(images, n, tag); prev < 0 {
			err = fmt.Errorf("duplicate tag %q (also at tags%s)", tag, index(slices.Index(img.Tags, tag)))
		} else {
			err = fmt.Errorf("tag %q on two images: %s (images[%d]) and %s", tag, images[prev].Digest, prev, img.Digest)
		}
		return at("tags", at(index(k), err))
	}
	return nil
}

// taggedBefore returns the position of the image before images[n] that has tag, or -1.
func taggedBefore(images []Image, n int, tag string) int {
	for i := range images[:n] {
		if slices.Contains(images[i].Tags, tag) {
			return i
		}
	}
	return -1
}

func (p *snapshotParser) image(img *Image) error {
	if p.peek() != '{' {
		return p.want(errObject)
	}
	var seen keySet
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return err
		}
		m := snapshotMember(key)
		if m != memberUnknown && !seen.add(m) {
			return at(string(key), errDuplicateKey)
		}
		switch m {
		case memberDigest:
			img.Digest, err = p.digestValue()
		case memberTags:
			img.Tags, err = p.stringArray()
		case memberMediaType:
			img.MediaType, err = p.internedValue()
		case memberArtifactType:
			img.ArtifactType, err = p.internedValue()
		case memberPushedAt:
			img.PushedAt, err = p.timeValue()
		case memberLastPulledAt:
			img.LastPulledAt, err = p.timeValue()
		case memberStatus:
			var s string
			if s, err = p.internedValue(); err == nil {
				img.Status, err = parseStatus(s)
			}
		case memberLastArchivedAt:
			img.LastArchivedAt, err = p.timeValue()
		case memberLastActivatedAt:
			img.LastActivatedAt, err = p.timeValue()
		case memberSizeBytes:
			img.SizeBytes, err = p.size()
		case memberSubject:
			img.Subject, err = p.digestValue()
		case memberChildren:
			img.Children, err = p.children()
		case memberConfig:
			if p.peek() == 'n' {
				err = p.literal("null")
				break
			}
			var b Blob
			if b, err = p.blob(); err == nil {
				img.Config = &b
			}
		case memberLayers:
			img.Layers, err = p.blobs()
		case memberLabels:
			img.Labels, err = p.stringMap()
		default:
			err = errUnknown
		}
		if err != nil {
			return at(string(key), err)
		}
	}
	if err != nil {
		return err
	}
	if img.Digest == "" {
		return at("digest", errMissing)
	}
	return nil
}

// children reads an index's children: null is nil (unknown), [] is empty (none).
func (p *snapshotParser) children() ([]Child, error) {
	if p.peek() == 'n' {
		return nil, p.literal("null")
	}
	if p.peek() != '[' {
		return nil, p.want(errArray)
	}
	children := make([]Child, 0, 2)
	more, err := p.beginArray()
	for n := 0; more; more, err = p.nextElement() {
		c, err := p.child()
		if err != nil {
			return nil, at(index(n), err)
		}
		children = append(children, c)
		n++
	}
	return children, err
}

func (p *snapshotParser) child() (Child, error) {
	var c Child
	if p.peek() != '{' {
		return c, p.want(errObject)
	}
	var seen keySet
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return c, err
		}
		m := snapshotMember(key)
		if m != memberUnknown && !seen.add(m) {
			return c, at(string(key), errDuplicateKey)
		}
		switch m {
		case memberDigest:
			c.Digest, err = p.digestValue()
		case memberMediaType:
			c.MediaType, err = p.internedValue()
		case memberPlatform:
			c.Platform, err = p.internedValue()
		case memberAnnotations:
			c.Annotations, err = p.stringMap()
		default:
			err = errUnknown
		}
		if err != nil {
			return c, at(string(key), err)
		}
	}
	if err == nil && c.Digest == "" {
		err = at("digest", errMissing)
	}
	return c, err
}

// blobs reads layers: null is nil (unknown), [] is empty (none).
func (p *snapshotParser) blobs() ([]Blob, error) {
	if p.peek() == 'n' {
		return nil, p.literal("null")
	}
	if p.peek() != '[' {
		return nil, p.want(errArray)
	}
	blobs := make([]Blob, 0, 4)
	more, err := p.beginArray()
	for n := 0; more; more, err = p.nextElement() {
		b, err := p.blob()
		if err != nil {
			return nil, at(index(n), err)
		}
		blobs = append(blobs, b)
		n++
	}
	return blobs, err
}

func (p *snapshotParser) blob() (Blob, error) {
	var b Blob
	if p.peek() != '{' {
		return b, p.want(errObject)
	}
	var seen keySet
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return b, err
		}
		m := snapshotMember(key)
		if m != memberUnknown && !seen.add(m) {
			return b, at(string(key), errDuplicateKey)
		}
		switch m {
		case memberDigest:
			b.Digest, err = p.digestValue()
		case memberSize:
			b.Size, err = p.size()
		default:
			err = errUnknown
		}
		if err != nil {
			return b, at(string(key), err)
		}
	}
	if err == nil && b.Digest == "" {
		err = at("digest", errMissing)
	}
	return b, err
}

// Members of the objects of a snapshot, numbered for a keySet. An object's reader takes the
// ones it knows; the others are unknown fields there.
const (
	memberUnknown = iota - 1
	memberKind
	memberVersion
	memberRepository
	memberCapturedAt
	memberNotes
	memberImages
	memberDigest
	memberTags
	memberMediaType
	memberArtifactType
	memberPushedAt
	memberLastPulledAt
	memberStatus
	memberLastArchivedAt
	memberLastActivatedAt
	memberSizeBytes
	memberSubject
	memberChildren
	memberConfig
	memberLayers
	memberLabels
	memberPlatform
	memberAnnotations
	memberSize
)

func snapshotMember(key []byte) int {
	switch string(key) {
	case "kind":
		return memberKind
	case "version":
		return memberVersion
	case "repository":
		return memberRepository
	case "capturedAt":
		return memberCapturedAt
	case "notes":
		return memberNotes
	case "images":
		return memberImages
	case "digest":
		return memberDigest
	case "tags":
		return memberTags
	case "mediaType":
		return memberMediaType
	case "artifactType":
		return memberArtifactType
	case "pushedAt":
		return memberPushedAt
	case "lastPulledAt":
		return memberLastPulledAt
	case "status":
		return memberStatus
	case "lastArchivedAt":
		return memberLastArchivedAt
	case "lastActivatedAt":
		return memberLastActivatedAt
	case "sizeBytes":
		return memberSizeBytes
	case "subject":
		return memberSubject
	case "children":
		return memberChildren
	case "config":
		return memberConfig
	case "layers":
		return memberLayers
	case "labels":
		return memberLabels
	case "platform":
		return memberPlatform
	case "annotations":
		return memberAnnotations
	case "size":
		return memberSize
	}
	return memberUnknown
}

// digestValue reads a digest; null is "". A digest that is not empty must be valid.
func (p *snapshotParser) digestValue() (string, error) {
	s, err := p.stringValue()
	if err != nil || s == "" {
		return s, err
	}
	return s, ValidDigest(s)
}

// stringValue reads a string; null is "".
func (p *snapshotParser) stringValue() (string, error) {
	b, err := p.rawString()
	return string(b), err
}

// internedValue is stringValue for values that repeat across images.
func (p *snapshotParser) internedValue() (string, error) {
	b, err := p.rawString()
	return p.interned.intern(b), err
}

func (p *snapshotParser) rawString() ([]byte, error) {
	switch p.peek() {
	case '"':
		return p.str()
	case 'n':
		return nil, p.literal("null")
	}
	return nil, p.want(errString)
}

// want returns err for a value of the wrong type, or a syntax error if it is no value at all.
func (p *snapshotParser) want(err error) error {
	switch c := p.peek(); {
	case c == '"', c == '{', c == '[', c == 't', c == 'f', c == 'n', c == '-', '0' <= c && c <= '9':
		return err
	}
	return p.unexpected("a JSON value")
}

// stringArray reads an array of strings; null and [] are nil.
func (p *snapshotParser) stringArray() ([]string, error) {
	if p.peek() == 'n' {
		return nil, p.literal("null")
	}
	if p.peek() != '[' {
		return nil, p.want(errStrings)
	}
	var s []string
	more, err := p.beginArray()
	for ; more; more, err = p.nextElement() {
		if p.peek() != '"' {
			return nil, p.want(errStrings)
		}
		b, err := p.str()
		if err != nil {
			return nil, err
		}
		s = append(s, string(b))
	}
	return s, err
}

// stringMap reads an object of strings; null and {} are nil.
func (p *snapshotParser) stringMap() (map[string]string, error) {
	if p.peek() == 'n' {
		return nil, p.literal("null")
	}
	if p.peek() != '{' {
		return nil, p.want(errStrMap)
	}
	var m map[string]string
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if p.peek() != '"' {
			return nil, at(string(key), p.want(errString))
		}
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = make(map[string]string, 4)
		}
		n := len(m)
		if m[p.interned.intern(key)] = string(v); len(m) == n {
			return nil, at(string(key), errDuplicateKey)
		}
	}
	return m, err
}

// size reads a non-negative integer; null is 0.
func (p *snapshotParser) size() (int64, error) {
	switch c := p.peek(); {
	case c == 'n':
		return 0, p.literal("null")
	case c != '-' && (c < '0' || c > '9'):
		return 0, p.want(errSize)
	}
	b, err := p.number()
	if err != nil {
		return 0, err
	}
	return parseSize(b)
}

func (p *snapshotParser) version() (int, error) {
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, p.want(errVersion)
	}
	b, err := p.number()
	if err != nil {
		return 0, err
	}
	n, ok := digits(b)
	if !ok || len(b) > 9 {
		return 0, fmt.Errorf("want an integer, got %s", b)
	}
	return n, nil
}

// timeValue reads an RFC 3339 string; null and "" are the zero time.
func (p *snapshotParser) timeValue() (time.Time, error) {
	switch c := p.peek(); {
	case c == 'n':
		return time.Time{}, p.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return time.Time{}, errTimeNum
	case c != '"':
		return time.Time{}, p.want(errString)
	}
	start := p.pos
	s, err := p.str()
	if err != nil || len(s) == 0 {
		return time.Time{}, err
	}
	t, ok := parseRFC3339(s)
	if !ok {
		return time.Time{}, fmt.Errorf("cannot parse %s as a time (want an RFC 3339 string)", abbreviate(p.data[start:p.pos]))
	}
	return t, nil
}

// WriteSnapshot writes inv as a version 1 shipshape snapshot. The output is deterministic:
// indented by two spaces, images sorted by digest, tags, labels and annotations sorted, times
// in RFC 3339 UTC (with fractional seconds only when there are any). Fields that are zero or
// empty are left out, except that Children and Layers are written (as []) when empty but not
// nil, so that "none" and "unknown" survive a round trip.
func WriteSnapshot(w io.Writer, inv *Inventory) error {
	order := make([]int, len(inv.Images))
	for n := range order {
		order[n] = n
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(inv.Images[a].Digest, inv.Images[b].Digest) })
	for n, i := range order {
		img := &inv.Images[i]
		if img.Digest == "" {
			return fmt.Errorf("image %d: missing digest", i)
		}
		if n > 0 && img.Digest == inv.Images[order[n-1]].Digest {
			return fmt.Errorf("image %s: duplicate digest", img.Digest)
		}
		if _, err := parseStatus(string(img.Status)); err != nil {
			return fmt.Errorf("image %s: %w", img.Digest, err)
		}
	}

	o := &jsonWriter{w: w, indent: "  ", buf: make([]byte, 0, 64<<10)}
	o.begin('{')
	o.key("kind")
	o.quote(SnapshotKind)
	o.key("version")
	o.int(SnapshotVersion)
	o.keyString("repository", inv.Repository)
	o.keyTime("capturedAt", inv.CapturedAt)
	if len(inv.Notes) > 0 {
		o.key("notes")
		o.begin('[')
		for _, n := range inv.Notes {
			o.element()
			o.quote(n)
		}
		o.end(']')
	}
	o.key("images")
	o.begin('[')
	for _, i := range order {
		o.element()
		writeImage(o, &inv.Images[i])
		o.flushIfFull()
	}
	o.end(']')
	o.end('}')
	o.buf = append(o.buf, '\n')
	if err := o.flush(); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	return nil
}

func writeImage(o *jsonWriter, img *Image) {
	o.begin('{')
	o.keyString("digest", img.Digest)
	if len(img.Tags) > 0 {
		o.key("tags")
		o.begin('[')
		for _, t := range sortedCopy(img.Tags) {
			o.element()
			o.quote(t)
		}
		o.end(']')
	}
	o.keyString("mediaType", img.MediaType)
	o.keyString("artifactType", img.ArtifactType)
	o.keyTime("pushedAt", img.PushedAt)
	o.keyTime("lastPulledAt", img.LastPulledAt)
	o.keyString("status", string(img.Status))
	o.keyTime("lastArchivedAt", img.LastArchivedAt)
	o.keyTime("lastActivatedAt", img.LastActivatedAt)
	if img.SizeBytes != 0 {
		o.key("sizeBytes")
		o.int(img.SizeBytes)
	}
	o.keyString("subject", img.Subject)
	if img.Children != nil {
		o.key("children")
		o.begin('[')
		for _, c := range img.Children {
			o.element()
			o.begin('{')
			o.keyString("digest", c.Digest)
			o.keyString("mediaType", c.MediaType)
			o.keyString("platform", c.Platform)
			o.keyStringMap("annotations", c.Annotations)
			o.end('}')
		}
		o.end(']')
	}
	if img.Config != nil {
		o.key("config")
		writeBlob(o, *img.Config)
	}
	if img.Layers != nil {
		o.key("layers")
		o.begin('[')
		for _, l := range img.Layers {
			o.element()
			writeBlob(o, l)
		}
		o.end(']')
	}
	o.keyStringMap("labels", img.Labels)
	o.end('}')
}

func writeBlob(o *jsonWriter, b Blob) {
	o.begin('{')
	o.keyString("digest", b.Digest)
	o.key("size")
	o.int(b.Size)
	o.end('}')
}

// jsonWriter writes indented JSON as encoding/json's Encoder with SetIndent would, minus the
// reflection and the second pass. The caller writes the members of objects and the elements
// of arrays in order; commas, line breaks and indentation are added.
type jsonWriter struct {
	w      io.Writer
	indent string
	buf    []byte
	// filled records, for each open object or array, whether it has a member yet.
	filled []bool
	err    error
}

func (o *jsonWriter) begin(c byte) {
	o.buf = append(o.buf, c)
	o.filled = append(o.filled, false)
}

func (o *jsonWriter) end(c byte) {
	n := len(o.filled) - 1
	if o.filled[n] {
		o.newline(n)
	}
	o.filled = o.filled[:n]
	o.buf = append(o.buf, c)
}

// element starts an array element or object member.
func (o *jsonWriter) element() {
	n := len(o.filled) - 1
	if o.filled[n] {
		o.buf = append(o.buf, ',')
	}
	o.filled[n] = true
	o.newline(n + 1)
}

func (o *jsonWriter) newline(depth int) {
	o.buf = append(o.buf, '\n')
	for range depth {
		o.buf = append(o.buf, o.indent...)
	}
}

// key starts an object member.
func (o *jsonWriter) key(k string) {
	o.element()
	o.quote(k)
	o.buf = append(o.buf, ": "...)
}

// keyString writes a member with a string value, unless the value is empty.
func (o *jsonWriter) keyString(k, v string) {
	if v != "" {
		o.key(k)
		o.quote(v)
	}
}

// keyTime writes a member with a time in RFC 3339 UTC, unless the time is zero.
func (o *jsonWriter) keyTime(k string, t time.Time) {
	if !t.IsZero() {
		o.key(k)
		o.buf = append(o.buf, '"')
		o.buf = t.UTC().AppendFormat(o.buf, time.RFC3339Nano)
		o.buf = append(o.buf, '"')
	}
}

// keyStringMap writes a member with an object of strings, sorted by key, unless it is empty.
func (o *jsonWriter) keyStringMap(k string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	o.key(k)
	o.begin('{')
	for _, mk := range slices.Sorted(maps.Keys(m)) {
		o.key(mk)
		o.quote(m[mk])
	}
	o.end('}')
}

func (o *jsonWriter) int(n int64) {
	o.buf = strconv.AppendInt(o.buf, n, 10)
}

// quote writes s as a JSON string. Plain ASCII is copied; anything else goes through encoding/json, so
// that escapes and invalid UTF-8 come out as encoding/json writes them.
func (o *jsonWriter) quote(s string) {
	for i := 0; i < len(s); i++ {
		if !plainASCII[s[i]] {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			o.buf = append(o.buf, bytes.TrimSuffix(b.Bytes(), []byte{'\n'})...)
			return
		}
	}
	o.buf = append(o.buf, '"')
	o.buf = append(o.buf, s...)
	o.buf = append(o.buf, '"')
}

// plainASCII marks the bytes that stand for themselves in a JSON string.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// flushIfFull writes the buffer out once it has grown large.
func (o *jsonWriter) flushIfFull() {
	if len(o.buf) >= 32<<10 {
		_ = o.flush() // the error is kept in o.err
	}
}

func (o *jsonWriter) flush() error {
	if o.err == nil && len(o.buf) > 0 {
		_, o.err = o.w.Write(o.buf)
	}
	o.buf = o.buf[:0]
	return o.err
}
