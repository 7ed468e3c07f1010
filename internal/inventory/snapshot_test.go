package inventory_test

import (
	"bytes"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// sample is an inventory that uses every field of the model.
func sample() *inventory.Inventory {
	east := time.FixedZone("EST", -5*3600)
	return &inventory.Inventory{
		Repository: "ghcr.io/acme/app",
		CapturedAt: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Images: []inventory.Image{{
			Digest:       digestC,
			Tags:         []string{"v1.2.0", "latest"},
			MediaType:    inventory.MediaTypeOCIIndex,
			PushedAt:     time.Date(2026, 5, 1, 5, 0, 0, 0, east),
			LastPulledAt: time.Date(2026, 5, 31, 23, 0, 0, 123_456_789, time.UTC),
			SizeBytes:    150_000_000,
			Children: []inventory.Child{
				{Digest: digestA, MediaType: inventory.MediaTypeOCIManifest, Platform: "linux/amd64"},
				{
					Digest:    digestB,
					MediaType: inventory.MediaTypeOCIManifest,
					Platform:  inventory.PlatformUnknownUnknown,
					Annotations: map[string]string{
						inventory.AnnotationRefType:   inventory.RefTypeAttestation,
						inventory.AnnotationRefDigest: digestA,
					},
				},
			},
		}, {
			Digest:    digestA,
			MediaType: inventory.MediaTypeOCIManifest,
			PushedAt:  time.Date(2026, 5, 1, 9, 59, 59, 0, time.UTC),
			SizeBytes: 150_000_000,
			Config:    &inventory.Blob{Digest: digestOf("c0"), Size: 5000},
			Layers:    []inventory.Blob{{Digest: digestOf("10"), Size: 30_000_000}, {Digest: digestOf("11"), Size: 119_995_000}},
			Labels:    map[string]string{"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567"},
		}, {
			Digest:    digestB,
			MediaType: inventory.MediaTypeOCIManifest,
			Layers:    []inventory.Blob{},
		}, {
			Digest:          digestD,
			MediaType:       inventory.MediaTypeOCIManifest,
			ArtifactType:    synth.ArtifactTypeCosignSignature,
			Subject:         digestC,
			Status:          inventory.StatusArchived,
			LastArchivedAt:  time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC),
			LastActivatedAt: time.Date(2026, 5, 9, 0, 0, 0, 0, time.UTC),
			Labels:          map[string]string{"note": "café \"signed\" <b>&</b>\n\ttab \x01 \u2028"},
		}, {
			Digest:    digestE,
			MediaType: inventory.MediaTypeDockerList,
			Children:  []inventory.Child{},
		}, {
			Digest:    digestF,
			MediaType: inventory.MediaTypeOCIIndex,
			Status:    inventory.StatusActive,
		}},
	}
}

// sortedByDigest returns inv with its images in the order WriteSnapshot writes them.
func sortedByDigest(inv *inventory.Inventory) *inventory.Inventory {
	c := *inv
	c.Images = slices.Clone(inv.Images)
	slices.SortFunc(c.Images, func(a, b inventory.Image) int { return strings.Compare(a.Digest, b.Digest) })
	for n := range c.Images {
		c.Images[n].Tags = slices.Sorted(slices.Values(c.Images[n].Tags))
		if len(c.Images[n].Tags) == 0 {
			c.Images[n].Tags = nil
		}
	}
	return &c
}

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		inv  *inventory.Inventory
	}{
		{"every field", sample()},
		{"empty", &inventory.Inventory{Images: []inventory.Image{}}},
		{"ci repository", synth.CIRepository(synth.CIParams{
			Seed: 7, Repository: "team/app", Source: "https://github.com/acme/app",
			Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), Days: 30, BuildsPerDay: 3,
			PRShare: 0.3, ReleaseEveryDays: 7, Attestations: true, SignReleases: true, LegacyImages: 5,
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := inventory.WriteSnapshot(&buf, tt.inv); err != nil {
				t.Fatalf("WriteSnapshot() = %v", err)
			}
			written := buf.String()
			got, err := inventory.ReadSnapshot(&buf)
			if err != nil {
				t.Fatalf("ReadSnapshot() = %v", err)
			}
			if diff := cmp.Diff(sortedByDigest(tt.inv), got); diff != "" {
				t.Errorf("ReadSnapshot(WriteSnapshot()) mismatch (-want +got):\n%s", diff)
			}
			// Writing what was read gives the same bytes: the output is deterministic.
			var again bytes.Buffer
			if err := inventory.WriteSnapshot(&again, got); err != nil {
				t.Fatalf("WriteSnapshot() = %v", err)
			}
			if diff := cmp.Diff(written, again.String()); diff != "" {
				t.Errorf("WriteSnapshot() not deterministic (-first +second):\n%s", diff)
			}
		})
	}
}

func TestWriteSnapshot(t *testing.T) {
	t.Parallel()
	inv := sample()
	inv.Images = inv.Images[:3]
	var buf bytes.Buffer
	if err := inventory.WriteSnapshot(&buf, inv); err != nil {
		t.Fatalf("WriteSnapshot() = %v", err)
	}
	want := `{
  "kind": "shipshape.snapshot",
  "version": 1,
  "repository": "ghcr.io/acme/app",
  "capturedAt": "2026-06-01T12:00:00Z",
  "images": [
    {
      "digest": "` + digestA + `",
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "pushedAt": "2026-05-01T09:59:59Z",
      "sizeBytes": 150000000,
      "config": {
        "digest": "` + digestOf("c0") + `",
        "size": 5000
      },
      "layers": [
        {
          "digest": "` + digestOf("10") + `",
          "size": 30000000
        },
        {
          "digest": "` + digestOf("11") + `",
          "size": 119995000
        }
      ],
      "labels": {
        "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567"
      }
    },
    {
      "digest": "` + digestB + `",
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "layers": []
    },
    {
      "digest": "` + digestC + `",
      "tags": [
        "latest",
        "v1.2.0"
      ],
      "mediaType": "application/vnd.oci.image.index.v1+json",
      "pushedAt": "2026-05-01T10:00:00Z",
      "lastPulledAt": "2026-05-31T23:00:00.123456789Z",
      "sizeBytes": 150000000,
      "children": [
        {
          "digest": "` + digestA + `",
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "platform": "linux/amd64"
        },
        {
          "digest": "` + digestB + `",
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "platform": "unknown/unknown",
          "annotations": {
            "vnd.docker.reference.digest": "` + digestA + `",
            "vnd.docker.reference.type": "attestation-manifest"
          }
        }
      ]
    }
  ]
}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteSnapshot() mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteSnapshotErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		images []inventory.Image
		want   string
	}{
		{"missing digest", []inventory.Image{{Digest: digestA}, {}}, "image 1: missing digest"},
		{"duplicate digest", []inventory.Image{{Digest: digestB}, {Digest: digestA}, {Digest: digestB}}, "image " + digestB + ": duplicate digest"},
		{"bad status", []inventory.Image{{Digest: digestA, Status: "active"}}, "image " + digestA + `: unknown status "active" (want ACTIVE, ARCHIVED or ACTIVATING)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := inventory.WriteSnapshot(new(bytes.Buffer), &inventory.Inventory{Images: tt.images})
			if err == nil || err.Error() != tt.want {
				t.Errorf("WriteSnapshot() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadSnapshot(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		in   string
		want *inventory.Inventory
	}{{
		name: "minimal",
		in:   `{"kind": "shipshape.snapshot", "version": 1, "images": [{"digest": "sha256:a"}]}`,
		want: &inventory.Inventory{Images: []inventory.Image{{Digest: digestA}}},
	}, {
		name: "nulls",
		in: `{"kind": "shipshape.snapshot", "version": 1, "repository": null, "capturedAt": null, "images": [{"digest": "sha256:a",
			"tags": null, "mediaType": null, "artifactType": null, "pushedAt": null, "lastPulledAt": null, "status": null,
			"lastArchivedAt": null, "lastActivatedAt": null, "sizeBytes": null, "subject": null, "children": null,
			"config": null, "layers": null, "labels": null}]}`,
		want: &inventory.Inventory{Images: []inventory.Image{{Digest: digestA}}},
	}, {
		name: "escapes",
		in:   `{"kind": "shipshape.snapshot", "version": 1, "images": [{"digest": "sha256:\u0061` + digestA[len("sha256:a"):] + `", "labels": {"k\"": "caf\u00e9 \ud83d\ude00"}}]}`,
		want: &inventory.Inventory{Images: []inventory.Image{{Digest: digestA, Labels: map[string]string{`k"`: "café 😀"}}}},
	}, {
		name: "no images",
		in:   `{"version": 1, "kind": "shipshape.snapshot"}`,
		want: &inventory.Inventory{Images: []inventory.Image{}},
	}, {
		name: "children unknown, none, listed",
		in: `{"kind": "shipshape.snapshot", "version": 1, "images": [
			{"digest": "sha256:a", "mediaType": "application/vnd.oci.image.index.v1+json"},
			{"digest": "sha256:b", "mediaType": "application/vnd.oci.image.index.v1+json", "children": null},
			{"digest": "sha256:c", "mediaType": "application/vnd.oci.image.index.v1+json", "children": []},
			{"digest": "sha256:d", "mediaType": "application/vnd.oci.image.index.v1+json", "children": [{"digest": "sha256:a", "annotations": {}}]}
		]}`,
		want: &inventory.Inventory{Images: []inventory.Image{
			{Digest: digestA, MediaType: inventory.MediaTypeOCIIndex},
			{Digest: digestB, MediaType: inventory.MediaTypeOCIIndex},
			{Digest: digestC, MediaType: inventory.MediaTypeOCIIndex, Children: []inventory.Child{}},
			{Digest: digestD, MediaType: inventory.MediaTypeOCIIndex, Children: []inventory.Child{{Digest: digestA}}},
		}},
	}, {
		name: "largest sizes, other algorithm",
		in: `{"kind": "shipshape.snapshot", "version": 1, "images": [{"digest": "sha256:a", "sizeBytes": 9223372036854775807,
			"config": {"digest": "sha512:` + strings.Repeat("0", 128) + `", "size": 9223372036854775807},
			"layers": [{"digest": "blake3:AZaz09=_-", "size": 0}]}]}`,
		want: &inventory.Inventory{Images: []inventory.Image{{
			Digest: digestA, SizeBytes: math.MaxInt64,
			Config: &inventory.Blob{Digest: "sha512:" + strings.Repeat("0", 128), Size: math.MaxInt64},
			Layers: []inventory.Blob{{Digest: "blake3:AZaz09=_-"}},
		}}},
	}, {
		name: "times in any offset",
		in: `{"kind": "shipshape.snapshot", "version": 1, "capturedAt": "2026-06-01T14:00:00+02:00",
			"images": [{"digest": "sha256:a", "pushedAt": "2026-05-01T10:00:00.5-07:00", "lastPulledAt": null}]}`,
		want: &inventory.Inventory{
			CapturedAt: utc("2026-06-01T12:00:00Z"),
			Images:     []inventory.Image{{Digest: digestA, PushedAt: utc("2026-05-01T17:00:00.5Z")}},
		},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := inventory.ReadSnapshot(strings.NewReader(long(tt.in)))
			if err != nil {
				t.Fatalf("ReadSnapshot() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadSnapshot() mismatch (-want +got):\n%s", diff)
			}
			for n, img := range got.Images {
				for _, tm := range []time.Time{img.PushedAt, img.LastPulledAt, got.CapturedAt} {
					if !tm.IsZero() && tm.Location() != time.UTC {
						t.Errorf("ReadSnapshot() image %d has time %v, want UTC", n, tm)
					}
				}
			}
		})
	}
}

func TestReadSnapshotErrors(t *testing.T) {
	t.Parallel()
	const head = `{"kind": "shipshape.snapshot", "version": 1, `
	for _, tt := range []struct {
		name, in, want string
	}{{
		name: "empty",
		in:   " ",
		want: "empty snapshot",
	}, {
		name: "unknown top-level field",
		in:   head + `"images": [], "comment": "x"}`,
		want: "comment: unknown field",
	}, {
		name: "unknown image field",
		in:   head + `"images": [{"digest": "sha256:a"}, {"digest": "sha256:b"}, {"digest": "sha256:c", "pushed": "2026-05-01T10:00:00Z"}]}`,
		want: "images[2].pushed: unknown field",
	}, {
		name: "unknown child field",
		in:   head + `"images": [{"digest": "sha256:a", "children": [{"digest": "sha256:b"}, {"digest": "sha256:c", "os": "linux"}]}]}`,
		want: "images[0].children[1].os: unknown field",
	}, {
		name: "unknown blob field",
		in:   head + `"images": [{"digest": "sha256:a", "config": {"digest": "sha256:b", "size": 1, "mediaType": "x"}}]}`,
		want: "images[0].config.mediaType: unknown field",
	}, {
		name: "labels are free",
		in:   head + `"images": [{"digest": "sha256:a", "labels": {"anything": "goes"}, "layers": [{"digest": "sha256:b", "size": 1, "urls": []}]}]}`,
		want: "images[0].layers[0].urls: unknown field",
	}, {
		name: "field names are case-sensitive",
		in:   head + `"images": [{"Digest": "sha256:a"}]}`,
		want: "images[0].Digest: unknown field",
	}, {
		name: "label not a string",
		in:   head + `"images": [{"digest": "sha256:a", "labels": {"a": "b", "c": 1}}]}`,
		want: "images[0].labels.c: want a string",
	}, {
		name: "child not an object",
		in:   head + `"images": [{"digest": "sha256:a", "children": ["sha256:b"]}]}`,
		want: "images[0].children[0]: want an object",
	}, {
		name: "images not an array",
		in:   head + `"images": {}}`,
		want: "images: want an array",
	}, {
		name: "kind not a string",
		in:   `{"kind": 1, "version": 1}`,
		want: "kind: want a string",
	}, {
		name: "version not an integer",
		in:   `{"kind": "shipshape.snapshot", "version": "1"}`,
		want: "version: want an integer",
	}, {
		name: "version fractional",
		in:   `{"kind": "shipshape.snapshot", "version": 1.0}`,
		want: "version: want an integer, got 1.0",
	}, {
		name: "not an object",
		in:   `[]`,
		want: "line 1, column 1: unexpected '[', want a JSON object (a shipshape snapshot)",
	}, {
		name: "wrong kind",
		in:   `{"kind": "shipshape.policy", "version": 1, "rules": []}`,
		want: `kind: "shipshape.policy" is not "shipshape.snapshot"`,
	}, {
		name: "no kind",
		in:   `{"version": 1, "images": []}`,
		want: `kind: missing (want "shipshape.snapshot")`,
	}, {
		name: "no version",
		in:   `{"kind": "shipshape.snapshot", "images": []}`,
		want: "version: missing (want 1)",
	}, {
		name: "newer version",
		in:   `{"kind": "shipshape.snapshot", "version": 2, "images": []}`,
		want: "version: snapshot version 2 was written by a newer shipshape; this one reads version 1",
	}, {
		name: "newer version with new fields",
		in:   `{"kind": "shipshape.snapshot", "version": 3, "images": [{"digest": "sha256:a", "replicas": 2}]}`,
		want: "version: snapshot version 3 was written by a newer shipshape; this one reads version 1",
	}, {
		name: "missing digest",
		in:   head + `"images": [{"digest": "sha256:a"}, {"tags": ["x"]}]}`,
		want: "images[1].digest: missing",
	}, {
		name: "missing child digest",
		in:   head + `"images": [{"digest": "sha256:a", "children": [{"platform": "linux/amd64"}]}]}`,
		want: "images[0].children[0].digest: missing",
	}, {
		name: "missing layer digest",
		in:   head + `"images": [{"digest": "sha256:a", "layers": [{"digest": "sha256:b", "size": 1}, {"size": 2}]}]}`,
		want: "images[0].layers[1].digest: missing",
	}, {
		name: "duplicate digest",
		in:   head + `"images": [{"digest": "sha256:a"}, {"digest": "sha256:b"}, {"digest": "sha256:a"}]}`,
		want: "images[2].digest: duplicate digest " + digestA + " (also at images[0])",
	}, {
		name: "bad time",
		in:   head + `"images": [{"digest": "sha256:a", "lastPulledAt": "last week"}]}`,
		want: `images[0].lastPulledAt: cannot parse "last week" as a time (want an RFC 3339 string)`,
	}, {
		name: "epoch time",
		in:   head + `"images": [{"digest": "sha256:a", "pushedAt": 1714557600}]}`,
		want: "images[0].pushedAt: cannot use a number as a time (want an RFC 3339 string)",
	}, {
		name: "bad capturedAt",
		in:   head + `"capturedAt": "now", "images": []}`,
		want: `capturedAt: cannot parse "now" as a time (want an RFC 3339 string)`,
	}, {
		name: "bad status",
		in:   head + `"images": [{"digest": "sha256:a", "status": "DELETED"}]}`,
		want: `images[0].status: unknown status "DELETED" (want ACTIVE, ARCHIVED or ACTIVATING)`,
	}, {
		name: "negative size",
		in:   head + `"images": [{"digest": "sha256:a", "sizeBytes": -1}]}`,
		want: "images[0].sizeBytes: want a number of bytes, got -1",
	}, {
		name: "wrong type",
		in:   head + "\n" + `"images": [{"digest": "sha256:a", "sizeBytes": "1 MB"}]}`,
		want: "images[0].sizeBytes: want a number of bytes",
	}, {
		name: "wrong type, escaped",
		in:   head + "\n" + `"images": [{"digest": "sha256:a", "sizeBytes": "1 \" MB"}]}`,
		want: "images[0].sizeBytes: want a number of bytes",
	}, {
		name: "wrong type, number",
		in:   head + "\n" + `"images": [{"digest": "sha256:a", "tags": [1.5e3]}]}`,
		want: "images[0].tags: want an array of strings",
	}, {
		name: "wrong type, object",
		in:   head + "\n" + `"images": [{"digest": "sha256:a", "labels": [true]}]}`,
		want: "images[0].labels: want an object of strings",
	}, {
		name: "malformed",
		in:   head + "\n" + `"images": [{"digest": "sha256:a",}]}`,
		want: "line 2, column 97: unexpected '}', want a string (an object key)",
	}, {
		name: "truncated",
		in:   head + `"images": [`,
		want: "line 1, column 57: unexpected end of input",
	}, {
		name: "trailing data",
		in:   head + `"images": []}` + "\n" + head + `"images": []}`,
		want: "line 2, column 1: unexpected data after the snapshot",
	}, {
		name: "short digest",
		in:   head + `"images": [{"digest": "sha256:a"}, {"digest": "sha256:abc"}]}`,
		want: `images[1].digest: invalid digest "sha256:abc": want 64 lower-case hex digits after "sha256:"`,
	}, {
		name: "bad child digest",
		in:   head + `"images": [{"digest": "sha256:a", "children": [{"digest": "sha256:b"}, {"digest": "sha256:b "}]}]}`,
		want: `images[0].children[1].digest: invalid digest "sha256:b ": character ' ' after the colon (want letters, digits, '=', '_' and '-')`,
	}, {
		name: "bad subject",
		in:   head + `"images": [{"digest": "sha256:a", "subject": "sha256"}]}`,
		want: `images[0].subject: invalid digest "sha256": want algorithm:encoded, such as sha256:<64 hex digits>`,
	}, {
		name: "bad config digest",
		in:   head + `"images": [{"digest": "sha256:a", "config": {"digest": ":abc", "size": 1}}]}`,
		want: `images[0].config.digest: invalid digest ":abc": want algorithm:encoded, such as sha256:<64 hex digits>`,
	}, {
		name: "bad layer digest",
		in:   head + `"images": [{"digest": "sha256:a", "layers": [{"digest": "sha256:b", "size": 1}, {"digest": "sha__256:b", "size": 2}]}]}`,
		want: `images[0].layers[1].digest: invalid digest "sha__256:b": algorithm "sha__256" is not lower-case letters and digits separated by single '+', '.', '_' or '-'`,
	}, {
		name: "size beyond int64",
		in:   head + `"images": [{"digest": "sha256:a", "sizeBytes": 99999999999999999999}]}`,
		want: "images[0].sizeBytes: want a number of bytes, got 99999999999999999999 (more than 9223372036854775807)",
	}, {
		name: "layer size beyond int64",
		in:   head + `"images": [{"digest": "sha256:a", "layers": [{"digest": "sha256:b", "size": 9223372036854775808}]}]}`,
		want: "images[0].layers[0].size: want a number of bytes, got 9223372036854775808 (more than 9223372036854775807)",
	}, {
		name: "negative config size",
		in:   head + `"images": [{"digest": "sha256:a", "config": {"digest": "sha256:b", "size": -5}}]}`,
		want: "images[0].config.size: want a number of bytes, got -5",
	}, {
		name: "invalid tag",
		in:   head + `"images": [{"digest": "sha256:a"}, {"digest": "sha256:b"}, {"digest": "sha256:c", "tags": ["v1", "v1:rc"]}]}`,
		want: `images[2].tags[1]: invalid tag "v1:rc": character ':' (want letters, digits, '_', '.' and '-')`,
	}, {
		name: "tag with NUL",
		in:   head + `"images": [{"digest": "sha256:a", "tags": ["\u0000"]}]}`,
		want: `images[0].tags[0]: invalid tag "\x00": character '\x00' (want letters, digits, '_', '.' and '-')`,
	}, {
		name: "tag on two images",
		in:   head + `"images": [{"digest": "sha256:a", "tags": ["latest"]}, {"digest": "sha256:b"}, {"digest": "sha256:c", "tags": ["v1", "latest"]}]}`,
		want: `images[2].tags[1]: tag "latest" on two images: ` + digestA + ` (images[0]) and ` + digestC,
	}, {
		name: "tag twice on one image",
		in:   head + `"images": [{"digest": "sha256:a", "tags": ["latest", "latest"]}]}`,
		want: `images[0].tags[1]: duplicate tag "latest" (also at tags[0])`,
	}, {
		name: "repeated images",
		in:   head + `"images": [{"digest": "sha256:a"}], "images": [{"digest": "sha256:b"}]}`,
		want: "images: duplicate key",
	}, {
		name: "repeated kind",
		in:   head + `"kind": "shipshape.snapshot", "images": []}`,
		want: "kind: duplicate key",
	}, {
		name: "repeated version",
		in:   head + `"version": 2, "images": []}`,
		want: "version: duplicate key",
	}, {
		name: "repeated digest",
		in:   head + `"images": [{"digest": "sha256:a", "tags": ["x"], "digest": "sha256:b"}]}`,
		want: "images[0].digest: duplicate key",
	}, {
		name: "repeated digest, escaped",
		in:   head + `"images": [{"digest": "sha256:a", "dig\u0065st": "sha256:b"}]}`,
		want: "images[0].digest: duplicate key",
	}, {
		name: "repeated child digest",
		in:   head + `"images": [{"digest": "sha256:a", "children": [{"digest": "sha256:b", "digest": "sha256:c"}]}]}`,
		want: "images[0].children[0].digest: duplicate key",
	}, {
		name: "repeated blob size",
		in:   head + `"images": [{"digest": "sha256:a", "config": {"digest": "sha256:b", "size": 1, "size": 2}}]}`,
		want: "images[0].config.size: duplicate key",
	}, {
		name: "repeated label",
		in:   head + `"images": [{"digest": "sha256:a", "labels": {"a": "1", "b": "2", "a": "3"}}]}`,
		want: "images[0].labels.a: duplicate key",
	}, {
		name: "repeated annotation",
		in:   head + `"images": [{"digest": "sha256:a", "children": [{"digest": "sha256:b", "annotations": {"x": "1", "x": "1"}}]}]}`,
		want: "images[0].children[0].annotations.x: duplicate key",
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := inventory.ReadSnapshot(strings.NewReader(long(tt.in)))
			if err == nil || err.Error() != tt.want {
				t.Errorf("ReadSnapshot() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	var snap bytes.Buffer
	if err := inventory.WriteSnapshot(&snap, sample()); err != nil {
		t.Fatalf("WriteSnapshot() = %v", err)
	}
	var desc bytes.Buffer
	if err := inventory.WriteDescribeImages(&desc, sample()); err != nil {
		t.Fatalf("WriteDescribeImages() = %v", err)
	}
	for _, tt := range []struct {
		name     string
		in       string
		wantRepo string
		wantN    int
	}{
		{"snapshot", snap.String(), "ghcr.io/acme/app", 6},
		{"snapshot with kind last", `{"images": [{"digest": "sha256:a"}], "version": 1, "kind": "shipshape.snapshot"}`, "", 1},
		{"describe-images", desc.String(), "ghcr.io/acme/app", 6},
		{"describe-images with nextToken first", `{"nextToken": "x", "imageDetails": [{"imageDigest": "sha256:a"}]}`, "", 1},
		{"describe-images pages", desc.String() + desc.String()[:0] + `{"imageDetails": [{"repositoryName": "ghcr.io/acme/app", "imageDigest": "` + digestOf("09") + `"}]}`, "ghcr.io/acme/app", 7},
		{"array of details", `[{"imageDigest": "sha256:a"}, {"imageDigest": "sha256:b"}]`, "", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := inventory.Read(strings.NewReader(long(tt.in)))
			if err != nil {
				t.Fatalf("Read() = %v", err)
			}
			if got.Repository != tt.wantRepo || len(got.Images) != tt.wantN {
				t.Errorf("Read() = repository %q with %d images, want %q with %d", got.Repository, len(got.Images), tt.wantRepo, tt.wantN)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, want string
	}{
		{"empty", "", "empty input"},
		{"blank", "\n\n", "empty input"},
		{"snapshot of another kind", `{"kind": "other", "version": 1}`, `kind: "other" is not "shipshape.snapshot"`},
		{"snapshot without kind", `{"images": []}`, `kind: missing (want "shipshape.snapshot")`},
		{"describe-images error", `{"imageDetails": [{}]}`, "imageDetails[0].imageDigest: missing"},
		{"neither", `{"repositories": []}`, "line 1, column 1: no imageDetails (want the output of aws ecr describe-images)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := inventory.Read(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Read() = %v, want %v", err, tt.want)
			}
		})
	}
}

func BenchmarkReadSnapshot100k(b *testing.B) {
	var buf bytes.Buffer
	if err := inventory.WriteSnapshot(&buf, synth.Large(100_000, 1, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		inv, err := inventory.ReadSnapshot(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Images) != 100_000 {
			b.Fatalf("ReadSnapshot() read %d images, want 100000", len(inv.Images))
		}
	}
}

func BenchmarkWriteSnapshot100k(b *testing.B) {
	inv := synth.Large(100_000, 1, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	b.ReportAllocs()
	for b.Loop() {
		if err := inventory.WriteSnapshot(io.Discard, inv); err != nil {
			b.Fatal(err)
		}
	}
}
