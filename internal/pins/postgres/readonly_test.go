package postgres

import (
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/pins/pinstest"
)

func TestOpenReadOnly(t *testing.T) {
	t.Parallel()
	dsn := pinstest.PostgresDSN(t)
	// A fresh schema holds no pin store: an error, and nothing created.
	if s, err := OpenReadOnly(t.Context(), dsn); err == nil || !strings.Contains(err.Error(), "no pin store") {
		if err == nil {
			s.Close()
		}
		t.Fatalf("OpenReadOnly() of an empty schema error = %v, want no pin store", err)
	}
	w := open(t, dsn)
	defer w.Close()
	if _, err := w.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(t.Context(), dsn)
	if err != nil {
		t.Fatalf("OpenReadOnly() error = %v", err)
	}
	defer r.Close()
	list, err := r.List(t.Context())
	if err != nil || len(list) != 1 || list[0].Digest != pinstest.Digest(1) {
		t.Errorf("List() = %v, %v; want the pin app", list, err)
	}
	if _, err := r.Set(t.Context(), pins.Pin{Name: "other", Digest: pinstest.Digest(2)}, ""); err == nil {
		t.Error("Set() on a read-only store succeeded, want an error")
	}
}
