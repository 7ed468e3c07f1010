// Package store opens the pin store a DSN names: a SQLite file or a PostgreSQL database.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/pins/postgres"
	"github.com/shipshape-dev/shipshape/internal/pins/sqlite"
	"github.com/shipshape-dev/shipshape/internal/redact"
)

// Schemes of the DSNs Open accepts.
const (
	SchemeSQLite     = "sqlite://"
	SchemePostgres   = "postgres://"
	SchemePostgreSQL = "postgresql://"
)

// Open opens the pin store dsn names, for reading and writing:
//
//   - sqlite://PATH: a SQLite file, created with its directory when missing; PATH is
//     relative to the working directory (sqlite://pins.db) or absolute
//     (sqlite:///var/lib/shipshape/pins.db);
//   - postgres://… or postgresql://…: a PostgreSQL database, in pgx's URL form (search_path,
//     sslmode, pool_max_conns and the other connection parameters as query parameters).
//
// An empty dsn means DefaultDSN. Errors show dsn with its password hidden.
func Open(ctx context.Context, dsn string) (pins.Store, error) {
	if dsn == "" {
		d, err := DefaultDSN()
		if err != nil {
			return nil, err
		}
		dsn = d
	}
	return open(ctx, dsn, false)
}

// OpenReadOnly opens the existing pin store dsn names, for a caller that reads pins and
// must see all of them or fail, such as the safety check of a cleanup: it creates no file,
// directory or table, and a store that does not exist is an error ("no pin store at …"),
// never an empty list. Writes to the store it returns fail. dsn is as for Open.
func OpenReadOnly(ctx context.Context, dsn string) (pins.Store, error) {
	return open(ctx, dsn, true)
}

func open(ctx context.Context, dsn string, readOnly bool) (pins.Store, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil, fmt.Errorf("pin store %q: want sqlite://PATH or postgres://…", redact.DSN(dsn))
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		if rest == "" {
			return nil, errors.New("pin store sqlite://: no path")
		}
		if readOnly {
			return sqlite.OpenReadOnly(ctx, rest)
		}
		return sqlite.Open(ctx, rest)
	case "postgres", "postgresql":
		if readOnly {
			return postgres.OpenReadOnly(ctx, dsn)
		}
		return postgres.Open(ctx, dsn)
	default:
		return nil, fmt.Errorf("pin store %q: unknown scheme %q, want sqlite or postgres", redact.DSN(dsn), scheme)
	}
}

// DefaultDSN is the pin store of the current user: shipshape/pins.db in the data
// directory, $XDG_DATA_HOME or else ~/.local/share.
func DefaultDSN() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(dir) { // the XDG spec says to ignore a relative value
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the data directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return SchemeSQLite + filepath.Join(dir, "shipshape", "pins.db"), nil
}
