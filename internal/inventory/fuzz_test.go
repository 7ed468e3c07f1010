package inventory_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// FuzzRead feeds arbitrary bytes to the format-sniffing reader. It must never panic; anything
// it accepts must hold only valid digests, tags and sizes, no digest twice and no tag on two
// images, and must survive a snapshot round trip unchanged. Read a byte at a time, through
// a window refilled at every byte, the input must read the same; read compact, its images
// must be the same through List and its graph.
func FuzzRead(f *testing.F) {
	a, b := digestA, digestB
	// Accepted shapes.
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"` + a + `","imageTags":["v1"],"imagePushedAt":"2026-05-01T10:00:00+02:00"}]}`))
	f.Add([]byte(`[{"imageDetails":[{"imageDigest":"` + a + `","imagePushedAt":1714557600.5}]},{"imageDetails":[]}]`))
	f.Add([]byte(`{"kind":"shipshape.snapshot","version":1,"images":[{"digest":"` + a + `","children":[{"digest":"` + b + `"}]},{"digest":"` + b + `","subject":"` + a + `","config":{"digest":"` + digestC + `","size":9223372036854775807}}]}`))
	f.Add([]byte("{\"imageDetails\": [\n{\"imageDigest\": \"sha256:\\u0061" + a[len("sha256:a"):] + "\", \"imageTags\": [\"v\\u0031\"]}\n]}\n{\"imageDetails\": []}"))
	f.Add([]byte(`[{"imageDigest":"blake3.x_y:AZaz09=_-"}]`))
	// Rejected shapes, whose neighbours the fuzzer should explore.
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"sha256:a"}]}`))
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"` + a + `","imageDigest":"` + b + `"}]}`))
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"` + a + `"}],"imageDetails":[{"imageDigest":"` + b + `"}]}`))
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"` + a + `","imageTags":["v1"]},{"imageDigest":"` + b + `","imageTags":["v1"]}]}`))
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"` + a + `","imageTags":["v1","v1"]}]}`))
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"` + a + `","imageTags":["v\u0000","` + "\xff" + `"]}]}`))
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"` + a + `","imageSizeInBytes":99999999999999999999}]}`))
	f.Add([]byte(`{"kind":"shipshape.snapshot","version":1,"images":[{"digest":"` + a + `","tags":["x"],"layers":[{"digest":"sha512:0","size":-1}],"labels":{"k":"1","k":"2"}}]}`))
	f.Add([]byte(`{"kind":"shipshape.snapshot","version":1,"images":[{"digest":"` + a + `","tags":["v1"]},{"digest":"` + a + `","tags":["v1"]}]}`))
	if b, err := os.ReadFile("../../examples/describe-images.json"); err == nil && len(b) > 4096 {
		f.Add(b[:4096])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := inventory.Read(bytes.NewReader(data))
		slow, slowErr := inventory.Read(iotest.OneByteReader(bytes.NewReader(data)))
		if (err == nil) != (slowErr == nil) || err != nil && err.Error() != slowErr.Error() {
			t.Fatalf("Read() = %v, but a byte at a time %v", err, slowErr)
		}
		if err != nil {
			return
		}
		if diff := cmp.Diff(inv, slow); diff != "" {
			t.Fatalf("Read() a byte at a time differs (-whole +bytes):\n%s", diff)
		}
		checkAccepted(t, inv)
		compact, err := inventory.ReadCompact(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("ReadCompact() = %v, but Read() accepted the input", err)
		}
		checkList(t, inv.Images, compact.List())
		var buf bytes.Buffer
		if err := inventory.WriteSnapshot(&buf, inv); err != nil {
			t.Fatalf("WriteSnapshot() = %v for an inventory Read accepted", err)
		}
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("WriteSnapshot() wrote invalid JSON:\n%s", buf.Bytes())
		}
		again, err := inventory.ReadSnapshot(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("ReadSnapshot(WriteSnapshot()) = %v\n%s", err, buf.Bytes())
		}
		var buf2 bytes.Buffer
		if err := inventory.WriteSnapshot(&buf2, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("snapshot round trip is not stable:\n%s\n---\n%s", buf.Bytes(), buf2.Bytes())
		}
	})
}

// checkList checks that l reads as images, and that its graph finds each by digest.
func checkList(t *testing.T, images []inventory.Image, l inventory.List) {
	t.Helper()
	if l.Len() != len(images) {
		t.Fatalf("List has %d images, want %d", l.Len(), len(images))
	}
	g := l.Graph()
	for i := range images {
		if diff := cmp.Diff(images[i], l.Image(i)); diff != "" {
			t.Fatalf("List.Image(%d) differs (-Read +compact):\n%s", i, diff)
		}
		img := &images[i]
		if l.Digest(i) != img.Digest || string(l.AppendDigest(nil, i)) != img.Digest || !slices.Equal(l.Tags(i), img.Tags) ||
			l.MediaType(i) != img.MediaType || l.ImageStatus(i) != img.ImageStatus() || l.SizeBytes(i) != img.SizeBytes ||
			l.Subject(i) != img.Subject || !l.PushedAt(i).Equal(img.PushedAt) || !l.LastPulledAt(i).Equal(img.LastPulledAt) ||
			!l.LastArchivedAt(i).Equal(img.LastArchivedAt) || !l.LastActivatedAt(i).Equal(img.LastActivatedAt) {
			t.Fatalf("List differs from image %d, %+v", i, *img)
		}
		if j, ok := g.Index(img.Digest); !ok || j != i {
			t.Fatalf("Graph.Index(%s) = %d, %t, want %d", img.Digest, j, ok, i)
		}
		for j := range images {
			if got, want := l.CompareDigests(i, j), strings.Compare(img.Digest, images[j].Digest); got != want {
				t.Fatalf("CompareDigests(%d, %d) = %d, want %d", i, j, got, want)
			}
		}
	}
}

// checkAccepted checks what the readers promise of an inventory they accept.
func checkAccepted(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	digest := func(what, d string, optional bool) {
		if d == "" && optional {
			return
		}
		if err := inventory.ValidDigest(d); err != nil {
			t.Fatalf("Read() accepted %s %q: %v", what, d, err)
		}
	}
	size := func(what string, n int64) {
		if n < 0 {
			t.Fatalf("Read() accepted %s %d", what, n)
		}
	}
	digests := map[string]bool{}
	tagged := map[string]string{}
	for _, img := range inv.Images {
		digest("digest", img.Digest, false)
		digest("subject", img.Subject, true)
		if digests[img.Digest] {
			t.Fatalf("Read() accepted digest %s twice", img.Digest)
		}
		digests[img.Digest] = true
		for _, c := range img.Children {
			digest("child", c.Digest, false)
		}
		if img.Config != nil {
			digest("config", img.Config.Digest, false)
			size("config size", img.Config.Size)
		}
		for _, l := range img.Layers {
			digest("layer", l.Digest, false)
			size("layer size", l.Size)
		}
		size("sizeBytes", img.SizeBytes)
		for _, tag := range img.Tags {
			if err := inventory.ValidTag(tag); err != nil {
				t.Fatalf("Read() accepted tag %q: %v", tag, err)
			}
			if other, ok := tagged[tag]; ok {
				t.Fatalf("Read() accepted tag %q on %s and %s", tag, other, img.Digest)
			}
			tagged[tag] = img.Digest
		}
	}
}
