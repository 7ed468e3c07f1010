package postgres

import (
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/pins/pinstest"
)

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	pinstest.SkipWithoutPostgres(t)
	pinstest.Conformance(t, func(t *testing.T) pins.Store { return open(t, pinstest.PostgresDSN(t)) })
}

func TestReplicas(t *testing.T) {
	t.Parallel()
	dsn := pinstest.PostgresDSN(t)
	pinstest.Replicas(t, func(t *testing.T) (pins.Store, pins.Store) {
		// Both open at once, as replicas starting together: one migrates, the other waits.
		errs := make(chan error, 2)
		stores := make([]*Store, 2)
		for i := range stores {
			go func() {
				var err error
				stores[i], err = Open(t.Context(), dsn)
				errs <- err
			}()
		}
		for range stores {
			if err := <-errs; err != nil {
				t.Fatalf("Open() error = %v", err)
			}
		}
		return stores[0], stores[1]
	})
}

func TestReopen(t *testing.T) {
	t.Parallel()
	dsn := pinstest.PostgresDSN(t)
	s := open(t, dsn)
	if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Fatalf("Set() error = %v", err)
	}
	s.Close()
	s = open(t, dsn)
	defer s.Close()
	p, err := s.Get(t.Context(), "app")
	if err != nil || p.Digest != pinstest.Digest(1) {
		t.Errorf("Get() after reopening = %s, %v; want %s", p.Digest, err, pinstest.Digest(1))
	}
}

func TestHistoryIsAppendOnly(t *testing.T) {
	t.Parallel()
	s := open(t, pinstest.PostgresDSN(t))
	defer s.Close()
	if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Fatalf("Set() error = %v", err)
	}
	for _, stmt := range []string{"UPDATE pin_history SET digest = 'x'", "DELETE FROM pin_history", "TRUNCATE pin_history"} {
		if _, err := s.pool.Exec(t.Context(), stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want the append-only trigger to refuse", stmt, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dsn := pinstest.SkipWithoutPostgres(t)
	sep := "&"
	if !strings.Contains(dsn, "?") {
		sep = "?"
	}
	tests := []struct {
		name, dsn, want string
	}{
		{name: "BadDSN", dsn: "postgres://%zz", want: "opening PostgreSQL pin store"},
		{name: "MissingSchema", dsn: dsn + sep + "search_path=no_such_schema", want: "no schema of the search_path exists"},
		{name: "Unreachable", dsn: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2", want: "connecting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.dsn)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q) error = %v, want it to contain %q", tt.dsn, err, tt.want)
			}
		})
	}
}
