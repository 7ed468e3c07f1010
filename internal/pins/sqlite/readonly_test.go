package sqlite

import (
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/pins/pinstest"
)

func TestOpenReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "pins db #1%.db") // characters a file: URI must escape
	w := open(t, path)
	defer w.Close()
	if _, err := w.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"WriterOpen", "WriterClosed"} {
		t.Run(name, func(t *testing.T) { // not parallel: the second closes the writer
			if name == "WriterClosed" {
				w.Close()
			}
			r, err := OpenReadOnly(t.Context(), path)
			if err != nil {
				t.Fatalf("OpenReadOnly(%s) error = %v", path, err)
			}
			defer r.Close()
			list, err := r.List(t.Context())
			if err != nil || len(list) != 1 || list[0].Digest != pinstest.Digest(1) {
				t.Errorf("List() = %v, %v; want the pin app", list, err)
			}
			if _, err := r.Set(t.Context(), pins.Pin{Name: "other", Digest: pinstest.Digest(2)}, ""); err == nil {
				t.Error("Set() on a read-only store succeeded, want an error")
			}
		})
	}
}

func TestOpenReadOnlyErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db") // a SQLite database, not a pin store
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE notes (text TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	notDB := filepath.Join(dir, "pins.json")
	if err := os.WriteFile(notDB, []byte(`{"pins": []}`+strings.Repeat(" ", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		notExist         bool
	}{
		{name: "Missing", path: filepath.Join(dir, "no", "such", "pins.db"), want: "no pin store at " + filepath.Join(dir, "no", "such", "pins.db"), notExist: true},
		{name: "Directory", path: dir, want: "not a regular file"},
		{name: "EmptyFile", path: empty, want: "no pin store at " + empty + ": the file holds no pin tables"},
		{name: "OtherDatabase", path: other, want: "no pin store at " + other + ": the file holds no pin tables"},
		{name: "NotSQLite", path: notDB, want: "not a database"},
		{name: "EmptyPath", path: "", want: "empty path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := OpenReadOnly(t.Context(), tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("OpenReadOnly(%q) succeeded, want an error", tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenReadOnly(%q) error = %v, want it to contain %q", tt.path, err, tt.want)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("OpenReadOnly(%q) error is fs.ErrNotExist: %t, want %t", tt.path, got, tt.notExist)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReadOnly created %s: %v", filepath.Join(dir, "no"), err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("OpenReadOnly wrote to the empty file: %v, %v", fi, err)
	}
}
