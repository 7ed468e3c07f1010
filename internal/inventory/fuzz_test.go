package inventory_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// FuzzRead feeds arbitrary bytes to the format-sniffing reader. It must never panic, and
// anything it accepts must survive a snapshot round trip unchanged.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"imageDetails":[{"imageDigest":"sha256:a","imageTags":["v1"],"imagePushedAt":"2026-05-01T10:00:00+02:00"}]}`))
	f.Add([]byte(`[{"imageDetails":[{"imageDigest":"sha256:a","imagePushedAt":1714557600.5}]},{"imageDetails":[]}]`))
	f.Add([]byte(`{"kind":"shipshape.snapshot","version":1,"images":[{"digest":"sha256:a","children":[{"digest":"sha256:b"}]},{"digest":"sha256:b","subject":"sha256:a"}]}`))
	f.Add([]byte("{\"imageDetails\": [\n{\"imageDigest\": \"sha256:\\u00e9\"}\n]}\n{\"imageDetails\": []}"))
	if b, err := os.ReadFile("../../examples/describe-images.json"); err == nil && len(b) > 4096 {
		f.Add(b[:4096])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := inventory.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
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
