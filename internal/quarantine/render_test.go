package quarantine_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/quarantine"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func TestWriteRestored(t *testing.T) {
	t.Parallel()
	idx := "sha256:" + "3f9a0c1b2d4e" + "00000000000000000000000000000000000000000000000000000"
	img := "sha256:" + "77aa0c1b2d4e" + "00000000000000000000000000000000000000000000000000000"
	other := "sha256:" + "9bcd0c1b2d4e" + "00000000000000000000000000000000000000000000000000000"
	res := []quarantine.Restored{
		{
			Entry:   quarantine.Entry{Run: "r1", Host: "127.0.0.1:5000", Repository: "team/app", Digest: idx, Tags: []string{"v1", "latest"}},
			Outcome: quarantine.OutcomeRestored, Blobs: quarantine.BlobsQuarantine,
			Tags: []string{"v1"}, Kept: map[string]string{"latest": other},
		},
		{
			Entry:   quarantine.Entry{Run: "r1", Host: "127.0.0.1:5000", Repository: "team/app", Digest: img},
			Outcome: quarantine.OutcomeFailed,
			Detail:  "1 layer is gone from the registry (garbage-collected) and was not quarantined (--quarantine-blobs)",
		},
	}
	var b bytes.Buffer
	if err := quarantine.WriteRestoredAs(&b, res, false, report.Table); err != nil {
		t.Fatal(err)
	}
	want := `restored      sha256:3f9a0c1b2d4e (v1, latest)  127.0.0.1:5000/team/app  run r1  layers from the quarantine
  tag v1 created
  tag latest left at sha256:9bcd0c1b2d4e (--retag moves it back)
failed        sha256:77aa0c1b2d4e  127.0.0.1:5000/team/app: 1 layer is gone from the registry (garbage-collected) and was not quarantined (--quarantine-blobs)
1 restored, 0 already present, 1 failed
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteRestoredAs(table) (-want +got):\n%s", diff)
	}

	b.Reset()
	if err := quarantine.WriteRestoredAs(&b, res, false, report.JSON); err != nil {
		t.Fatal(err)
	}
	var got []quarantine.Restored
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("WriteRestoredAs(json) wrote %s: %v", b.String(), err)
	}
	if diff := cmp.Diff(res, got); diff != "" {
		t.Errorf("WriteRestoredAs(json) does not read back (-want +got):\n%s", diff)
	}
}

func TestWritePruned(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := quarantine.WritePrunedAs(&b, []quarantine.Pruned{{Quarantine: "/var/lib/quarantine", Entries: 1, Bytes: 2048}}, report.Table); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "/var/lib/quarantine: 1 entry pruned, "; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("WritePrunedAs(table) = %q, want it to start %q", got, want)
	}
}
