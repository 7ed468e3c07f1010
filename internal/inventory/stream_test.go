package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStreamWindow reads inputs through windows of a few bytes, refilled a few bytes at a
// time, and checks that they read as they do in one window: the same inventory, or the same
// error with the same line and column.
func TestStreamWindow(t *testing.T) {
	t.Parallel()
	for _, in := range streamInputs {
		for _, window := range []int{1, 2, 3, 7, 16, 64} {
			for _, chunk := range []int{1, 2, 3, 5, 8, 13, 100} {
				if msg := compareStreamed([]byte(in), window, chunk); msg != "" {
					t.Errorf("window %d, reads of %d: %s\ninput: %s", window, chunk, msg, in)
				}
			}
		}
	}
}

// FuzzReadWindow is TestStreamWindow for any input, window and size of reads.
func FuzzReadWindow(f *testing.F) {
	for _, in := range streamInputs {
		f.Add([]byte(in), uint8(3), uint8(5))
	}
	f.Fuzz(func(t *testing.T, data []byte, window, chunk uint8) {
		if msg := compareStreamed(data, int(window%32)+1, int(chunk%32)+1); msg != "" {
			t.Fatalf("window %d, reads of %d: %s", window%32+1, chunk%32+1, msg)
		}
	})
}

// compareStreamed reads data in one window, and through a window of the given size with
// reads of up to chunk bytes, and says how the two differ, if they do.
func compareStreamed(data []byte, window, chunk int) string {
	want, wantErr := ReadCompact(bytes.NewReader(data))
	got, err := readWithLexer(newStreamLexerSize(&chunkReader{data, chunk}, window))
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		return fmt.Sprintf("read = %v, want %v", err, wantErr)
	}
	if err != nil {
		return ""
	}
	if diff := cmp.Diff(want.Expanded(), got.Expanded()); diff != "" {
		return "read mismatch (-one window +streamed):\n" + diff
	}
	return ""
}

// chunkReader reads data n bytes at a time.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}

var streamInputs = func() []string {
	a := "sha256:" + strings.Repeat("a", 64)
	b := "sha256:" + strings.Repeat("b", 64)
	return []string{
		`{"imageDetails": [{"imageDigest": "` + a + `", "imageTags": ["v1", "latest"], "imagePushedAt": "2026-05-01T10:00:00+02:00",
			"lastRecordedPullTime": 1714557600.123456789, "lastArchivedAt": "9999-12-31T23:59:59Z", "lastActivatedAt": 1e12,
			"imageScanStatus": {"status": "COMPLETE", "x": [1, 2.5e3, true, false, null, "\u0041\n"]}, "imageStatus": "ARCHIVED"},
			{"imageDigest": "` + b + `", "subjectManifestDigest": "` + a + `", "imageSizeInBytes": 12345678901,
			"imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json", "artifactMediaType": "application/vnd.dev.cosign.artifact.sig.v1+json"}]}`,
		"\xEF\xBB\xBF  [\n" + `{"nextToken": "x", "imageDetails": [{"imageDigest": "` + a + `"}]}, {"imageDetails": [{"imageDigest": "blake3:AZ"}]}` + "\n]\n",
		`[{"imageDigest": "` + a + `", "imageT\u0061gs": ["v\u0031"]}, {"imageDigest": "` + b + `"}]`,
		`{"kind": "shipshape.snapshot", "version": 1, "images": [{"digest": "` + a + `", "tags": ["x"]}]}`,
		// Errors.
		"{\n  \"imageDetails\": [\n    {\"imageDigest\": \"" + a + "\" \"imageTags\": []}\n  ]\n}",
		"{\n  \"imageDetails\": [\n    {\"imageDigest\": \"" + a + "\"",
		`{"imageDetails": [{"imageDigest": "sha256:a`,
		`{"imageDetails": [{"imageSizeInBytes": 01}]}`,
		`{"imageDetails": [{"imageSizeInBytes": 12`,
		`{"imageDetails": [{"imageTags": nul}]}`,
		"\n\n" + `{"repositories": [1, 2, 3], "x": "` + strings.Repeat("y", 100) + `"}`,
		`{"imageDetails": [{"imageDigest": "` + a + `", "imagePushedAt": {"seconds": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}}]}`,
		`{"imageDetails": [{"imageDigest": "` + a + `", "imageTags": ["v1"]}, {"imageDigest": "` + b + `", "imageTags": ["v1"]}]}`,
		`{"imageDetails": [{"imageDigest": "` + a + `"}]}{"imageDetails": [{"imageDigest": "` + a + `"}]}`,
		`{"imageDetails": [{"imageDigest": "` + a + `", "x": "\u00"}]}`,
		"{\"imageDetails\": [{\"imageDigest\": \"" + a + "\", \"x\": \"a\\",
		`{"imageDetails": [{"imageDigest": "` + a + `"}]} [1`,
		" \n ",
		`{"imageDetails": [{"registryId": "1", "repositoryName": "r", "imageDigest": "` + a + `", "imageTags": ["x"]},
			{"registryId": "1", "repositoryName": "r", "imageDigest": "` + b + `", "imageTags": ["y"], "imageScanStatus": {}}]}`,
		`{"imageDetails": [{"imageDigest": "` + a + `", "imageScanStatus": {}, "imageScanStatus": 1}]}`,
		`{"nextToken": "` + strings.Repeat("t", 40) + `", "imageDetails": [], "nextToken": null}`,
	}
}()

// readWithLexer is ReadCompact from a lexer made beforehand.
func readWithLexer(l *lexer) (*Inventory, error) {
	l.setMark(0)
	if err := checkEncoding(l.data); err != nil {
		return nil, err
	}
	if l.space(); l.pos == len(l.data) {
		return nil, errors.New("empty input")
	}
	if l.looksLikeSnapshot() {
		data, err := readOn(l.data, l.in.r)
		if err != nil {
			return nil, err
		}
		return readSnapshot(data)
	}
	return readDescribeImages(l)
}

// TestReadCompactReadError checks that a read that fails is reported as such, not as the
// syntax error the input cut short looks like.
func TestReadCompactReadError(t *testing.T) {
	t.Parallel()
	in := `{"imageDetails": [{"imageDigest": "sha256:` + strings.Repeat("a", 64) + `"}, `
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom))
	_, err := ReadCompact(r)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "reading input: ") {
		t.Errorf("ReadCompact() = %v, want reading input: %v", err, boom)
	}
}

// TestTableTimes checks that times beyond Unix nanoseconds come back as they were read.
func TestTableTimes(t *testing.T) {
	t.Parallel()
	in := `{"imageDetails": [{"imageDigest": "sha256:` + strings.Repeat("a", 64) + `",
		"imagePushedAt": "0001-01-01T00:00:01Z", "lastRecordedPullTime": "9999-12-31T23:59:59.999999999Z",
		"lastArchivedAt": "1677-09-21T00:12:43.145224192Z", "lastActivatedAt": 999999999999.5}]}`
	inv, err := ReadCompact(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	l := inv.List()
	for _, tt := range []struct {
		got  time.Time
		want string
	}{
		{l.PushedAt(0), "0001-01-01T00:00:01Z"},
		{l.LastPulledAt(0), "9999-12-31T23:59:59.999999999Z"},
		{l.LastArchivedAt(0), "1677-09-21T00:12:43.145224192Z"},
		{l.LastActivatedAt(0), "33658-09-27T01:46:39.5Z"},
	} {
		if got := tt.got.Format(time.RFC3339Nano); got != tt.want || tt.got.Location() != time.UTC {
			t.Errorf("time = %s (%v), want %s in UTC", got, tt.got.Location(), tt.want)
		}
	}
}

// TestPlain checks plain, which looks at eight bytes at a time, against plainSlow.
func TestPlain(t *testing.T) {
	t.Parallel()
	for _, c := range []byte{0, 0x1f, 0x20, '"', 'a', 0x7f, 0x80, 0xc3, 0xff} {
		for n := range 20 {
			for at := range n {
				b := bytes.Repeat([]byte{'x'}, n)
				b[at] = c
				if got, want := plain(b), plainSlow(b); got != want {
					t.Errorf("plain(%q) = %t, want %t", b, got, want)
				}
			}
		}
	}
	for _, s := range []string{"héllo wörld, 0123", "日本語のタグ名前", "\xc3\x28 broken utf-8 here"} {
		if got, want := plain([]byte(s)), plainSlow([]byte(s)); got != want {
			t.Errorf("plain(%q) = %t, want %t", s, got, want)
		}
	}
}
