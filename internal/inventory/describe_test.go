package inventory_test

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	digestC = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	digestD = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	digestE = "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	digestF = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
)

// digestOf returns a sha256 digest whose hex digits repeat pattern, e.g. digestOf("c0").
func digestOf(pattern string) string {
	return "sha256:" + strings.Repeat(pattern, 64/len(pattern))
}

// long expands the short digests "sha256:a" to "sha256:f" in a JSON test input into digestA
// to digestF, so that inputs stay short to read.
func long(s string) string { return shortDigests.Replace(s) }

var shortDigests = strings.NewReplacer(
	`"sha256:a"`, `"`+digestA+`"`, `"sha256:b"`, `"`+digestB+`"`, `"sha256:c"`, `"`+digestC+`"`,
	`"sha256:d"`, `"`+digestD+`"`, `"sha256:e"`, `"`+digestE+`"`, `"sha256:f"`, `"`+digestF+`"`)

// detail returns an image detail of repository team/app with the given digest and extra members.
func detail(digest string, members ...string) string {
	m := []string{`"registryId": "123456789012"`, `"repositoryName": "team/app"`}
	if digest != "" {
		m = append(m, fmt.Sprintf("%q: %q", "imageDigest", digest))
	}
	return "{" + strings.Join(append(m, members...), ", ") + "}"
}

// page returns a describe-images response holding details.
func page(details ...string) string {
	return `{"imageDetails": [` + strings.Join(details, ",\n") + `]}`
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestReadDescribeImages(t *testing.T) {
	t.Parallel()
	full := detail(digestA,
		`"imageTags": ["v1.2.0", "latest"]`,
		`"imageSizeInBytes": 123456`,
		`"imagePushedAt": "2026-05-01T10:00:00+02:00"`,
		`"imageScanStatus": {"status": "COMPLETE"}`,
		`"imageScanFindingsSummary": {"findingSeverityCounts": {"HIGH": 2}}`,
		`"imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"`,
		`"artifactMediaType": "application/vnd.oci.image.config.v1+json"`,
		`"lastRecordedPullTime": "2026-05-20T08:31:31.5-07:00"`,
		`"imageStatus": "ARCHIVED"`,
		`"lastArchivedAt": 1779000000`,
		`"lastActivatedAt": 1778000000.25`,
		`"someFieldAddedLater": [1, {"x": null}, true]`)
	sig := detail(digestB,
		`"imageSizeInBytes": 300`,
		`"imagePushedAt": "2026-05-01T10:00:30Z"`,
		`"imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"`,
		`"artifactMediaType": "application/vnd.dev.cosign.artifact.sig.v1+json"`,
		`"subjectManifestDigest": "`+digestA+`"`,
		`"imageStatus": "ACTIVE"`)
	index := detail(digestC,
		`"imageTags": []`,
		`"imageSizeInBytes": 170000000`,
		`"imagePushedAt": null`,
		`"imageManifestMediaType": "application/vnd.oci.image.index.v1+json"`)

	wantFull := inventory.Image{
		Digest:          digestA,
		Tags:            []string{"v1.2.0", "latest"},
		MediaType:       inventory.MediaTypeOCIManifest,
		SizeBytes:       123456,
		PushedAt:        utc("2026-05-01T08:00:00Z"),
		LastPulledAt:    utc("2026-05-20T15:31:31.5Z"),
		Status:          inventory.StatusArchived,
		LastArchivedAt:  time.Unix(1779000000, 0).UTC(),
		LastActivatedAt: time.Unix(1778000000, 250_000_000).UTC(),
	}
	wantSig := inventory.Image{
		Digest:       digestB,
		MediaType:    inventory.MediaTypeOCIManifest,
		ArtifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
		SizeBytes:    300,
		PushedAt:     utc("2026-05-01T10:00:30Z"),
		Subject:      digestA,
		Status:       inventory.StatusActive,
	}
	wantIndex := inventory.Image{
		Digest:    digestC,
		MediaType: inventory.MediaTypeOCIIndex,
		SizeBytes: 170000000,
	}
	all := &inventory.Inventory{Repository: "team/app", Images: []inventory.Image{wantFull, wantSig, wantIndex}}

	for _, tt := range []struct {
		name string
		in   string
		want *inventory.Inventory
	}{{
		name: "one page",
		in:   page(full, sig, index),
		want: all,
	}, {
		name: "pages one after another",
		in:   page(full) + "\n" + `{"nextToken": "abc", "imageDetails": [` + sig + `]}` + page() + page(index) + "\n",
		want: all,
	}, {
		name: "array of pages",
		in:   "[\n" + page(full, sig) + ",\n" + page(index) + "\n]",
		want: all,
	}, {
		name: "array of image details",
		in:   "[" + full + "," + sig + "," + index + "]",
		want: all,
	}, {
		name: "byte order mark",
		in:   "\xEF\xBB\xBF" + page(full, sig, index),
		want: all,
	}, {
		name: "empty page",
		in:   `{"imageDetails": []}`,
		want: &inventory.Inventory{Images: []inventory.Image{}},
	}, {
		name: "null imageDetails",
		in:   `{"imageDetails": null, "nextToken": null}`,
		want: &inventory.Inventory{Images: []inventory.Image{}},
	}, {
		name: "empty array",
		in:   `[]`,
		want: &inventory.Inventory{Images: []inventory.Image{}},
	}, {
		name: "escapes",
		in:   `{"imageDetails": [{"repositoryName": "team\/app", "imageDigest": "sha256:\u0061` + digestA[len("sha256:a"):] + `", "imageT\u0061gs": ["v\u0031"]}]}`,
		want: &inventory.Inventory{Repository: "team/app", Images: []inventory.Image{{Digest: digestA, Tags: []string{"v1"}}}},
	}, {
		name: "largest size, other algorithm",
		in:   page(detail("blake3.x_y:AZaz09=_-", `"imageSizeInBytes": 9223372036854775807`)),
		want: &inventory.Inventory{Repository: "team/app", Images: []inventory.Image{{Digest: "blake3.x_y:AZaz09=_-", SizeBytes: math.MaxInt64}}},
	}, {
		name: "docker config is not an artifact type",
		in: page(`{"imageDigest": "` + digestA + `", "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
			"artifactMediaType": "application/vnd.docker.container.image.v1+json"}`),
		want: &inventory.Inventory{Images: []inventory.Image{{Digest: digestA, MediaType: inventory.MediaTypeDockerV2}}},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := inventory.ReadDescribeImages(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ReadDescribeImages() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadDescribeImages() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadDescribeImagesTimes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{`"2026-05-01T10:00:00Z"`, utc("2026-05-01T10:00:00Z")},
		{`"2026-05-01T10:00:00+02:00"`, utc("2026-05-01T08:00:00Z")},
		{`"2019-05-31T08:31:31-07:00"`, utc("2019-05-31T15:31:31Z")},
		{`"2024-01-01T00:00:00.000000+00:00"`, utc("2024-01-01T00:00:00Z")},
		{`"2024-01-01T00:00:00.123456789Z"`, utc("2024-01-01T00:00:00.123456789Z")},
		{`"2024-01-01T00:00:00.1+05:30"`, utc("2023-12-31T18:30:00.1Z")},
		{`"2024-02-29 23:59:59z"`, utc("2024-02-29T23:59:59Z")},
		{`"2024-01-01T00:00:00+0100"`, utc("2023-12-31T23:00:00Z")},
		{`1714557600`, utc("2024-05-01T10:00:00Z")},
		{`1714557600.123`, utc("2024-05-01T10:00:00.123Z")},
		{`1.7145576e9`, utc("2024-05-01T10:00:00Z")},
		{`1.714557600123E9`, utc("2024-05-01T10:00:00.123Z")},
		{`1714557600123e-3`, utc("2024-05-01T10:00:00.123Z")},
		{`1714557600.123456789123`, utc("2024-05-01T10:00:00.123456789Z")},
		{`0.000000001`, utc("1970-01-01T00:00:00.000000001Z")},
		{`0e5`, time.Unix(0, 0).UTC()},
		{`0`, time.Unix(0, 0).UTC()},
		{`-1.5`, utc("1969-12-31T23:59:58.5Z")},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
	} {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			inv, err := inventory.ReadDescribeImages(strings.NewReader(page(detail(digestA, `"imagePushedAt": `+tt.in))))
			if err != nil {
				t.Fatalf("ReadDescribeImages() = %v", err)
			}
			got := inv.Images[0].PushedAt
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ReadDescribeImages() pushed at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadDescribeImagesErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, want string
	}{{
		name: "empty",
		in:   "",
		want: "no describe-images output",
	}, {
		name: "blank",
		in:   " \n\t\n",
		want: "no describe-images output",
	}, {
		name: "bad time",
		in:   page(detail(digestA), detail(digestB), detail(digestC), detail(digestD, `"imagePushedAt": "yesterday"`)),
		want: `imageDetails[3].imagePushedAt: cannot parse "yesterday" as a time (want RFC 3339 or epoch seconds)`,
	}, {
		name: "time out of range",
		in:   page(detail(digestA, `"lastRecordedPullTime": "2026-02-30T10:00:00Z"`)),
		want: `imageDetails[0].lastRecordedPullTime: cannot parse "2026-02-30T10:00:00Z" as a time (want RFC 3339 or epoch seconds)`,
	}, {
		name: "time without offset",
		in:   page(detail(digestA, `"imagePushedAt": "2026-05-01T10:00:00"`)),
		want: `imageDetails[0].imagePushedAt: cannot parse "2026-05-01T10:00:00" as a time (want RFC 3339 or epoch seconds)`,
	}, {
		name: "time of the wrong type",
		in:   page(detail(digestA, `"imagePushedAt": {"seconds": 1}`)),
		want: `imageDetails[0].imagePushedAt: cannot parse {"seconds": 1} as a time (want RFC 3339 or epoch seconds)`,
	}, {
		name: "epoch out of range",
		in:   page(detail(digestA, `"imagePushedAt": 1e13`)),
		want: `imageDetails[0].imagePushedAt: cannot parse 1e13 as a time (want RFC 3339 or epoch seconds)`,
	}, {
		name: "missing digest in second page",
		in:   page(detail(digestA)) + page(detail("")),
		want: "page 2: imageDetails[0].imageDigest: missing",
	}, {
		name: "missing digest in array of pages",
		in:   "[" + page(detail(digestA)) + ", " + page(detail(digestB), detail("")) + "]",
		want: "page 2: imageDetails[1].imageDigest: missing",
	}, {
		name: "missing digest in array of details",
		in:   "[" + detail(digestA) + ", " + detail("", `"imageDigest": ""`) + "]",
		want: "[1].imageDigest: missing",
	}, {
		name: "duplicate digest",
		in:   page(detail(digestA), detail(digestB)) + page(detail(digestA)),
		want: "page 2: imageDetails[0].imageDigest: duplicate digest " + digestA + " (also at page 1: imageDetails[0])",
	}, {
		name: "two repositories",
		in:   page(detail(digestA), `{"repositoryName": "team/other", "imageDigest": "`+digestB+`"}`),
		want: `imageDetails[1].repositoryName: images from more than one repository: "team/app" (imageDetails[0]) and "team/other"`,
	}, {
		name: "two registries",
		in:   page(detail(digestA), `{"registryId": "210987654321", "repositoryName": "team/app", "imageDigest": "`+digestB+`"}`),
		want: `imageDetails[1].registryId: images from more than one registry: "123456789012" (imageDetails[0]) and "210987654321"`,
	}, {
		name: "two repositories in two pages",
		in:   page(detail(digestA)) + page(`{"repositoryName": "team/other", "imageDigest": "`+digestB+`"}`) + page(),
		want: `page 2: imageDetails[0].repositoryName: images from more than one repository: "team/app" (page 1: imageDetails[0]) and "team/other"`,
	}, {
		name: "duplicate digest, one page so far",
		in:   page(detail(digestA), detail(digestA)) + page(),
		want: "page 1: imageDetails[1].imageDigest: duplicate digest " + digestA + " (also at page 1: imageDetails[0])",
	}, {
		name: "unknown status",
		in:   page(detail(digestA, `"imageStatus": "DELETED"`)),
		want: `imageDetails[0].imageStatus: unknown status "DELETED" (want ACTIVE, ARCHIVED or ACTIVATING)`,
	}, {
		name: "tags of the wrong type",
		in:   page(detail(digestA, `"imageTags": "latest"`)),
		want: "imageDetails[0].imageTags: want an array of strings",
	}, {
		name: "fractional size",
		in:   page(detail(digestA, `"imageSizeInBytes": 1.5`)),
		want: "imageDetails[0].imageSizeInBytes: want a number of bytes, got 1.5",
	}, {
		name: "negative size",
		in:   page(detail(digestA, `"imageSizeInBytes": -1`)),
		want: "imageDetails[0].imageSizeInBytes: want a number of bytes, got -1",
	}, {
		name: "first error wins",
		in:   page(detail(digestA, `"imagePushedAt": "soon"`)) + "}",
		want: `imageDetails[0].imagePushedAt: cannot parse "soon" as a time (want RFC 3339 or epoch seconds)`,
	}, {
		name: "malformed",
		in:   "{\n  \"imageDetails\": [\n    {\"imageDigest\": \"" + digestA + "\" \"imageTags\": []}\n  ]\n}",
		want: `line 3, column 95: unexpected '"', want ',' or '}' after object member`,
	}, {
		name: "truncated",
		in:   "{\n  \"imageDetails\": [\n    {\"imageDigest\": \"" + digestA + "\"",
		want: "line 3, column 94: unexpected end of input",
	}, {
		name: "unterminated string",
		in:   `{"imageDetails": [{"imageDigest": "sha256:a`,
		want: "line 1, column 44: unexpected end of input",
	}, {
		name: "bad number",
		in:   `{"imageDetails": [{"imageSizeInBytes": 01}]}`,
		want: "line 1, column 40: invalid number",
	}, {
		name: "bad literal",
		in:   `{"imageDetails": [{"imageTags": nul}]}`,
		want: `line 1, column 33: unexpected 'n', want null`,
	}, {
		name: "garbage after page",
		in:   page(detail(digestA)) + "\nnextToken",
		want: "line 2, column 1: want a JSON object or array (the output of aws ecr describe-images)",
	}, {
		name: "not an object",
		in:   `"imageDetails"`,
		want: "line 1, column 1: want a JSON object or array (the output of aws ecr describe-images)",
	}, {
		name: "no imageDetails",
		in:   "\n" + `{"repositories": []}`,
		want: "line 2, column 1: no imageDetails (want the output of aws ecr describe-images)",
	}, {
		name: "array of pages without imageDetails",
		in:   "[" + page() + `, {"nextToken": "x"}]`,
		want: "line 1, column 24: no imageDetails (want the output of aws ecr describe-images)",
	}, {
		name: "detail not an object",
		in:   `{"imageDetails": ["sha256:a"]}`,
		want: "line 1, column 19: want an image detail (a JSON object)",
	}, {
		name: "UTF-16",
		in:   "\xFF\xFE{\x00",
		want: "input is UTF-16 encoded; convert it to UTF-8",
	}, {
		name: "short digest",
		in:   page(detail(digestA), detail("sha256:a")),
		want: `imageDetails[1].imageDigest: invalid digest "sha256:a": want 64 lower-case hex digits after "sha256:"`,
	}, {
		name: "upper-case digest",
		in:   page(detail(strings.ToUpper(digestA))),
		want: `imageDetails[0].imageDigest: invalid digest "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": algorithm "SHA256" is not lower-case letters and digits separated by single '+', '.', '_' or '-'`,
	}, {
		name: "upper-case hex",
		in:   page(detail("sha256:" + strings.ToUpper(digestA[7:]))),
		want: `imageDetails[0].imageDigest: invalid digest "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": want 64 lower-case hex digits after "sha256:"`,
	}, {
		name: "digest without algorithm",
		in:   page(detail("aaaa")),
		want: `imageDetails[0].imageDigest: invalid digest "aaaa": want algorithm:encoded, such as sha256:<64 hex digits>`,
	}, {
		name: "digest with a path",
		in:   page(detail("sha256:../" + digestA[10:])),
		want: `imageDetails[0].imageDigest: invalid digest "sha256:../aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": character '.' after the colon (want letters, digits, '=', '_' and '-')`,
	}, {
		name: "short sha512",
		in:   page(detail("sha512:" + digestA[7:])),
		want: `imageDetails[0].imageDigest: invalid digest "sha512:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": want 128 lower-case hex digits after "sha512:"`,
	}, {
		name: "bad subject",
		in:   page(detail(digestA), detail(digestB, `"subjectManifestDigest": "sha256:a\u0000"`)),
		want: `imageDetails[1].subjectManifestDigest: invalid digest "sha256:a\x00": character '\x00' after the colon (want letters, digits, '=', '_' and '-')`,
	}, {
		name: "size beyond int64",
		in:   page(detail(digestA, `"imageSizeInBytes": 99999999999999999999`)),
		want: "imageDetails[0].imageSizeInBytes: want a number of bytes, got 99999999999999999999 (more than 9223372036854775807)",
	}, {
		name: "size one beyond int64",
		in:   page(detail(digestA, `"imageSizeInBytes": 9223372036854775808`)),
		want: "imageDetails[0].imageSizeInBytes: want a number of bytes, got 9223372036854775808 (more than 9223372036854775807)",
	}, {
		name: "size in exponent form",
		in:   page(detail(digestA, `"imageSizeInBytes": 1e3`)),
		want: "imageDetails[0].imageSizeInBytes: want a number of bytes, got 1e3",
	}, {
		name: "tag with NUL",
		in:   page(detail(digestA), detail(digestB), detail(digestC), detail(digestD, `"imageTags": ["v1", "v1\u0000rc"]`)),
		want: `imageDetails[3].imageTags[1]: invalid tag "v1\x00rc": character '\x00' (want letters, digits, '_', '.' and '-')`,
	}, {
		name: "tag of invalid UTF-8",
		in:   page(detail(digestA, "\"imageTags\": [\"v\xff\"]")),
		want: "imageDetails[0].imageTags[0]: invalid tag \"v\uFFFD\": invalid UTF-8 (want letters, digits, '_', '.' and '-')",
	}, {
		name: "tag with a plus",
		in:   page(detail(digestA, `"imageTags": ["v1.0+build.5"]`)),
		want: `imageDetails[0].imageTags[0]: invalid tag "v1.0+build.5": character '+' (want letters, digits, '_', '.' and '-')`,
	}, {
		name: "tag starting with a dot",
		in:   page(detail(digestA, `"imageTags": [".hidden"]`)),
		want: `imageDetails[0].imageTags[0]: invalid tag ".hidden": starts with '.' (want a letter, digit or '_' first)`,
	}, {
		name: "empty tag",
		in:   page(detail(digestA, `"imageTags": ["v1", ""]`)),
		want: `imageDetails[0].imageTags[1]: invalid tag "": want 1 to 300 letters, digits, '_', '.' and '-'`,
	}, {
		name: "tag too long",
		in:   page(detail(digestA, `"imageTags": ["`+strings.Repeat("a", 301)+`"]`)),
		want: `imageDetails[0].imageTags[0]: invalid tag "` + strings.Repeat("a", 80) + `"…: 301 characters (want at most 300)`,
	}, {
		name: "tag on two images",
		in:   page(detail(digestA, `"imageTags": ["v1", "latest"]`), detail(digestB), detail(digestC), detail(digestD, `"imageTags": ["v2", "latest"]`)),
		want: `imageDetails[3].imageTags[1]: tag "latest" on two images: ` + digestA + ` (imageDetails[0]) and ` + digestD,
	}, {
		name: "tag on two images in two pages",
		in:   page(detail(digestA, `"imageTags": ["latest"]`)) + page(detail(digestB, `"imageTags": ["latest"]`)),
		want: `page 2: imageDetails[0].imageTags[0]: tag "latest" on two images: ` + digestA + ` (page 1: imageDetails[0]) and ` + digestB,
	}, {
		name: "tag on two images before a later error",
		in:   page(detail(digestA, `"imageTags": ["latest"]`), detail(digestB, `"imageTags": ["latest"]`), detail(digestC, `"imagePushedAt": "soon"`)),
		want: `imageDetails[1].imageTags[0]: tag "latest" on two images: ` + digestA + ` (imageDetails[0]) and ` + digestB,
	}, {
		name: "tag twice on one image",
		in:   page(detail(digestA, `"imageTags": ["v1", "latest", "v1"]`)),
		want: `imageDetails[0].imageTags[2]: duplicate tag "v1" (also at imageTags[0])`,
	}, {
		name: "same page twice",
		in:   page(detail(digestA, `"imageTags": ["v1"]`)) + page(detail(digestA, `"imageTags": ["v1"]`)),
		want: "page 2: imageDetails[0].imageDigest: duplicate digest " + digestA + " (also at page 1: imageDetails[0])",
	}, {
		name: "repeated imageDigest",
		in:   page(detail(digestA), detail(digestB, `"imageDigest": "`+digestC+`"`)),
		want: "imageDetails[1].imageDigest: duplicate key",
	}, {
		name: "repeated imageDigest, escaped",
		in:   page(detail(digestA, `"image\u0044igest": "`+digestC+`"`)),
		want: "imageDetails[0].imageDigest: duplicate key",
	}, {
		name: "repeated imageTags",
		in:   page(detail(digestA, `"imageTags": ["v1"]`, `"imageTags": []`)),
		want: "imageDetails[0].imageTags: duplicate key",
	}, {
		name: "repeated ignored key",
		in:   page(detail(digestA, `"imageScanStatus": {}`, `"imageScanStatus": {}`)),
		want: "imageDetails[0].imageScanStatus: duplicate key",
	}, {
		name: "repeated imageDetails",
		in:   `{"imageDetails": [` + detail(digestA) + `], "imageDetails": [` + detail(digestB) + `]}`,
		want: "imageDetails: duplicate key",
	}, {
		name: "repeated imageDetails in second page",
		in:   page(detail(digestA)) + `{"imageDetails": [], "nextToken": null, "imageDetails": [` + detail(digestB) + `]}`,
		want: "page 2: imageDetails: duplicate key",
	}, {
		name: "repeated nextToken",
		in:   `{"nextToken": "a", "imageDetails": [], "nextToken": "b"}`,
		want: "nextToken: duplicate key",
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := inventory.ReadDescribeImages(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("ReadDescribeImages() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWriteDescribeImages(t *testing.T) {
	t.Parallel()
	inv := &inventory.Inventory{
		Repository: "123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app",
		CapturedAt: utc("2026-06-01T12:00:00Z"),
		Images: []inventory.Image{{
			Digest:    digestC,
			Tags:      []string{"v1.2.0", "latest"},
			MediaType: inventory.MediaTypeOCIIndex,
			PushedAt:  utc("2026-05-01T10:00:00Z"),
			Children: []inventory.Child{
				{Digest: digestA, MediaType: inventory.MediaTypeOCIManifest, Platform: "linux/amd64"},
				{Digest: digestB, MediaType: inventory.MediaTypeOCIManifest, Platform: inventory.PlatformUnknownUnknown},
			},
		}, {
			Digest:       digestA,
			MediaType:    inventory.MediaTypeOCIManifest,
			PushedAt:     utc("2026-05-01T09:59:59.123456789Z"),
			LastPulledAt: utc("2026-05-31T23:00:00Z"),
			SizeBytes:    150_000_000,
			Config:       &inventory.Blob{Digest: digestOf("c0"), Size: 5000},
			Labels:       map[string]string{"org.opencontainers.image.revision": "abc"},
		}, {
			Digest:         digestB,
			MediaType:      inventory.MediaTypeDockerV2,
			SizeBytes:      20_000,
			Status:         inventory.StatusArchived,
			LastArchivedAt: utc("2026-05-02T00:00:00Z"),
		}},
	}
	var buf bytes.Buffer
	if err := inventory.WriteDescribeImages(&buf, inv); err != nil {
		t.Fatalf("WriteDescribeImages() = %v", err)
	}
	want := `{
    "imageDetails": [
        {
            "registryId": "123456789012",
            "repositoryName": "team/app",
            "imageDigest": "` + digestA + `",
            "imageSizeInBytes": 150000000,
            "imagePushedAt": "2026-05-01T09:59:59.123456+00:00",
            "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactMediaType": "application/vnd.oci.image.config.v1+json",
            "lastRecordedPullTime": "2026-05-31T23:00:00+00:00",
            "imageStatus": "ACTIVE"
        },
        {
            "registryId": "123456789012",
            "repositoryName": "team/app",
            "imageDigest": "` + digestB + `",
            "imageSizeInBytes": 20000,
            "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "artifactMediaType": "application/vnd.docker.container.image.v1+json",
            "imageStatus": "ARCHIVED",
            "lastArchivedAt": "2026-05-02T00:00:00+00:00"
        },
        {
            "registryId": "123456789012",
            "repositoryName": "team/app",
            "imageDigest": "` + digestC + `",
            "imageTags": [
                "latest",
                "v1.2.0"
            ],
            "imageSizeInBytes": 150000000,
            "imagePushedAt": "2026-05-01T10:00:00+00:00",
            "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
            "imageStatus": "ACTIVE"
        }
    ]
}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteDescribeImages() mismatch (-want +got):\n%s", diff)
	}
	if got := inv.Images[0].Tags; !cmp.Equal(got, []string{"v1.2.0", "latest"}) {
		t.Errorf("WriteDescribeImages() changed the tags of its input to %q", got)
	}

	got, err := inventory.ReadDescribeImages(&buf)
	if err != nil {
		t.Fatalf("ReadDescribeImages() = %v", err)
	}
	back := &inventory.Inventory{Repository: "team/app", Images: []inventory.Image{{
		Digest:       digestA,
		MediaType:    inventory.MediaTypeOCIManifest,
		PushedAt:     utc("2026-05-01T09:59:59.123456Z"),
		LastPulledAt: utc("2026-05-31T23:00:00Z"),
		SizeBytes:    150_000_000,
		Status:       inventory.StatusActive,
	}, {
		Digest:         digestB,
		MediaType:      inventory.MediaTypeDockerV2,
		SizeBytes:      20_000,
		Status:         inventory.StatusArchived,
		LastArchivedAt: utc("2026-05-02T00:00:00Z"),
	}, {
		Digest:    digestC,
		Tags:      []string{"latest", "v1.2.0"},
		MediaType: inventory.MediaTypeOCIIndex,
		PushedAt:  utc("2026-05-01T10:00:00Z"),
		SizeBytes: 150_000_000,
		Status:    inventory.StatusActive,
	}}}
	if diff := cmp.Diff(back, got); diff != "" {
		t.Errorf("ReadDescribeImages(WriteDescribeImages()) mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteDescribeImagesRepository(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		repo, registryID, name string
	}{
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app", "123456789012", "team/app"},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app", "123456789012", "app"},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app", "123456789012", "app"},
		{"ghcr.io/acme/app", "", "ghcr.io/acme/app"},
		{"team/app", "", "team/app"},
		{"1234.dkr.ecr.us-east-2.amazonaws.com/app", "", "1234.dkr.ecr.us-east-2.amazonaws.com/app"},
	} {
		t.Run(tt.repo, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			inv := &inventory.Inventory{Repository: tt.repo, Images: []inventory.Image{{Digest: digestA}}}
			if err := inventory.WriteDescribeImages(&buf, inv); err != nil {
				t.Fatalf("WriteDescribeImages() = %v", err)
			}
			out := buf.String()
			got, err := inventory.ReadDescribeImages(&buf)
			if err != nil {
				t.Fatalf("ReadDescribeImages() = %v", err)
			}
			if got.Repository != tt.name {
				t.Errorf("ReadDescribeImages() repository = %q, want %q", got.Repository, tt.name)
			}
			if got := strings.Contains(out, `"registryId"`); got != (tt.registryID != "") {
				t.Errorf("WriteDescribeImages() = %s, want registryId %q", out, tt.registryID)
			}
			if want := `"registryId": "` + tt.registryID + `"`; tt.registryID != "" && !strings.Contains(out, want) {
				t.Errorf("WriteDescribeImages() = %s, want it to contain %s", out, want)
			}
		})
	}
}

func TestWriteDescribeImagesErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		images []inventory.Image
		want   string
	}{
		{"missing digest", []inventory.Image{{Digest: digestA}, {}}, "image 1: missing digest"},
		{"duplicate digest", []inventory.Image{{Digest: digestA}, {Digest: digestB}, {Digest: digestA}}, "image " + digestA + ": duplicate digest"},
		{"bad status", []inventory.Image{{Digest: digestA, Status: "GONE"}}, "image " + digestA + `: unknown status "GONE" (want ACTIVE, ARCHIVED or ACTIVATING)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := inventory.WriteDescribeImages(new(bytes.Buffer), &inventory.Inventory{Images: tt.images})
			if err == nil || err.Error() != tt.want {
				t.Errorf("WriteDescribeImages() = %v, want %v", err, tt.want)
			}
		})
	}
}

// describeImages returns a describe-images response of n synthetic images: about 50 MB
// for 100,000.
func describeImages(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := inventory.WriteDescribeImages(&buf, synth.Large(n, 1, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReadDescribeImages reads describe-images output of 100,000 and 1,000,000 images:
// into a compact inventory (ReadCompact, what plan --images does), and into Images.
func BenchmarkReadDescribeImages(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		data := describeImages(b, n)
		for _, read := range []struct {
			name string
			read func(io.Reader) (*inventory.Inventory, error)
		}{{"compact", inventory.ReadCompact}, {"images", inventory.ReadDescribeImages}} {
			b.Run(fmt.Sprintf("%dk/%s", n/1000, read.name), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					inv, err := read.read(bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
					if inv.Len() != n {
						b.Fatalf("read %d images, want %d", inv.Len(), n)
					}
				}
			})
		}
	}
}
