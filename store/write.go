package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// maxGroupCommit bounds how many writes share one SQLite transaction.
const maxGroupCommit = 256

// write runs fn as one write transaction and returns fn's error (or the
// commit's). fn must not query the database outside tx, nor hold on to tx.
//
// On SQLite, writes share transactions (group commit): one writer
// goroutine takes every write waiting at that moment, runs each in a
// savepoint of its own (so that one write's failure rolls back only that
// write), commits once, and only then answers each. With
// synchronous=FULL an fsync per commit is what bounds durable writes per
// second; shared, it is paid once per batch instead of once per write,
// and every acknowledged write is still on disk. On PostgreSQL, which
// groups its own commits, fn runs in a transaction of its own, retried
// when PostgreSQL aborts it as a deadlock victim.
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.enqueue(&writeJob{ctx: ctx, fn: fn})
}

// writeNew is write for an fn that adds rows and neither renames nor
// removes a connection: the search index entries its group commit
// deferred need not be written before it.
func (s *Store) writeNew(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.enqueue(&writeJob{ctx: ctx, fn: fn, addsOnly: true})
}

// enqueue hands job to the SQLite writer, or runs it alone.
func (s *Store) enqueue(job *writeJob) error {
	ctx := job.ctx
	s.writerMu.RLock()
	if s.writes == nil {
		s.writerMu.RUnlock()
		return s.writeAlone(ctx, job.fn)
	}
	job.done = make(chan error, 1)
	select {
	case s.writes <- job:
	case <-ctx.Done():
		s.writerMu.RUnlock()
		return ctx.Err()
	}
	s.writerMu.RUnlock()
	return <-job.done // once queued, a write is always answered
}

// writeAlone runs fn in a transaction of its own.
func (s *Store) writeAlone(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.transaction(ctx, fn); !retryable(err) {
			return err
		}
	}
	return err
}

// retryable says whether err is PostgreSQL aborting a transaction as a
// deadlock victim or a serialization failure: the same write may succeed
// when run again.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// writeJob is one write waiting for the SQLite writer.
type writeJob struct {
	ctx context.Context
	fn  func(tx *gorm.DB) error
	// addsOnly marks a write that neither renames nor removes a
	// connection (writeNew).
	addsOnly bool
	err      error
	done     chan error
}

// startWriter starts the SQLite writer goroutine; closing s.writes stops it.
func (s *Store) startWriter() {
	s.writes = make(chan *writeJob, maxGroupCommit)
	s.writerDone = make(chan struct{})
	go func() {
		defer close(s.writerDone)
		w := &writerConn{db: s.sqlDB}
		defer w.close()
		for job := range s.writes {
			start := time.Now()
			s.commit(w, gather(job, s.writes, maxGroupCommit))
			s.writerBusy.Add(int64(time.Since(start)))
		}
	}()
}

// gather returns first and what else is waiting on queue at this moment,
// up to max in all: a batch, without waiting for anything more.
func gather[T any](first T, queue <-chan T, max int) []T {
	batch := []T{first}
	for len(batch) < max {
		select {
		case next, ok := <-queue:
			if !ok {
				return batch
			}
			batch = append(batch, next)
		default:
			return batch
		}
	}
	return batch
}

// commit runs a batch of writes in one transaction, each in a savepoint,
// then writes what those that succeeded deferred (deferred).
// The statements run under a context of their own: a request whose client
// goes away must not interrupt the transaction the others share (SQLite
// rolls back a whole transaction whose statement is interrupted).
func (s *Store) commit(w *writerConn, batch []*writeJob) {
	later := &deferred{}
	err := s.transactionOn(withDeferred(context.Background(), later), w, func(tx *gorm.DB) error {
		for _, job := range batch {
			if err := job.ctx.Err(); err != nil {
				job.err = err
				continue
			}
			if !job.addsOnly {
				if err := s.flushIndex(tx, later); err != nil {
					return err
				}
			}
			// Savepoints follow one another (never nested): one name serves.
			const savepoint = "job"
			if err := tx.SavePoint(savepoint).Error; err != nil {
				return err
			}
			if job.err = runJob(tx, job.fn); job.err != nil {
				later.drop()
				if err := tx.RollbackTo(savepoint).Error; err != nil {
					return err
				}
			} else {
				later.keep()
			}
			if err := tx.Exec("RELEASE SAVEPOINT " + savepoint).Error; err != nil {
				return err
			}
		}
		return s.flush(tx, later)
	})
	s.groupCommits.Add(1)
	s.groupedWrites.Add(int64(len(batch)))
	for _, job := range batch {
		if err != nil && job.err == nil {
			job.err = fmt.Errorf("commit: %w", translate(err))
		}
		job.done <- job.err
	}
}

// runJob runs one write, turning a panic into its error.
func runJob(tx *gorm.DB, fn func(tx *gorm.DB) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return fn(tx)
}

// GroupCommits reports how many SQLite commits the writer has made and
// how many writes they carried; on PostgreSQL, how many batch statements
// of connection creates ran and how many creates they inserted.
func (s *Store) GroupCommits() (commits, writes int64) {
	return s.groupCommits.Load(), s.groupedWrites.Load()
}

// WriterBusy reports how long SQLite's writer has spent on its batches,
// from the first write taken to the last one answered (0 on PostgreSQL,
// which has no such writer). Every write waits for the writer: when this
// grows nearly as fast as the clock, writes queue behind it.
func (s *Store) WriterBusy() time.Duration {
	return time.Duration(s.writerBusy.Load())
}

// stopWriter lets the writer finish what is queued, then stops it.
func (s *Store) stopWriter() {
	s.writerMu.Lock()
	defer s.writerMu.Unlock()
	if s.writes != nil {
		close(s.writes)
		<-s.writerDone
		s.writes = nil
	}
}

// writerConn is the SQLite writer's own connection, taken from the pool at
// its first transaction and kept: SQLite empties a connection's page cache
// whenever it begins a transaction after another connection's commit, so a
// writer that took whichever pooled connection a reader had just used read
// every page it touched again.
type writerConn struct {
	db   *sql.DB
	conn *sql.Conn
}

// BeginTx begins a transaction on the writer's connection, taking one
// from the pool first when it has none (or the last one broke).
func (w *writerConn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	if w.conn == nil {
		conn, err := w.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		w.conn = conn
	}
	tx, err := w.conn.BeginTx(ctx, opts)
	if err != nil {
		w.close() // a connection that cannot begin is not kept
	}
	return tx, err
}

// close returns the connection to the pool.
func (w *writerConn) close() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
}
