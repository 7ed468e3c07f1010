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
)

// Schemes of the DSNs Open accepts.
const (
	SchemeSQLite     = "sqlite://"
	SchemePostgres   = "postgres://"
	SchemePostgreSQL = "postgresql://"
)

// Open opens the pin store dsn names:
//
//   - sqlite://PATH: a SQLite file, created with its directory when missing; PATH is
//     relative to the working directory (sqlite://pins.db) or absolute
//     (sqlite:///var/lib/shipshape/pins.db);
//   - postgres://… or postgresql://…: a PostgreSQL database, in pgx's URL form (search_path,
//     sslmode, pool_max_conns and the other connection parameters as query parameters).
func Open(ctx context.Context, dsn string) (pins.Store, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil, fmt.Errorf("pin store %q: want sqlite://PATH or postgres://…", redact(dsn))
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		if rest == "" {
			return nil, errors.New("pin store sqlite://: no path")
		}
		return sqlite.Open(ctx, rest)
	case "postgres", "postgresql":
		return postgres.Open(ctx, dsn)
	default:
		return nil, fmt.Errorf("pin store %q: unknown scheme %q, want sqlite or postgres", redact(dsn), scheme)
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

// redact hides the password of a URL-shaped DSN, for error messages.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if slash := strings.Index(rest, "/"); slash >= 0 && slash < at {
		at = -1 // the '@' is in the path
	}
	if at < 0 {
		return dsn
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return dsn
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
