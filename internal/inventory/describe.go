package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config media types that ECR reports as an image's artifactMediaType when the manifest is a
// plain container image rather than an OCI artifact.
const (
	mediaTypeOCIConfig    = "application/vnd.oci.image.config.v1+json"
	mediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"
)

// ReadDescribeImages reads the JSON that `aws ecr describe-images` prints: one response
// object, several response objects one after another (one per page), a JSON array of response
// objects, or a bare JSON array of image details.
//
// All images must belong to one repository, which becomes the inventory's Repository. Index
// images get nil Children, since describe-images does not list them. Times are returned in
// UTC. Fields shipshape does not use (imageScanStatus, imageScanFindingsSummary and whatever
// AWS adds later) are ignored.
//
// What could make a plan act on the wrong image is an error naming its JSON path: a digest
// that ValidDigest refuses, a tag that ValidTag refuses, a tag on two images or twice on one,
// a digest listed twice, a size that is negative or beyond int64, and a key repeated in a
// response or an image detail (a decoder would keep only the last: a repeated imageDetails
// would hide the first list of images).
//
// The input is streamed, never held whole; ReadCompact keeps the images compact too.
func ReadDescribeImages(r io.Reader) (*Inventory, error) {
	l := newStreamLexer(r)
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
		return nil, errors.New("no describe-images output")
	}
	inv, err := readDescribeImages(l)
	if err != nil {
		return nil, err
	}
	return inv.Expanded(), nil
}

// readDescribeImages reads describe-images output from l, which is at its first token, into
// a compact inventory.
func readDescribeImages(l *lexer) (*Inventory, error) {
	t := &Table{seed: maphash.MakeSeed()}
	p := &describeParser{lexer: l, t: t, inv: &Inventory{Table: t}}
	err := p.parse()
	if l.in != nil && l.in.err != nil {
		// A read that failed cut the input short: what the parser says of it is beside
		// the point.
		return nil, fmt.Errorf("reading input: %w", l.in.err)
	}
	if p.err != nil {
		// The first bad image detail comes before any later syntax error.
		return nil, p.err.format(p)
	}
	if err != nil {
		return nil, err
	}
	return p.inv, nil
}

// describeParser reads describe-images output in a single pass over a stream, into a Table.
// encoding/json would take reflection and a map or struct per image, several times slower
// and larger: too much for repositories of a million images.
//
// Syntax errors stop the parser at once. Errors in an image detail (a missing digest, a time
// that does not parse) are kept in err and parsing goes on, since the position of the detail
// is only known for sure at the end: "page 2: imageDetails[0]" or, with one page,
// "imageDetails[0]".
//
// A digest listed twice is an error, never merged, even when both details agree: the pages
// of one describe-images run never repeat an image, so a repeat means pages of different runs
// (whose tags may have moved in between) or one page appended twice, and either may be
// missing pages too.
type describeParser struct {
	*lexer
	inv *Inventory
	t   *Table

	units []describeUnit
	// others holds the keys of the current image detail that the parser ignores, to catch
	// one repeated. They are copies: the lexer's window moves on.
	others []string
	// registry and repoAt record the first image's registryId and where it was; the
	// repository is in inv. repo and registryID hold the current detail's.
	registry         string
	repoAt           detailRef
	repo, registryID []byte
	interned         interner
	// kinds finds the kinds of t.kinds by value; recent holds the last found.
	kinds  map[kind]uint32
	recent []uint32
	// tagged finds the tags read so far (positions in t.tags), to catch one on two images.
	tagged posIndex
	err    *detailError
}

// describeUnit is one run of image details: a response page, or a bare array of details.
type describeUnit struct {
	page bool
	n    int
}

// detailRef locates an image detail: its unit and its index there. An n of -1 stands for the
// response object itself.
type detailRef struct{ unit, n int }

// detailError is an error in the image detail at ref; field names the member, if any. msg
// is called once parsing is over, so that it can name other details with where.
type detailError struct {
	ref   detailRef
	field string
	msg   func() string
}

func (e *detailError) format(p *describeParser) error {
	where := p.where(e.ref)
	switch {
	case e.ref.n < 0:
		where += e.field
	case e.field != "":
		where += "." + e.field
	}
	return fmt.Errorf("%s: %s", where, e.msg())
}

// where names the image detail at ref, as a JSON path. For a response (n -1) it gives only
// the page, if there are several, for the caller to add the member.
func (p *describeParser) where(ref detailRef) string {
	var b strings.Builder
	if len(p.units) > 1 {
		b.WriteString("page ")
		b.WriteString(strconv.Itoa(ref.unit + 1))
		b.WriteString(": ")
	}
	if ref.n < 0 {
		return b.String()
	}
	if p.units[ref.unit].page {
		b.WriteString("imageDetails")
	}
	b.WriteByte('[')
	b.WriteString(strconv.Itoa(ref.n))
	b.WriteByte(']')
	return b.String()
}

// fail records an error in the current image detail, unless one was recorded before.
func (p *describeParser) fail(field, format string, args ...any) {
	if p.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	p.failFunc(field, func() string { return msg })
}

// failFunc is fail for messages that name other details.
func (p *describeParser) failFunc(field string, msg func() string) {
	if p.err == nil {
		u := len(p.units) - 1
		p.err = &detailError{detailRef{u, p.units[u].n}, field, msg}
	}
}

// refOf locates the image detail of image i, one of those read so far.
func (p *describeParser) refOf(i int) detailRef {
	for u, unit := range p.units {
		if i < unit.n {
			return detailRef{u, i}
		}
		i -= unit.n
	}
	return detailRef{len(p.units) - 1, i}
}

func (p *describeParser) parse() error {
	for p.space(); p.pos < len(p.data); p.space() {
		switch p.data[p.pos] {
		case '{':
			if err := p.page(); err != nil {
				return err
			}
		case '[':
			if err := p.array(); err != nil {
				return err
			}
		default:
			return p.syntaxError("want a JSON object or array (the output of aws ecr describe-images)")
		}
	}
	return nil
}

// page reads a describe-images response.
func (p *describeParser) page() error {
	// The start is kept in the window until imageDetails is found, to say where a
	// response without one starts.
	start := p.offset()
	mark := p.setMark(start)
	defer p.resetMark(mark)
	p.units = append(p.units, describeUnit{page: true})
	unit := len(p.units) - 1
	found := false
	var keys []string
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if slices.Contains(keys, string(key)) {
			// A second imageDetails would be a second list of images, which a decoder
			// would keep instead of the first.
			if p.err == nil {
				p.err = &detailError{detailRef{unit, -1}, string(key), func() string { return "duplicate key" }}
			}
			err = p.skipValue()
		} else {
			keys = append(keys, string(key))
			switch {
			case string(key) != "imageDetails":
				err = p.skipValue()
			case p.peek() == 'n':
				found = true
				p.resetMark(mark)
				err = p.literal("null")
			default:
				found = true
				p.resetMark(mark)
				err = p.details()
			}
		}
		if err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s: no imageDetails (want the output of aws ecr describe-images)", p.position(start))
	}
	return nil
}

// array reads an array of responses, or of image details, as its first element shows.
func (p *describeParser) array() error {
	pages := p.arrayOfPages()
	if !pages {
		p.units = append(p.units, describeUnit{})
		return p.details()
	}
	more, err := p.beginArray()
	for ; more; more, err = p.nextElement() {
		if p.peek() != '{' {
			return p.syntaxError("want a describe-images response (a JSON object)")
		}
		if err := p.page(); err != nil {
			return err
		}
	}
	return err
}

// arrayOfPages reports whether the array at p.pos holds responses rather than image details:
// whether its first element has a member imageDetails. It leaves the lexer where it was.
func (p *describeParser) arrayOfPages() bool {
	start := p.offset()
	mark := p.setMark(start)
	defer func() {
		p.seek(start)
		p.resetMark(mark)
	}()
	if more, err := p.beginArray(); !more || err != nil || p.peek() != '{' {
		return false
	}
	more, err := p.beginObject()
	for ; more && err == nil; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return false
		}
		if string(key) == "imageDetails" {
			return true
		}
		if err := p.skipValue(); err != nil {
			return false
		}
	}
	return false
}

// details reads an array of image details into the last unit.
func (p *describeParser) details() error {
	more, err := p.beginArray()
	for ; more; more, err = p.nextElement() {
		if err := p.detail(); err != nil {
			return err
		}
		p.units[len(p.units)-1].n++
	}
	return err
}

// detail reads one image detail and appends its image to the table.
func (p *describeParser) detail() error {
	if p.peek() != '{' {
		return p.syntaxError("want an image detail (a JSON object)")
	}
	t := p.t
	i := t.n
	if i == maxTableImages {
		return fmt.Errorf("more than %d images", maxTableImages)
	}
	rec := record{pushed: noTime, pulled: noTime}
	var (
		digest, subject, mediaType, artifactType string
		status                                   Status
		hasDigest, odd                           bool
		archived, activated                      = int64(noTime), int64(noTime)
	)
	p.repo, p.registryID = p.repo[:0], p.registryID[:0]
	var seen keySet
	p.others = p.others[:0]
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return err
		}
		m := detailField(key)
		if !p.newKey(&seen, m, key) {
			p.fail(string(key), "duplicate key")
			m = fieldIgnored
		}
		var b []byte
		var at time.Time
		switch m {
		case fieldRegistryID:
			b, err = p.stringField(m)
			p.registryID = append(p.registryID, b...)
		case fieldRepositoryName:
			b, err = p.stringField(m)
			p.repo = append(p.repo, b...)
		case fieldImageDigest:
			b, err = p.stringField(m)
			if hasDigest = len(b) > 0; hasDigest {
				if odd = !decodeSHA256(b, &rec.digest); odd {
					rec.digest = [32]byte{}
					digest = string(b)
					if derr := ValidDigest(digest); derr != nil {
						p.fail("imageDigest", "%v", derr)
					}
				}
			}
		case fieldImageTags:
			err = p.tagsField(m)
		case fieldImageSizeInBytes:
			rec.size, err = p.sizeField(m)
		case fieldImagePushedAt:
			at, err = p.timeField(m)
			rec.pushed = t.stamp(i, timePushed, at)
		case fieldLastRecordedPullTime:
			at, err = p.timeField(m)
			rec.pulled = t.stamp(i, timePulled, at)
		case fieldLastArchivedAt:
			at, err = p.timeField(m)
			archived = t.stamp(i, timeArchived, at)
		case fieldLastActivatedAt:
			at, err = p.timeField(m)
			activated = t.stamp(i, timeActivated, at)
		case fieldImageManifestMediaType:
			b, err = p.stringField(m)
			mediaType = p.interned.intern(b)
		case fieldArtifactMediaType:
			b, err = p.stringField(m)
			artifactType = p.interned.intern(b)
		case fieldSubjectManifestDigest:
			b, err = p.stringField(m)
			if len(b) > 0 {
				subject = string(b)
				if derr := ValidDigest(subject); derr != nil {
					p.fail("subjectManifestDigest", "%v", derr)
				}
			}
		case fieldImageStatus:
			b, err = p.stringField(m)
			s, serr := parseStatus(p.interned.intern(b))
			if serr != nil {
				p.fail("imageStatus", "%v", serr)
			}
			status = s
		default:
			err = p.skipValue()
		}
		if err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	if artifactType == mediaTypeOCIConfig || artifactType == mediaTypeDockerConfig {
		artifactType = ""
	}
	if len(t.tags) > math.MaxUint32 {
		return fmt.Errorf("more than %d tags", uint32(math.MaxUint32))
	}
	rec.tagEnd = uint32(len(t.tags))
	rec.kind = p.kind(kind{mediaType, artifactType, status})
	t.add(rec)
	if odd {
		t.odd.add(i, digest)
	}
	if subject != "" {
		t.subjects.add(i, subject)
	}
	if archived != noTime {
		t.archived.add(i, archived)
	}
	if activated != noTime {
		t.activated.add(i, activated)
	}

	u := len(p.units) - 1
	ref := detailRef{u, p.units[u].n}
	switch {
	case !hasDigest:
		p.fail("imageDigest", "missing")
	case i == 0:
		p.inv.Repository, p.registry, p.repoAt = string(p.repo), string(p.registryID), ref
	case string(p.repo) != p.inv.Repository:
		first, repo := p.inv.Repository, string(p.repo)
		p.failFunc("repositoryName", func() string {
			return fmt.Sprintf("images from more than one repository: %q (%s) and %q", first, p.where(p.repoAt), repo)
		})
	case string(p.registryID) != p.registry:
		first, registry := p.registry, string(p.registryID)
		p.failFunc("registryId", func() string {
			return fmt.Sprintf("images from more than one registry: %q (%s) and %q", first, p.where(p.repoAt), registry)
		})
	}
	if hasDigest {
		h := t.hashOf(int32(i))
		if prev, ok := t.byDigest.find(h, func(j int32) bool { return t.sameDigest(int(j), i) }); ok {
			p.failFunc("imageDigest", func() string {
				return fmt.Sprintf("duplicate digest %s (also at %s)", t.digest(i), p.where(p.refOf(prev)))
			})
		} else {
			t.byDigest.insert(h, int32(i), t.hashOf)
		}
	}
	p.checkTags(i)
	return nil
}

// kind returns the position of k in the table's kinds, adding it if new. There are a few
// (an image, an index, a signature, in a status or two), so the last ones looked for are
// looked at first; the strings are interned, so equal ones are compared by pointer.
func (p *describeParser) kind(k kind) uint32 {
	for _, n := range p.recent {
		if p.t.kinds[n] == k {
			return n
		}
	}
	n, ok := p.kinds[k]
	if !ok {
		if p.kinds == nil {
			p.kinds = make(map[kind]uint32)
		}
		n = uint32(len(p.t.kinds))
		p.t.kinds = append(p.t.kinds, k)
		p.kinds[k] = n
	}
	if len(p.recent) < 4 {
		p.recent = append(p.recent, 0)
	}
	copy(p.recent[1:], p.recent)
	p.recent[0] = n
	return n
}

// checkTags checks the tags of image i, the image just read: each must be valid, on no
// other image, and listed once. Two images with one tag cannot both be what it names, and a
// plan that took either would keep or delete the wrong one.
func (p *describeParser) checkTags(i int) {
	t := p.t
	tags := t.tagsOf(i)
	start := int(t.rec(i).tagEnd) - len(tags)
	hashTag := func(n int32) uint64 { return maphash.String(t.seed, t.tags[n]) }
	for k, tag := range tags {
		if p.err != nil {
			return // nothing more would be reported
		}
		if err := ValidTag(tag); err != nil {
			p.fail("imageTags"+index(k), "%v", err)
			return
		}
		h := hashTag(int32(start + k))
		prev, ok := p.tagged.find(h, func(n int32) bool { return t.tags[n] == tag })
		if !ok {
			p.tagged.insert(h, int32(start+k), hashTag)
			continue
		}
		if other := t.imageOfTag(prev); other == i {
			first := slices.Index(tags, tag)
			p.fail("imageTags"+index(k), "duplicate tag %q (also at imageTags%s)", tag, index(first))
		} else {
			p.failFunc("imageTags"+index(k), func() string {
				return fmt.Sprintf("tag %q on two images: %s (%s) and %s", tag, t.digest(other), p.where(p.refOf(other)), t.digest(i))
			})
		}
	}
}

// Members of an image detail that the parser reads, numbered for a keySet.
const (
	fieldIgnored = iota - 1
	fieldRegistryID
	fieldRepositoryName
	fieldImageDigest
	fieldImageTags
	fieldImageSizeInBytes
	fieldImagePushedAt
	fieldLastRecordedPullTime
	fieldLastArchivedAt
	fieldLastActivatedAt
	fieldImageManifestMediaType
	fieldArtifactMediaType
	fieldSubjectManifestDigest
	fieldImageStatus
)

// fieldNames spells the members, by number: a key read with escapes is spelt the same.
var fieldNames = [...]string{
	fieldRegistryID:             "registryId",
	fieldRepositoryName:         "repositoryName",
	fieldImageDigest:            "imageDigest",
	fieldImageTags:              "imageTags",
	fieldImageSizeInBytes:       "imageSizeInBytes",
	fieldImagePushedAt:          "imagePushedAt",
	fieldLastRecordedPullTime:   "lastRecordedPullTime",
	fieldLastArchivedAt:         "lastArchivedAt",
	fieldLastActivatedAt:        "lastActivatedAt",
	fieldImageManifestMediaType: "imageManifestMediaType",
	fieldArtifactMediaType:      "artifactMediaType",
	fieldSubjectManifestDigest:  "subjectManifestDigest",
	fieldImageStatus:            "imageStatus",
}

func detailField(key []byte) int {
	switch string(key) {
	case "registryId":
		return fieldRegistryID
	case "repositoryName":
		return fieldRepositoryName
	case "imageDigest":
		return fieldImageDigest
	case "imageTags":
		return fieldImageTags
	case "imageSizeInBytes":
		return fieldImageSizeInBytes
	case "imagePushedAt":
		return fieldImagePushedAt
	case "lastRecordedPullTime":
		return fieldLastRecordedPullTime
	case "lastArchivedAt":
		return fieldLastArchivedAt
	case "lastActivatedAt":
		return fieldLastActivatedAt
	case "imageManifestMediaType":
		return fieldImageManifestMediaType
	case "artifactMediaType":
		return fieldArtifactMediaType
	case "subjectManifestDigest":
		return fieldSubjectManifestDigest
	case "imageStatus":
		return fieldImageStatus
	}
	return fieldIgnored
}

// newKey reports whether key, member m of the current image detail (fieldIgnored for one
// the parser skips), was not read before in the detail. The values of skipped members are
// not looked into.
func (p *describeParser) newKey(seen *keySet, m int, key []byte) bool {
	if m != fieldIgnored {
		return seen.add(m)
	}
	if slices.Contains(p.others, string(key)) {
		return false
	}
	p.others = append(p.others, string(key))
	return true
}

// stringField reads a string or null, the value of member m. Another type is recorded as an
// error in the detail. The bytes are valid until the lexer reads on.
func (p *describeParser) stringField(m int) ([]byte, error) {
	switch p.peek() {
	case '"':
		return p.str()
	case 'n':
		return nil, p.literal("null")
	}
	p.fail(fieldNames[m], "want a string")
	return nil, p.skipValue()
}

// tagsField reads an array of strings or null, member m, appending the strings to the
// table's tags.
func (p *describeParser) tagsField(m int) error {
	switch p.peek() {
	case 'n':
		return p.literal("null")
	case '[':
	default:
		p.fail(fieldNames[m], "want an array of strings")
		return p.skipValue()
	}
	more, err := p.beginArray()
	for ; more; more, err = p.nextElement() {
		if p.peek() != '"' {
			p.fail(fieldNames[m], "want an array of strings")
			if err := p.skipValue(); err != nil {
				return err
			}
			continue
		}
		tag, err := p.str()
		if err != nil {
			return err
		}
		p.t.tags = append(p.t.tags, string(tag))
	}
	return err
}

// sizeField reads a non-negative integer or null, member m.
func (p *describeParser) sizeField(m int) (int64, error) {
	if p.peek() == 'n' {
		return 0, p.literal("null")
	}
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		p.fail(fieldNames[m], "want a number of bytes")
		return 0, p.skipValue()
	}
	b, err := p.number()
	if err != nil {
		return 0, err
	}
	n, serr := parseSize(b)
	if serr != nil {
		p.fail(fieldNames[m], "%v", serr)
	}
	return n, nil
}

// timeField reads an RFC 3339 string, a number of seconds since the epoch, or null: member m.
func (p *describeParser) timeField(m int) (time.Time, error) {
	c := p.peek()
	start := p.offset()
	// The value is kept in the window, to quote it if it does not parse.
	defer p.resetMark(p.setMark(start))
	var t time.Time
	ok := true
	switch {
	case c == 'n':
		return time.Time{}, p.literal("null")
	case c == '"':
		s, err := p.str()
		if err != nil || len(s) == 0 {
			return time.Time{}, err
		}
		t, ok = parseRFC3339(s)
	case c == '-' || ('0' <= c && c <= '9'):
		b, err := p.number()
		if err != nil {
			return time.Time{}, err
		}
		t, ok = parseEpoch(b)
	default:
		if err := p.skipValue(); err != nil {
			return time.Time{}, err
		}
		ok = false
	}
	if !ok {
		p.fail(fieldNames[m], "cannot parse %s as a time (want RFC 3339 or epoch seconds)", abbreviate(p.since(start)))
	}
	return t, nil
}

// stamp returns how a record holds t, time which of image i: Unix nanoseconds, or noTime,
// or farAway with t kept in farTimes.
func (t *Table) stamp(i int, which uint8, at time.Time) int64 {
	if at.IsZero() {
		return noTime
	}
	if n := at.UnixNano(); n > farAway && time.Unix(0, n).Equal(at) {
		return n
	}
	if t.farTimes == nil {
		t.farTimes = make(map[farTime]time.Time)
	}
	t.farTimes[farTime{int32(i), which}] = at
	return farAway
}

// sameDigest reports whether images i and j have the same digest.
func (t *Table) sameDigest(i, j int) bool {
	di, oi := t.odd.get(i)
	dj, oj := t.odd.get(j)
	if oi || oj {
		return oi && oj && di == dj
	}
	return t.rec(i).digest == t.rec(j).digest
}

// interner shares the memory of strings that repeat across images (media types, statuses).
// There are few of them, and a short list, most recent first, beats a map.
type interner []string

func (in *interner) intern(b []byte) string {
	list := *in
	for n, s := range list {
		if s == string(b) {
			if n > 0 {
				copy(list[1:n+1], list[:n])
				list[0] = s
			}
			return s
		}
	}
	s := string(b)
	if len(list) < 16 {
		list = append(list, "")
	}
	copy(list[1:], list)
	list[0] = s
	*in = list
	return s
}

// abbreviate returns JSON text for an error message, cut short if long.
func abbreviate(b []byte) string {
	const limit = 64
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

// parseStatus checks an image status as ECR spells it; empty means not given.
func parseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case "", StatusActive, StatusArchived, StatusActivating:
		return st, nil
	}
	return "", fmt.Errorf("unknown status %q (want ACTIVE, ARCHIVED or ACTIVATING)", s)
}

// imageDetailOutput is an element of describe-images' imageDetails, spelt as the ECR API
// spells it, with times preformatted the way the AWS CLI prints them.
type imageDetailOutput struct {
	RegistryID             string   `json:"registryId,omitempty"`
	RepositoryName         string   `json:"repositoryName,omitempty"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          string   `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string   `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
	LastRecordedPullTime   string   `json:"lastRecordedPullTime,omitempty"`
	SubjectManifestDigest  string   `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string   `json:"imageStatus"`
	LastArchivedAt         string   `json:"lastArchivedAt,omitempty"`
	LastActivatedAt        string   `json:"lastActivatedAt,omitempty"`
}

// WriteDescribeImages writes inv as `aws ecr describe-images` prints it: one response object,
// indented by four spaces, with ISO 8601 times in UTC. The output is deterministic: images are
// sorted by digest and their tags sorted. It is written image by image, never whole.
//
// What describe-images does not carry is left out: index children, blobs and labels. An index
// whose SizeBytes is zero is given the size of its largest child in inv, as ECR reports it.
// An ECR repository name ("<account>.dkr.ecr.<region>.amazonaws.com/<name>") is split into
// registryId and repositoryName; any other is printed whole as repositoryName.
func WriteDescribeImages(w io.Writer, inv *Inventory) error {
	inv = inv.Expanded()
	registry, name := splitECR(inv.Repository)
	size := make(map[string]int64, len(inv.Images))
	for n := range inv.Images {
		size[inv.Images[n].Digest] = inv.Images[n].SizeBytes
	}
	order := make([]int, len(inv.Images))
	for n := range inv.Images {
		img := &inv.Images[n]
		if img.Digest == "" {
			return fmt.Errorf("image %d: missing digest", n)
		}
		if _, err := parseStatus(string(img.Status)); err != nil {
			return fmt.Errorf("image %s: %w", img.Digest, err)
		}
		order[n] = n
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(inv.Images[a].Digest, inv.Images[b].Digest) })
	for n := 1; n < len(order); n++ {
		if d := inv.Images[order[n]].Digest; d == inv.Images[order[n-1]].Digest {
			return fmt.Errorf("image %s: duplicate digest", d)
		}
	}
	// Each detail is encoded as encoding/json would encode it inside the whole response.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("        ", "    ")
	enc.SetEscapeHTML(false)
	bw := bufio.NewWriterSize(w, 64<<10)
	if len(order) == 0 {
		bw.WriteString("{\n    \"imageDetails\": []\n}\n")
	} else {
		bw.WriteString("{\n    \"imageDetails\": [\n")
	}
	for k, n := range order {
		img := &inv.Images[n]
		d := imageDetailOutput{
			RegistryID:             registry,
			RepositoryName:         name,
			ImageDigest:            img.Digest,
			ImageTags:              sortedCopy(img.Tags),
			ImageSizeInBytes:       img.SizeBytes,
			ImagePushedAt:          awsTime(img.PushedAt),
			ImageManifestMediaType: img.MediaType,
			ArtifactMediaType:      img.ArtifactType,
			LastRecordedPullTime:   awsTime(img.LastPulledAt),
			SubjectManifestDigest:  img.Subject,
			ImageStatus:            string(img.ImageStatus()),
			LastArchivedAt:         awsTime(img.LastArchivedAt),
			LastActivatedAt:        awsTime(img.LastActivatedAt),
		}
		if d.ArtifactMediaType == "" {
			switch img.MediaType {
			case MediaTypeOCIManifest:
				d.ArtifactMediaType = mediaTypeOCIConfig
			case MediaTypeDockerV2:
				d.ArtifactMediaType = mediaTypeDockerConfig
			}
		}
		if d.ImageSizeInBytes == 0 && img.IsIndex() {
			for _, c := range img.Children {
				d.ImageSizeInBytes = max(d.ImageSizeInBytes, size[c.Digest])
			}
		}
		buf.Reset()
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("writing describe-images output: %w", err)
		}
		bw.WriteString("        ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if k < len(order)-1 {
			bw.WriteString(",\n")
		} else {
			bw.WriteString("\n    ]\n}\n")
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing describe-images output: %w", err)
	}
	return nil
}

// awsTime formats t as the AWS CLI prints timestamps (Python's isoformat): seconds, with
// microseconds only when there are any, and a numeric offset. Zero is "".
func awsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if t.Nanosecond()/1000 != 0 {
		return t.Format("2006-01-02T15:04:05.000000-07:00")
	}
	return t.Format("2006-01-02T15:04:05-07:00")
}

// splitECR splits "<account>.dkr.ecr.<region>.amazonaws.com/<name>" into account and name.
// Other repositories come back whole as the name.
func splitECR(repo string) (registry, name string) {
	host, path, ok := strings.Cut(repo, "/")
	if !ok {
		return "", repo
	}
	account, rest, _ := strings.Cut(host, ".")
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" ||
		!strings.HasPrefix(rest, "dkr.ecr") || !strings.Contains(rest, ".amazonaws.com") {
		return "", repo
	}
	return account, path
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
