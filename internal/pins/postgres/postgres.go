// Package postgres keeps pins in PostgreSQL, the store that several replicas share.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/redact"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// migrationsTable records which migrations ran.
	migrationsTable = "pins_migrations"
	// migrationLockSeconds bounds how long Open waits, polling each second, for another
	// replica's migration to finish.
	migrationLockSeconds = 120
	// setAttempts bounds the retries of a Set or Delete that lost a race on a unique key
	// (two creators of one pin, or a creation racing a deletion): each retry sees the
	// winner's commit, so one retry normally settles it.
	setAttempts = 5
	// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
	uniqueViolation = "23505"
)

// Store is a pins.Store in a PostgreSQL database (the schema first on the search_path).
// Replicas may share it: a change locks the pin's row (SELECT … FOR UPDATE) for the
// duration of its transaction.
type Store struct {
	pool *pgxpool.Pool
}

var _ pins.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or keyword/value string, with
// pgx's pool settings such as pool_max_conns) and runs the pending migrations, one replica
// at a time. Its errors never show the password of dsn.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := connect(ctx, dsn, false)
	if err != nil {
		return nil, redact.Error(err, dsn)
	}
	return s, nil
}

// OpenReadOnly connects to the existing pin store in the database at dsn for reading, for
// a caller that must see every pin or fail: it runs no migration, its transactions are
// read-only, and a database whose search_path holds no pin tables is an error, not an
// empty store. Its errors never show the password of dsn.
func OpenReadOnly(ctx context.Context, dsn string) (*Store, error) {
	s, err := connect(ctx, dsn, true)
	if err != nil {
		return nil, redact.Error(err, dsn)
	}
	return s, nil
}

// connect opens the store of Open or OpenReadOnly. Its errors may show parts of dsn: pgx
// quotes it, redacting on a best-effort basis, and names the host and database it parsed
// from it, which a password holding an unescaped '@' leaks into.
func connect(ctx context.Context, dsn string, readOnly bool) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL pin store: %w", err)
	}
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL pin store: %w", err)
	}
	if readOnly {
		err = checkTables(ctx, pool)
	} else {
		err = migrate(ctx, pool)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening PostgreSQL pin store on %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool}, nil
}

// checkTables fails unless the pin tables are on the search_path.
func checkTables(ctx context.Context, pool *pgxpool.Pool) error {
	var ok bool
	err := pool.QueryRow(ctx, `SELECT to_regclass('pins') IS NOT NULL AND to_regclass('pin_history') IS NOT NULL`).Scan(&ok)
	switch {
	case err != nil:
		return fmt.Errorf("connecting: %w", err)
	case !ok:
		return errors.New("no pin store: no pin tables on the search_path")
	}
	return nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	var schema string
	if err := pool.QueryRow(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	if schema == "" {
		return errors.New("no schema of the search_path exists")
	}
	// Replicas migrating one schema take the same advisory lock; other schemas do not wait.
	h := fnv.New64a()
	h.Write([]byte("shipshape pins " + schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, migrationLockSeconds))
	if err != nil {
		return err
	}
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() // leaves the pool open
	p, err := goose.NewProvider(goose.DialectPostgres, db, dir, goose.WithSessionLocker(locker),
		goose.WithTableName(migrationsTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("reading migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating schema %s: %w", schema, err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Set implements pins.Store. The pin's row stays locked from reading the current digest
// to the commit, so of concurrent compare-and-swaps expecting one digest exactly one wins.
func (s *Store) Set(ctx context.Context, p pins.Pin, expected string) (pins.Pin, error) {
	if err := p.Validate(); err != nil {
		return pins.Pin{}, fmt.Errorf("setting pin: %w", err)
	}
	var out pins.Pin
	err := s.retry(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = set(ctx, tx, p, expected)
		return err
	})
	if err != nil {
		return pins.Pin{}, fmt.Errorf("setting pin %s: %w", p.Name, err)
	}
	return out, nil
}

func set(ctx context.Context, tx pgx.Tx, p pins.Pin, expected string) (pins.Pin, error) {
	if err := takeTurn(ctx, tx, p.Name); err != nil {
		return pins.Pin{}, err
	}
	var cur string
	err := tx.QueryRow(ctx, `SELECT digest FROM pins WHERE name = $1 FOR UPDATE`, p.Name).Scan(&cur)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return pins.Pin{}, fmt.Errorf("reading it: %w", err)
	}
	if expected != "" {
		if !exists {
			return pins.Pin{}, fmt.Errorf("%w: no such pin, expected %s", pins.ErrConflict, expected)
		}
		if cur != expected {
			return pins.Pin{}, fmt.Errorf("%w: holds %s, expected %s", pins.ErrConflict, cur, expected)
		}
	}
	// A new pin continues the version count of an earlier, deleted pin of the same name;
	// an existing one counts up from its own version. A creator that loses to another
	// takes the ON CONFLICT branch and still counts right.
	p.UpdatedAt = now()
	err = tx.QueryRow(ctx, `
		INSERT INTO pins (name, repository, digest, source_sha, verification, verification_reason, updated_at, updated_by, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT COALESCE(MAX(version), 0) + 1 FROM pin_history WHERE name = $1))
		ON CONFLICT (name) DO UPDATE SET
			repository = excluded.repository, digest = excluded.digest, source_sha = excluded.source_sha,
			verification = excluded.verification, verification_reason = excluded.verification_reason,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by, version = pins.version + 1
		RETURNING version`,
		p.Name, p.Repository, p.Digest, p.SourceSHA, p.Verified, p.Reason, p.UpdatedAt, p.UpdatedBy,
	).Scan(&p.Version)
	if err != nil {
		return pins.Pin{}, fmt.Errorf("writing it: %w", err)
	}
	if err := appendHistory(ctx, tx, pins.Change{Pin: p, Op: pins.OpSet}); err != nil {
		return pins.Pin{}, err
	}
	return p, nil
}

// Delete implements pins.Store.
func (s *Store) Delete(ctx context.Context, name, by string) error {
	if len(by) > pins.MaxText {
		return fmt.Errorf("deleting pin %s: %w: updated by: %d bytes, more than %d", name, pins.ErrInvalid, len(by), pins.MaxText)
	}
	err := s.retry(ctx, func(tx pgx.Tx) error {
		if err := takeTurn(ctx, tx, name); err != nil {
			return err
		}
		p, err := scanPin(tx.QueryRow(ctx, `SELECT `+pinColumns+` FROM pins WHERE name = $1 FOR UPDATE`, name))
		if errors.Is(err, pgx.ErrNoRows) {
			return pins.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading it: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pins WHERE name = $1`, name); err != nil {
			return err
		}
		p.UpdatedAt, p.UpdatedBy, p.Version = now(), by, p.Version+1
		return appendHistory(ctx, tx, pins.Change{Pin: p, Op: pins.OpDelete})
	})
	if err != nil {
		return fmt.Errorf("deleting pin %s: %w", name, err)
	}
	return nil
}

// takeTurn makes the writers of one pin name take turns until the transaction ends, creators
// included: a row lock cannot cover a pin that does not exist yet, and without the turn two
// creators could record their changes out of time order.
func takeTurn(ctx context.Context, tx pgx.Tx, name string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "shipshape pin "+name); err != nil {
		return fmt.Errorf("waiting for its turn: %w", err)
	}
	return nil
}

// retry runs f in a transaction and commits, again when it lost a race on a unique key.
func (s *Store) retry(ctx context.Context, f func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, f)
		var pgErr *pgconn.PgError
		if attempt < setAttempts && errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
			continue
		}
		return err
	}
}

func appendHistory(ctx context.Context, tx pgx.Tx, c pins.Change) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO pin_history (name, op, repository, digest, source_sha, verification, verification_reason, updated_by, version, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.Name, c.Op, c.Repository, c.Digest, c.SourceSHA, c.Verified, c.Reason, c.UpdatedBy, c.Version, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("recording history: %w", err)
	}
	return nil
}

const pinColumns = `name, repository, digest, source_sha, verification, verification_reason, updated_at, updated_by, version`

func scanPin(row pgx.Row) (pins.Pin, error) {
	var p pins.Pin
	if err := row.Scan(&p.Name, &p.Repository, &p.Digest, &p.SourceSHA, &p.Verified, &p.Reason, &p.UpdatedAt, &p.UpdatedBy, &p.Version); err != nil {
		return pins.Pin{}, err
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, nil
}

// Get implements pins.Store.
func (s *Store) Get(ctx context.Context, name string) (pins.Pin, error) {
	p, err := scanPin(s.pool.QueryRow(ctx, `SELECT `+pinColumns+` FROM pins WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return pins.Pin{}, fmt.Errorf("getting pin %s: %w", name, pins.ErrNotFound)
	}
	if err != nil {
		return pins.Pin{}, fmt.Errorf("getting pin %s: %w", name, err)
	}
	return p, nil
}

// List implements pins.Store; it fails beyond pins.MaxPins pins.
func (s *Store) List(ctx context.Context) ([]pins.Pin, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pinColumns+` FROM pins ORDER BY name LIMIT $1`, pins.MaxPins+1)
	if err != nil {
		return nil, fmt.Errorf("listing pins: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pins.Pin, error) { return scanPin(row) })
	if err != nil {
		return nil, fmt.Errorf("listing pins: %w", err)
	}
	if len(out) > pins.MaxPins {
		return nil, fmt.Errorf("listing pins: more than %d", pins.MaxPins)
	}
	return out, nil
}

// History implements pins.Store; it fails beyond pins.MaxHistory changes.
func (s *Store) History(ctx context.Context, name string) ([]pins.Change, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT name, op, repository, digest, source_sha, verification, verification_reason, updated_by, version, at
		FROM pin_history WHERE name = $1 ORDER BY version LIMIT $2`, name, pins.MaxHistory+1)
	if err != nil {
		return nil, fmt.Errorf("reading history of pin %s: %w", name, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pins.Change, error) {
		var c pins.Change
		err := row.Scan(&c.Name, &c.Op, &c.Repository, &c.Digest, &c.SourceSHA, &c.Verified, &c.Reason, &c.UpdatedBy, &c.Version, &c.UpdatedAt)
		c.UpdatedAt = c.UpdatedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading history of pin %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reading history of pin %s: %w", name, pins.ErrNotFound)
	}
	if len(out) > pins.MaxHistory {
		return nil, fmt.Errorf("reading history of pin %s: more than %d changes", name, pins.MaxHistory)
	}
	return out, nil
}

// now is the time of a change, in UTC and to the microsecond, as both stores keep it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
