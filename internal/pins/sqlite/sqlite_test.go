package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	if err := s.read.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
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
		if _, err := s.writer.db.ExecContext(t.Context(), stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want the append-only trigger to refuse", stmt, err)
		}
	}
}

// TestWritersQueueInTheStore hammers one store with writers while its write connection has
// no busy handler: a writer that found another's lock would fail at once with SQLITE_BUSY
// instead of sleeping in the handler, as the writers of a shared connection pool did.
func TestWritersQueueInTheStore(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "pins.db"))
	defer s.Close()
	if _, err := s.writer.db.ExecContext(t.Context(), "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	pinstest.Hammer(t, s)
	var timeout int
	if err := s.writer.db.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != 0 {
		t.Errorf("busy_timeout = %d, %v after the writes; want 0, the same connection throughout", timeout, err)
	}
}

func TestWriteWaitingForItsTurnGivesUp(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "pins.db"))
	defer s.Close()
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() { // a write in progress until released
		first <- s.update(t.Context(), func(context.Context, *sql.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Set(ctx, pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Set() while another write is in progress error = %v, want DeadlineExceeded", err)
	}
	if err := s.Delete(ctx, "app", "me"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Delete() while another write is in progress error = %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("the write in progress: error = %v", err)
	}
	if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Errorf("Set() once the writer is free error = %v", err)
	}
}

func TestReadersCannotWrite(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "pins.db"))
	defer s.Close()
	_, err := s.read.ExecContext(t.Context(), "INSERT INTO pins (name, digest, updated_at, version) VALUES ('app', 'x', 'now', 1)")
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("a write through the read pool: error = %v, want SQLite to refuse it (query_only)", err)
	}
}

// TestFailedWriteLeavesNoTrace checks that a write failing halfway through is undone
// without undoing the writes committed with it.
func TestFailedWriteLeavesNoTrace(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "pins.db"))
	defer s.Close()
	errHalfway := errors.New("halfway")
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if i%2 == 0 {
				if _, err := s.Set(t.Context(), pins.Pin{Name: fmt.Sprintf("kept-%d", i), Digest: pinstest.Digest(i)}, ""); err != nil {
					t.Errorf("Set(kept-%d) error = %v", i, err)
				}
				return
			}
			err := s.update(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO pins (name, digest, updated_at, version) VALUES (?, ?, 'x', 1)`, fmt.Sprintf("undone-%d", i), pinstest.Digest(i)); err != nil {
					return err
				}
				return errHalfway
			})
			if !errors.Is(err, errHalfway) {
				t.Errorf("a write failing halfway: error = %v, want its own error", err)
			}
		})
	}
	wg.Wait()
	list, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range list {
		got = append(got, p.Name)
	}
	want := []string{"kept-0", "kept-2", "kept-4", "kept-6", "kept-8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() names (-want +got):\n%s", diff)
	}
}

func TestWriteAfterClose(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "pins.db"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); !errors.Is(err, errClosed) {
		t.Errorf("Set() after Close() error = %v, want %v", err, errClosed)
	}
}
