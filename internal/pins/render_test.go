package pins

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWriteDetailAndHistory(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	p := Pin{Name: "api", Digest: "sha256:1", SourceSHA: "abc", Verified: " ", Reason: "no label", UpdatedAt: at, Version: 2}
	var b strings.Builder
	if err := WriteDetail(&b, p); err != nil {
		t.Fatal(err)
	}
	want := `name:          api
repository:    -
digest:        sha256:1
source sha:    abc
verification:  -
reason:        no label
updated:       2026-01-02T02:04:05Z
by:            -
version:       2
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteDetail() (-want +got):\n%s", diff)
	}

	b.Reset()
	if err := WriteHistory(&b, []Change{{Pin: p, Op: OpSet}, {Pin: Pin{UpdatedAt: at, Version: 3, UpdatedBy: "bob"}, Op: OpDelete}}); err != nil {
		t.Fatal(err)
	}
	want = `VERSION  OP      DIGEST    SOURCE  VERIFICATION  UPDATED               BY
2        set     sha256:1  abc     -             2026-01-02T02:04:05Z  -
3        delete  -         -       -             2026-01-02T02:04:05Z  bob
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteHistory() (-want +got):\n%s", diff)
	}

	b.Reset()
	if err := WriteTable(&b, []Pin{p}); err != nil {
		t.Fatal(err)
	}
	want = `NAME  DIGEST    SOURCE  VERIFICATION  UPDATED               BY
api   sha256:1  abc     -             2026-01-02T02:04:05Z  -
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteTable() (-want +got):\n%s", diff)
	}
}
