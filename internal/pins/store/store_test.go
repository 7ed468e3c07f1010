package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/pins/pinstest"
	"github.com/shipshape-dev/shipshape/internal/pins/postgres"
	"github.com/shipshape-dev/shipshape/internal/pins/sqlite"
)

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // not parallel: changes the working directory
	tests := []struct {
		name, dsn, file string
	}{
		{name: "Relative", dsn: "sqlite://pins.db", file: filepath.Join(dir, "pins.db")},
		{name: "RelativeDir", dsn: "sqlite://data/pins.db", file: filepath.Join(dir, "data", "pins.db")},
		{name: "Absolute", dsn: "sqlite://" + filepath.Join(dir, "abs", "pins.db"), file: filepath.Join(dir, "abs", "pins.db")},
		{name: "UpperCaseScheme", dsn: "SQLite://upper.db", file: filepath.Join(dir, "upper.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.dsn)
			if err != nil {
				t.Fatalf("Open(%s) error = %v", tt.dsn, err)
			}
			defer s.Close()
			if _, ok := s.(*sqlite.Store); !ok {
				t.Errorf("Open(%s) = %T, want *sqlite.Store", tt.dsn, s)
			}
			if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
				t.Fatalf("Set() error = %v", err)
			}
			again, err := sqlite.Open(t.Context(), tt.file)
			if err != nil {
				t.Fatalf("sqlite.Open(%s) error = %v", tt.file, err)
			}
			defer again.Close()
			if _, err := again.Get(t.Context(), "app"); err != nil {
				t.Errorf("Get() from %s error = %v, want the pin set through %s", tt.file, err, tt.dsn)
			}
		})
	}
}

func TestOpenReadOnlySQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // not parallel: changes the working directory
	s, err := Open(t.Context(), "sqlite://pins.db")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(t.Context(), pins.Pin{Name: "app", Digest: pinstest.Digest(1)}, ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	t.Run("Existing", func(t *testing.T) {
		s, err := OpenReadOnly(t.Context(), "sqlite://pins.db")
		if err != nil {
			t.Fatalf("OpenReadOnly(sqlite://pins.db) error = %v", err)
		}
		defer s.Close()
		if list, err := s.List(t.Context()); err != nil || len(list) != 1 {
			t.Errorf("List() = %v, %v; want the pin app", list, err)
		}
	})
	for _, tt := range []struct{ name, dsn, path string }{
		{name: "Relative", dsn: "sqlite://relative.db", path: filepath.Join(dir, "relative.db")},
		{name: "AbsoluteInMissingDir", dsn: "sqlite://" + filepath.Join(dir, "typo", "dir", "p.db"), path: filepath.Join(dir, "typo", "dir", "p.db")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenReadOnly(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("OpenReadOnly(%s) succeeded, want an error", tt.dsn)
			}
			if want := "no pin store at " + tt.path; !strings.Contains(err.Error(), want) {
				t.Errorf("OpenReadOnly(%s) error = %v, want it to contain %q", tt.dsn, err, want)
			}
			if _, err := os.Stat(tt.path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("OpenReadOnly(%s) created %s (stat: %v)", tt.dsn, tt.path, err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReadOnly created the directory typo (stat: %v)", err)
	}
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	dsn := pinstest.PostgresDSN(t)
	for _, d := range []string{dsn, "postgresql" + strings.TrimPrefix(dsn, "postgres")} {
		s, err := Open(t.Context(), d)
		if err != nil {
			t.Fatalf("Open(%s) error = %v", d, err)
		}
		if _, ok := s.(*postgres.Store); !ok {
			t.Errorf("Open(%s) = %T, want *postgres.Store", d, s)
		}
		s.Close()
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dsn, want string
	}{
		{name: "NoScheme", dsn: "pins.db", want: `pin store "pins.db": want sqlite://PATH or postgres://…`},
		{name: "UnknownScheme", dsn: "mysql://root@db/pins", want: `unknown scheme "mysql"`},
		{name: "PasswordRedacted", dsn: "mysql://root:secret@db/pins", want: `pin store "mysql://root:xxxxx@db/pins": unknown scheme`},
		{name: "NoPath", dsn: "sqlite://", want: "no path"},
		{name: "PostgresBadPort", dsn: "postgres://app:secret@db:notaport/pins", want: "postgres://app:xxxxx@db:notaport/pins"},
		{name: "PostgresPasswordWithAt", dsn: "postgres://app:sec@ret@db:notaport/pins", want: "postgres://app:xxxxx@db:notaport/pins: details withheld"},
		{name: "PostgresAtInQuery", dsn: "postgres://app:secret@db/pins?application_name=a@b&sslmode=bogus", want: "app:xxxxx@db/pins"},
		{name: "PostgresQueryPassword", dsn: "postgresql://app@db/pins?password=secret&sslmode=bogus", want: "password=xxxxx"},
		{name: "PostgresKeyword", dsn: "postgres://app@db/pins?sslpassword=secret&pool_max_conns=x", want: "sslpassword=xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for name, open := range map[string]func(context.Context, string) (pins.Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
				s, err := open(t.Context(), tt.dsn)
				if err == nil {
					s.Close()
					t.Fatalf("%s(%q) succeeded, want an error", name, tt.dsn)
				}
				if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") ||
					strings.Contains(err.Error(), "sec@") || strings.Contains(err.Error(), "ret@") {
					t.Errorf("%s(%q) error = %v, want it to contain %q (and no password)", name, tt.dsn, err, tt.want)
				}
			}
		})
	}
}

func TestDefaultDSN(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, xdg, want string
	}{
		{name: "XDGDataHome", xdg: "/data", want: "sqlite:///data/shipshape/pins.db"},
		{name: "Unset", want: "sqlite://" + home + "/.local/share/shipshape/pins.db"},
		{name: "RelativeIgnored", xdg: "data", want: "sqlite://" + home + "/.local/share/shipshape/pins.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // not parallel: sets the environment
			t.Setenv("HOME", home)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			got, err := DefaultDSN()
			if err != nil || got != tt.want {
				t.Errorf("DefaultDSN() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDefaultDSNWithoutHome(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_DATA_HOME", "")
	if got, err := DefaultDSN(); err == nil {
		t.Errorf("DefaultDSN() without HOME = %q, want an error", got)
	}
}
