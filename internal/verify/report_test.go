package verify_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/verify"
)

func TestWriteReport(t *testing.T) {
	t.Parallel()
	rev := strings.Repeat("a", 40)
	labels := map[string]string{verify.LabelRevision: rev, verify.LabelCreated: "2026-05-01T10:00:00Z"}
	rep := &verify.Report{Image: "ghcr.io/org/app", Digest: "sha256:idx", Checked: "sha256:amd64", Labels: labels, Problems: verify.Check(labels, rev)}
	tests := []struct {
		name string
		rep  *verify.Report
		json bool
		want string
	}{
		{"table", rep, false, "ghcr.io/org/app@sha256:idx\n" +
			"checked image sha256:amd64 of the index\n" +
			"  ok    org.opencontainers.image.revision  " + rev + "\n" +
			"  FAIL  org.opencontainers.image.source    missing\n" +
			"  ok    org.opencontainers.image.created   2026-05-01T10:00:00Z\n" +
			"1 label problem(s)\n"},
		{"json without problems", &verify.Report{Image: "r", Digest: "d", Checked: "d", Labels: map[string]string{}}, true,
			"{\n  \"image\": \"r\",\n  \"digest\": \"d\",\n  \"checkedDigest\": \"d\",\n  \"labels\": {},\n  \"problems\": []\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			var err error
			if tt.json {
				err = verify.WriteJSON(&b, tt.rep)
			} else {
				err = verify.WriteTable(&b, tt.rep)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}
