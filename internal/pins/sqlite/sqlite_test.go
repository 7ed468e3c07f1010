package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/pins/pinstest"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", path, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	pinstest.Conformance(t, func(t *testing.T) pins.Store {
		return open(t, filepath.Join(t.TempDir(), "pins.db"))
	})
}

func TestReplicas(t *testing.T) {
	t.Parallel()
	pinstest.Replicas(t, func(t *testing.T) (pins.Store, pins.Store) {
		path := filepath.Join(t.TempDir(), "pins.db")
		return open(t, path), open(t, path)
	})
}

func TestOpenCreatesAndReopens(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "pins.db")
	s := open(t, path)
	if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Fatalf("Set() error = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	s = open(t, path) // the migrations have run: nothing to do
	defer s.Close()
	p, err := s.Get(t.Context(), "app")
	if err != nil || p.Digest != pinstest.Digest(1) {
		t.Errorf("Get() after reopening = %s, %v; want %s", p.Digest, err, pinstest.Digest(1))
	}
	var mode string
	if err := s.db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{name: "Empty", path: "", want: "empty path"},
		{name: "QuestionMark", path: filepath.Join(dir, "pins?.db"), want: "contains '?'"},
		{name: "DirectoryIsAFile", path: filepath.Join(dir, "pins.db", "x"), want: "opening SQLite pin store"},
	}
	open(t, filepath.Join(dir, "pins.db")).Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(t.Context(), tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q) error = %v, want it to contain %q", tt.path, err, tt.want)
			}
		})
	}
}

func TestHistoryIsAppendOnly(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "pins.db"))
	defer s.Close()
	if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Fatalf("Set() error = %v", err)
	}
	for _, stmt := range []string{"UPDATE pin_history SET digest = 'x'", "DELETE FROM pin_history"} {
		if _, err := s.db.ExecContext(t.Context(), stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want the append-only trigger to refuse", stmt, err)
		}
	}
}
