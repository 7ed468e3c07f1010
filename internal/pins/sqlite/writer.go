package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// maxBatch bounds the writes committed together: a batch holds the database's write lock,
// which other processes wait for, and its first write waits for the last; 64 writes take a
// few milliseconds.
const maxBatch = 64

// errClosed is the error of a write to a closed store.
var errClosed = errors.New("the pin store is closed")

// writer is the one goroutine that writes to a store's database, over its one write
// connection. Writes queue on an unbuffered channel, whose waiting senders the Go runtime
// serves first in, first out, so a write waits for the writes ahead of it and no longer.
// The writer takes what has queued, up to maxBatch, and runs each write in a savepoint of
// one transaction in arrival order, so each sees the writes before it; then it commits and
// answers them all. A commit costs one fsync of the WAL however many writes it carries;
// no write is answered before the commit that makes it durable.
type writer struct {
	db *sql.DB
	// savepoint, rollbackTo and release, prepared on db, isolate each write of a batch.
	savepoint, rollbackTo, release *sql.Stmt

	ops       chan *writeOp
	closing   chan struct{} // closed by close
	done      chan struct{} // closed when run returns
	closeOnce sync.Once
}

// writeOp is one write: f runs in its savepoint, and err carries its outcome.
type writeOp struct {
	ctx context.Context
	f   func(ctx context.Context, tx *sql.Tx) error
	err chan error // buffered: the writer never waits for the caller
}

// startWriter starts the writer over db, which must hold a single connection.
func startWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	w := &writer{db: db, ops: make(chan *writeOp), closing: make(chan struct{}), done: make(chan struct{})}
	err := prepare(ctx, db, map[string]**sql.Stmt{`SAVEPOINT write`: &w.savepoint,
		`ROLLBACK TO write`: &w.rollbackTo, `RELEASE write`: &w.release})
	if err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

// update runs f in a write transaction and returns once that transaction has committed, or
// with f's error as it is, or the commit's. It gives up waiting for the writes before it
// when ctx ends; a write the writer has taken is answered when its batch commits.
func (w *writer) update(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	op := &writeOp{ctx: ctx, f: f, err: make(chan error, 1)}
	select {
	case w.ops <- op:
	case <-ctx.Done():
		return fmt.Errorf("waiting for earlier writes: %w", context.Cause(ctx))
	case <-w.closing:
		return errClosed
	}
	return <-op.err
}

// close stops the writer once its batch in progress is answered, and closes its database.
func (w *writer) close() error {
	w.closeOnce.Do(func() { close(w.closing) })
	<-w.done
	return w.db.Close()
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*writeOp, 0, maxBatch)
	for {
		select {
		case op := <-w.ops:
			batch = append(batch[:0], op)
		case <-w.closing:
			return
		}
	queued:
		for len(batch) < maxBatch {
			select {
			case op := <-w.ops:
				batch = append(batch, op)
			default:
				break queued
			}
		}
		w.commit(batch)
	}
}

// commit runs batch in one transaction and answers every write in it. Statements run under
// a context of their own: one caller giving up must not roll back the others' writes. A
// caller that gave up before its write began gets its context's error and writes nothing.
func (w *writer) commit(batch []*writeOp) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	err := func() error {
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		for i, op := range batch {
			if err := op.ctx.Err(); err != nil {
				errs[i] = fmt.Errorf("waiting for earlier writes: %w", context.Cause(op.ctx))
				continue
			}
			if _, err := tx.StmtContext(ctx, w.savepoint).ExecContext(ctx); err != nil {
				return err
			}
			if errs[i] = op.f(ctx, tx); errs[i] != nil {
				if _, err := tx.StmtContext(ctx, w.rollbackTo).ExecContext(ctx); err != nil {
					return fmt.Errorf("undoing a failed write: %w", err)
				}
			}
			if _, err := tx.StmtContext(ctx, w.release).ExecContext(ctx); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("committing: %w", err)
		}
		return nil
	}()
	for i, op := range batch {
		if err != nil {
			// Nothing of the batch was written, and a write that failed may have failed
			// only because of one before it: all of them get the batch's error.
			errs[i] = err
		}
		op.err <- errs[i]
	}
}
