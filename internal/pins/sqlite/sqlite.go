// Package sqlite keeps pins in a SQLite file, the store of a single machine.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/shipshape-dev/shipshape/internal/pins"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// busyTimeoutMS is how long a writer waits for another process's write lock, in
	// milliseconds, before it gives up with SQLITE_BUSY: long enough for dozens of queued
	// writes, short enough that a stuck process shows up as an error. The writers of one
	// Store never wait for each other there: they queue in the Store first.
	busyTimeoutMS = 10_000
	// maxReaders bounds the connections of the read pool: readers run in parallel under WAL,
	// and more than the server's CPUs would only hold file handles and page caches.
	maxReaders = 8
	// timeLayout stores instants as fixed-width UTC text, which sorts chronologically.
	timeLayout = "2006-01-02T15:04:05.000000Z07:00"
	// migrationsTable records which migrations ran.
	migrationsTable = "pins_migrations"
)

// errReadOnly is the error of a write to a store opened with OpenReadOnly.
var errReadOnly = errors.New("the pin store is open read-only")

// Store is a pins.Store in one SQLite file, in WAL mode: a pool of read connections, which
// never wait for writes, and one write connection, which a single goroutine owns (see
// writer). Left to SQLite, writers on several connections would poll for the file's lock,
// and one that lost a few times could sleep for seconds while newer ones went ahead; here
// the writes of a process queue in the order they arrive and commit in groups. Several
// processes may still share the file: every write transaction also takes the database's
// write lock when it begins (_txlock=immediate), waiting up to busyTimeoutMS for another
// process's.
type Store struct {
	read  *sql.DB
	reads reads
	// writer and writes are nil when the store is read-only.
	writer *writer
	writes *writes
}

var _ pins.Store = (*Store)(nil)

// The store's SQL, each statement prepared once on each connection that runs it: SQLite's
// parser took a third of the CPU of a write.
const (
	pinColumns   = `name, repository, digest, source_sha, verification, verification_reason, updated_at, updated_by, version`
	queryPin     = `SELECT ` + pinColumns + ` FROM pins WHERE name = ?`
	queryList    = `SELECT ` + pinColumns + ` FROM pins ORDER BY name LIMIT ?`
	queryHistory = `
		SELECT name, op, repository, digest, source_sha, verification, verification_reason, updated_by, version, at
		FROM pin_history WHERE name = ? ORDER BY version LIMIT ?`
	queryDigest = `SELECT digest FROM pins WHERE name = ?`
	// A new pin continues the version count of an earlier, deleted pin of the same name;
	// an existing one counts up from its own version.
	execUpsert = `
		INSERT INTO pins (name, repository, digest, source_sha, verification, verification_reason, updated_at, updated_by, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(version), 0) + 1 FROM pin_history WHERE name = ?))
		ON CONFLICT (name) DO UPDATE SET
			repository = excluded.repository, digest = excluded.digest, source_sha = excluded.source_sha,
			verification = excluded.verification, verification_reason = excluded.verification_reason,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by, version = pins.version + 1
		RETURNING version`
	execAppendHistory = `
		INSERT INTO pin_history (name, op, repository, digest, source_sha, verification, verification_reason, updated_by, version, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	execDelete = `DELETE FROM pins WHERE name = ?`
)

// reads are the statements of the read pool.
type reads struct{ pin, list, history *sql.Stmt }

func prepareReads(ctx context.Context, db *sql.DB) (reads, error) {
	var r reads
	err := prepare(ctx, db, map[string]**sql.Stmt{queryPin: &r.pin, queryList: &r.list, queryHistory: &r.history})
	return r, err
}

// writes are the statements of the write connection, which the writer runs in its
// transactions (sql.Tx.StmtContext).
type writes struct{ pin, digest, upsert, appendHistory, delete *sql.Stmt }

func prepareWrites(ctx context.Context, db *sql.DB) (*writes, error) {
	w := &writes{}
	err := prepare(ctx, db, map[string]**sql.Stmt{queryPin: &w.pin, queryDigest: &w.digest,
		execUpsert: &w.upsert, execAppendHistory: &w.appendHistory, execDelete: &w.delete})
	return w, err
}

// prepare prepares each query on db into the statement it points to.
func prepare(ctx context.Context, db *sql.DB, stmts map[string]**sql.Stmt) error {
	for query, stmt := range stmts {
		var err error
		if *stmt, err = db.PrepareContext(ctx, query); err != nil {
			return fmt.Errorf("preparing %s: %w", strings.Join(strings.Fields(query), " "), err)
		}
	}
	return nil
}

// Open opens the SQLite pin store at path, creating its directory and file and running
// the pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening SQLite pin store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", path, err)
	}
	// The driver reads what follows '?' as its own parameters.
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("opening SQLite pin store %s: the path contains '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("opening SQLite pin store: %w", err)
	}
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeoutMS)
	write, err := sql.Open("sqlite", abs+"?"+pragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	}
	// The file is in WAL mode now, which persists: readers need not ask for it. query_only
	// makes a write through a reader fail rather than bypass the queue of writers.
	read, err := sql.Open("sqlite", abs+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	}
	read.SetMaxOpenConns(maxReaders)
	read.SetMaxIdleConns(maxReaders)
	s := &Store{read: read}
	if s.reads, err = prepareReads(ctx, read); err == nil {
		s.writes, err = prepareWrites(ctx, write)
	}
	if err == nil {
		s.writer, err = startWriter(ctx, write)
	}
	if err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	}
	return s, nil
}

// OpenReadOnly opens the existing SQLite pin store at path for reading, for a caller that
// must see every pin or fail: it creates no file, runs no migration, and every write
// fails. A missing file is an error saying there is no pin store there (wrapping
// fs.ErrNotExist), and so is a file without the tables of a pin store.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening SQLite pin store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no pin store at %s: %w", abs, fs.ErrNotExist)
	case err != nil:
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("opening SQLite pin store %s: not a regular file", abs)
	}
	// A file: URI, which the driver hands to SQLite whole: mode=ro opens the file read-only
	// and fails instead of creating it, should it disappear in the meantime.
	uri := url.URL{Scheme: "file", Path: abs,
		RawQuery: fmt.Sprintf("mode=ro&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeoutMS)}
	db, err := sql.Open("sqlite", uri.String())
	if err != nil {
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	}
	db.SetMaxOpenConns(maxReaders)
	db.SetMaxIdleConns(maxReaders)
	var tables int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('pins', 'pin_history')`).Scan(&tables)
	switch {
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	case tables != 2:
		db.Close()
		return nil, fmt.Errorf("no pin store at %s: the file holds no pin tables", abs)
	}
	r, err := prepareReads(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening SQLite pin store %s: %w", abs, err)
	}
	return &Store{read: db, reads: r}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, dir,
		goose.WithTableName(migrationsTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("reading migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// Close closes the database, once the writes in progress are answered; writes still
// waiting fail.
func (s *Store) Close() error {
	err := s.read.Close()
	if s.writer != nil {
		err = errors.Join(err, s.writer.close())
	}
	return err
}

// update runs f in a write transaction, after the writes that arrived before it (see
// writer.update).
func (s *Store) update(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	if s.writer == nil {
		return errReadOnly
	}
	return s.writer.update(ctx, f)
}

// Set implements pins.Store in one write transaction: no other write runs between reading
// the current digest and recording the change.
func (s *Store) Set(ctx context.Context, p pins.Pin, expected string) (pins.Pin, error) {
	if err := p.Validate(); err != nil {
		return pins.Pin{}, fmt.Errorf("setting pin: %w", err)
	}
	err := s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		p.UpdatedAt = now() // under the write lock: a pin's changes are in time order
		var cur string
		err := tx.StmtContext(ctx, s.writes.digest).QueryRowContext(ctx, p.Name).Scan(&cur)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading it: %w", err)
		}
		if expected != "" {
			if !exists {
				return fmt.Errorf("%w: no such pin, expected %s", pins.ErrConflict, expected)
			}
			if cur != expected {
				return fmt.Errorf("%w: holds %s, expected %s", pins.ErrConflict, cur, expected)
			}
		}
		err = tx.StmtContext(ctx, s.writes.upsert).QueryRowContext(ctx,
			p.Name, p.Repository, p.Digest, p.SourceSHA, p.Verified, p.Reason, formatTime(p.UpdatedAt), p.UpdatedBy, p.Name,
		).Scan(&p.Version)
		if err != nil {
			return fmt.Errorf("writing it: %w", err)
		}
		return s.appendHistory(ctx, tx, pins.Change{Pin: p, Op: pins.OpSet})
	})
	if err != nil {
		return pins.Pin{}, fmt.Errorf("setting pin %s: %w", p.Name, err)
	}
	return p, nil
}

// Delete implements pins.Store.
func (s *Store) Delete(ctx context.Context, name, by string) error {
	if len(by) > pins.MaxText {
		return fmt.Errorf("deleting pin %s: %w: updated by: %d bytes, more than %d", name, pins.ErrInvalid, len(by), pins.MaxText)
	}
	err := s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		p, err := scanPin(tx.StmtContext(ctx, s.writes.pin).QueryRowContext(ctx, name))
		if errors.Is(err, sql.ErrNoRows) {
			return pins.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading it: %w", err)
		}
		if _, err := tx.StmtContext(ctx, s.writes.delete).ExecContext(ctx, name); err != nil {
			return err
		}
		p.UpdatedAt, p.UpdatedBy, p.Version = now(), by, p.Version+1
		return s.appendHistory(ctx, tx, pins.Change{Pin: p, Op: pins.OpDelete})
	})
	if err != nil {
		return fmt.Errorf("deleting pin %s: %w", name, err)
	}
	return nil
}

func (s *Store) appendHistory(ctx context.Context, tx *sql.Tx, c pins.Change) error {
	_, err := tx.StmtContext(ctx, s.writes.appendHistory).ExecContext(ctx,
		c.Name, c.Op, c.Repository, c.Digest, c.SourceSHA, c.Verified, c.Reason, c.UpdatedBy, c.Version, formatTime(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("recording history: %w", err)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanPin(row scanner) (pins.Pin, error) {
	var p pins.Pin
	var at string
	if err := row.Scan(&p.Name, &p.Repository, &p.Digest, &p.SourceSHA, &p.Verified, &p.Reason, &at, &p.UpdatedBy, &p.Version); err != nil {
		return pins.Pin{}, err
	}
	t, err := time.Parse(timeLayout, at)
	if err != nil {
		return pins.Pin{}, fmt.Errorf("pin %s: updated_at: %w", p.Name, err)
	}
	p.UpdatedAt = t
	return p, nil
}

// Get implements pins.Store.
func (s *Store) Get(ctx context.Context, name string) (pins.Pin, error) {
	p, err := scanPin(s.reads.pin.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		return pins.Pin{}, fmt.Errorf("getting pin %s: %w", name, pins.ErrNotFound)
	}
	if err != nil {
		return pins.Pin{}, fmt.Errorf("getting pin %s: %w", name, err)
	}
	return p, nil
}

// List implements pins.Store; it fails beyond pins.MaxPins pins.
func (s *Store) List(ctx context.Context) ([]pins.Pin, error) {
	rows, err := s.reads.list.QueryContext(ctx, pins.MaxPins+1)
	if err != nil {
		return nil, fmt.Errorf("listing pins: %w", err)
	}
	defer rows.Close()
	var out []pins.Pin
	for rows.Next() {
		p, err := scanPin(rows)
		if err != nil {
			return nil, fmt.Errorf("listing pins: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing pins: %w", err)
	}
	if len(out) > pins.MaxPins {
		return nil, fmt.Errorf("listing pins: more than %d", pins.MaxPins)
	}
	return out, nil
}

// History implements pins.Store; it fails beyond pins.MaxHistory changes.
func (s *Store) History(ctx context.Context, name string) ([]pins.Change, error) {
	rows, err := s.reads.history.QueryContext(ctx, name, pins.MaxHistory+1)
	if err != nil {
		return nil, fmt.Errorf("reading history of pin %s: %w", name, err)
	}
	defer rows.Close()
	var out []pins.Change
	for rows.Next() {
		var c pins.Change
		var at string
		if err := rows.Scan(&c.Name, &c.Op, &c.Repository, &c.Digest, &c.SourceSHA, &c.Verified, &c.Reason, &c.UpdatedBy, &c.Version, &at); err != nil {
			return nil, fmt.Errorf("reading history of pin %s: %w", name, err)
		}
		if c.UpdatedAt, err = time.Parse(timeLayout, at); err != nil {
			return nil, fmt.Errorf("reading history of pin %s: at: %w", name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
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

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
