package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
func ReadDescribeImages(r io.Reader) (*Inventory, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return readDescribeImages(data)
}

func readDescribeImages(data []byte) (*Inventory, error) {
	if err := checkEncoding(data); err != nil {
		return nil, err
	}
	p := &describeParser{lexer: lexer{data: data, pos: skipSpace(data, 0)}}
	if p.pos == len(data) {
		return nil, errors.New("no describe-images output")
	}
	// Every image detail has one member imageDigest, and referrers a subjectManifestDigest:
	// counting them sizes the slice and map without growing them, and fast, since a capital D
	// is rare elsewhere in the output (digests are lower-case hex).
	n := bytes.Count(data, []byte(`Digest"`))
	p.inv = &Inventory{Images: make([]Image, 0, n)}
	p.seen = make(map[string]detailRef, n)
	p.tagged = make(map[string]struct{})
	err := p.parse()
	if p.err != nil {
		// The first bad image detail comes before any later syntax error.
		return nil, p.err.format(p)
	}
	if err != nil {
		return nil, err
	}
	return p.inv, nil
}

// describeParser reads describe-images output in a single pass over the bytes.
// encoding/json would take two passes and reflection, several times slower: too slow for
// repositories of a hundred thousand images.
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
	lexer
	inv *Inventory

	units []describeUnit
	seen  map[string]detailRef
	// tagged holds the tags read so far, to find one on two images.
	tagged map[string]struct{}
	// others holds the keys of the current image detail that the parser ignores, to catch
	// one repeated.
	others [][]byte
	// registry and repoAt record the first image's registryId and where it was; the
	// repository is in inv.
	registry string
	repoAt   detailRef
	interned interner
	// tags is an arena the images' Tags are cut from.
	tags []string
	err  *detailError
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

// refOf locates the image detail of inv.Images[i], one of those read so far.
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
	for p.pos = skipSpace(p.data, p.pos); p.pos < len(p.data); p.pos = skipSpace(p.data, p.pos) {
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
	start := p.pos
	p.units = append(p.units, describeUnit{page: true})
	unit := len(p.units) - 1
	found := false
	var keys [][]byte
	more, err := p.beginObject()
	for ; more; more, err = p.nextMember() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, key) }) {
			// A second imageDetails would be a second list of images, which a decoder
			// would keep instead of the first.
			if p.err == nil {
				p.err = &detailError{detailRef{unit, -1}, string(key), func() string { return "duplicate key" }}
			}
			err = p.skipValue()
		} else {
			keys = append(keys, key)
			switch {
			case string(key) != "imageDetails":
				err = p.skipValue()
			case p.peek() == 'n':
				found = true
				err = p.literal("null")
			default:
				found = true
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
		return fmt.Errorf("%s: no imageDetails (want the output of aws ecr describe-images)", position(p.data, start))
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
// whether its first element has a member imageDetails. It leaves p.pos where it was.
func (p *describeParser) arrayOfPages() bool {
	defer func(pos int) { p.pos = pos }(p.pos)
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
	u := &p.units[len(p.units)-1]
	more, err := p.beginArray()
	for ; more; more, err = p.nextElement() {
		if err := p.detail(); err != nil {
			return err
		}
		u.n++
	}
	return err
}

// detail reads one image detail and appends its image.
func (p *describeParser) detail() error {
	if p.peek() != '{' {
		return p.syntaxError("want an image detail (a JSON object)")
	}
	p.inv.Images = append(p.inv.Images, Image{})
	i := len(p.inv.Images) - 1
	img := &p.inv.Images[i]
	var repo, registry []byte
	var artifactType string
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
		switch m {
		case fieldRegistryID:
			registry, err = p.stringField(key)
		case fieldRepositoryName:
			repo, err = p.stringField(key)
		case fieldImageDigest:
			img.Digest, err = p.digestField(key)
		case fieldImageTags:
			img.Tags, err = p.tagsField(key)
		case fieldImageSizeInBytes:
			img.SizeBytes, err = p.sizeField(key)
		case fieldImagePushedAt:
			img.PushedAt, err = p.timeField(key)
		case fieldLastRecordedPullTime:
			img.LastPulledAt, err = p.timeField(key)
		case fieldLastArchivedAt:
			img.LastArchivedAt, err = p.timeField(key)
		case fieldLastActivatedAt:
			img.LastActivatedAt, err = p.timeField(key)
		case fieldImageManifestMediaType:
			var b []byte
			b, err = p.stringField(key)
			img.MediaType = p.interned.intern(b)
		case fieldArtifactMediaType:
			var b []byte
			b, err = p.stringField(key)
			artifactType = p.interned.intern(b)
		case fieldSubjectManifestDigest:
			img.Subject, err = p.digestField(key)
		case fieldImageStatus:
			var b []byte
			b, err = p.stringField(key)
			status, serr := parseStatus(p.interned.intern(b))
			if serr != nil {
				p.fail("imageStatus", "%v", serr)
			}
			img.Status = status
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
	if artifactType != mediaTypeOCIConfig && artifactType != mediaTypeDockerConfig {
		img.ArtifactType = artifactType
	}
	u := len(p.units) - 1
	ref := detailRef{u, p.units[u].n}
	switch {
	case img.Digest == "":
		p.fail("imageDigest", "missing")
	case len(p.inv.Images) == 1:
		p.inv.Repository, p.registry, p.repoAt = string(repo), string(registry), ref
	case string(repo) != p.inv.Repository:
		first, repo := p.inv.Repository, string(repo)
		p.failFunc("repositoryName", func() string {
			return fmt.Sprintf("images from more than one repository: %q (%s) and %q", first, p.where(p.repoAt), repo)
		})
	case string(registry) != p.registry:
		first, registry := p.registry, string(registry)
		p.failFunc("registryId", func() string {
			return fmt.Sprintf("images from more than one registry: %q (%s) and %q", first, p.where(p.repoAt), registry)
		})
	}
	if img.Digest != "" {
		if prev, ok := p.seen[img.Digest]; ok {
			digest := img.Digest
			p.failFunc("imageDigest", func() string {
				return fmt.Sprintf("duplicate digest %s (also at %s)", digest, p.where(prev))
			})
		} else {
			p.seen[img.Digest] = ref
		}
	}
	p.checkTags(i)
	return nil
}

// checkTags checks the tags of inv.Images[i], the image just read: each must be valid, on no
// other image, and listed once. Two images with one tag cannot both be what it names, and a
// plan that took either would keep or delete the wrong one.
func (p *describeParser) checkTags(i int) {
	img := &p.inv.Images[i]
	for k, tag := range img.Tags {
		if p.err != nil {
			return // nothing more would be reported
		}
		if err := ValidTag(tag); err != nil {
			p.fail("imageTags"+index(k), "%v", err)
			return
		}
		size := len(p.tagged)
		if p.tagged[tag] = struct{}{}; len(p.tagged) > size {
			continue // a new tag, found with one map operation
		}
		if prev := taggedBefore(p.inv.Images, i, tag); prev < 0 {
			first := slices.Index(img.Tags, tag)
			p.fail("imageTags"+index(k), "duplicate tag %q (also at imageTags%s)", tag, index(first))
		} else {
			other, digest := p.inv.Images[prev].Digest, img.Digest
			p.failFunc("imageTags"+index(k), func() string {
				return fmt.Sprintf("tag %q on two images: %s (%s) and %s", tag, other, p.where(p.refOf(prev)), digest)
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
	for _, k := range p.others {
		if bytes.Equal(k, key) {
			return false
		}
	}
	p.others = append(p.others, key)
	return true
}

// digestField reads a digest, or null. An invalid digest is recorded as an error in the detail.
func (p *describeParser) digestField(key []byte) (string, error) {
	b, err := p.stringField(key)
	if len(b) == 0 {
		return "", err
	}
	d := string(b)
	if derr := ValidDigest(d); derr != nil {
		p.fail(string(key), "%v", derr)
	}
	return d, err
}

// stringField reads a string or null. Another type is recorded as an error in the detail.
func (p *describeParser) stringField(key []byte) ([]byte, error) {
	switch p.peek() {
	case '"':
		return p.str()
	case 'n':
		return nil, p.literal("null")
	}
	p.fail(string(key), "want a string")
	return nil, p.skipValue()
}

// tagsField reads an array of strings or null.
func (p *describeParser) tagsField(key []byte) ([]string, error) {
	switch p.peek() {
	case 'n':
		return nil, p.literal("null")
	case '[':
	default:
		p.fail(string(key), "want an array of strings")
		return nil, p.skipValue()
	}
	start := len(p.tags)
	more, err := p.beginArray()
	for ; more; more, err = p.nextElement() {
		if p.peek() != '"' {
			p.fail(string(key), "want an array of strings")
			if err := p.skipValue(); err != nil {
				return nil, err
			}
			continue
		}
		tag, err := p.str()
		if err != nil {
			return nil, err
		}
		p.tags = append(p.tags, string(tag))
	}
	if err != nil || len(p.tags) == start {
		return nil, err
	}
	return p.tags[start:len(p.tags):len(p.tags)], nil
}

// sizeField reads a non-negative integer or null.
func (p *describeParser) sizeField(key []byte) (int64, error) {
	if p.peek() == 'n' {
		return 0, p.literal("null")
	}
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		p.fail(string(key), "want a number of bytes")
		return 0, p.skipValue()
	}
	b, err := p.number()
	if err != nil {
		return 0, err
	}
	n, serr := parseSize(b)
	if serr != nil {
		p.fail(string(key), "%v", serr)
	}
	return n, nil
}

// timeField reads an RFC 3339 string, a number of seconds since the epoch, or null.
func (p *describeParser) timeField(key []byte) (time.Time, error) {
	c := p.peek()
	start := p.pos
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
		p.fail(string(key), "cannot parse %s as a time (want RFC 3339 or epoch seconds)", abbreviate(p.data[start:p.pos]))
	}
	return t, nil
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

// describeOutput is describe-images' response, as WriteDescribeImages prints it.
type describeOutput struct {
	ImageDetails []imageDetailOutput `json:"imageDetails"`
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
// sorted by digest and their tags sorted.
//
// What describe-images does not carry is left out: index children, blobs and labels. An index
// whose SizeBytes is zero is given the size of its largest child in inv, as ECR reports it.
// An ECR repository name ("<account>.dkr.ecr.<region>.amazonaws.com/<name>") is split into
// registryId and repositoryName; any other is printed whole as repositoryName.
func WriteDescribeImages(w io.Writer, inv *Inventory) error {
	registry, name := splitECR(inv.Repository)
	size := make(map[string]int64, len(inv.Images))
	for n := range inv.Images {
		size[inv.Images[n].Digest] = inv.Images[n].SizeBytes
	}
	out := describeOutput{ImageDetails: make([]imageDetailOutput, len(inv.Images))}
	for n := range inv.Images {
		img := &inv.Images[n]
		if img.Digest == "" {
			return fmt.Errorf("image %d: missing digest", n)
		}
		if _, err := parseStatus(string(img.Status)); err != nil {
			return fmt.Errorf("image %s: %w", img.Digest, err)
		}
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
		out.ImageDetails[n] = d
	}
	sort.Slice(out.ImageDetails, func(i, j int) bool {
		return out.ImageDetails[i].ImageDigest < out.ImageDetails[j].ImageDigest
	})
	for n := 1; n < len(out.ImageDetails); n++ {
		if d := out.ImageDetails[n].ImageDigest; d == out.ImageDetails[n-1].ImageDigest {
			return fmt.Errorf("image %s: duplicate digest", d)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
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
