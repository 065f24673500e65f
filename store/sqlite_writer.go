package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// maxGroupCommit bounds how many writes share one SQLite transaction.
const maxGroupCommit = 256

// sqliteWriter is SQLite's single writer: every write of the store waits
// for it, and it runs the writes waiting together in one transaction
// (group commit), each in a savepoint of its own so that one write's
// failure rolls back only that write, commits once, and only then answers
// each. With synchronous=FULL an fsync per commit is what bounds durable
// writes per second; shared, it is paid once per batch, and every
// acknowledged write is still on disk.
type sqliteWriter struct {
	s     *Store
	queue *batchQueue[writeJob, error]
	// conn is the connection the writer keeps for its transactions.
	conn writerConn
	// busy is how long, in nanoseconds, the writer has spent on batches.
	busy atomic.Int64
}

// startSQLiteWriter starts s's single writer.
func startSQLiteWriter(s *Store) *sqliteWriter {
	w := &sqliteWriter{s: s, conn: writerConn{db: s.sqlDB}}
	w.queue = newBatchQueue(maxGroupCommit, 1, w.commit)
	return w
}

// stop lets the writer finish what is queued, then releases its
// connection. Writes after it run alone.
func (w *sqliteWriter) stop() {
	w.queue.stop()
	w.conn.close()
}

// groupCommit is what the writes of one SQLite group commit leave to be
// written together, in its transaction, after them: their events, and the
// search index entries of the connections they insert. Written write by
// write, each event and its counts, and each entry (FTS5 writes its pending
// entries at every savepoint), cost the writer more than the rest of a
// create; together, a batch costs a few multi-row inserts of events, one
// upsert per count scope and one insert into the index
// (docs/BENCHMARKS.md).
//
// What is left stays in the transaction of the change: a write that fails
// leaves its share out, and a failure to write it fails the commit, so
// that no change commits without its event or its index entry.
type groupCommit struct {
	// events and indexed are the write under way's; keptEvents and
	// keptIndexed those of the batch's writes that succeeded.
	events, keptEvents   []*Event
	indexed, keptIndexed []searchEntry
	// lastConnectionID is the highest connection id inserted so far in
	// the batch's transaction (nextConnectionID).
	lastConnectionID int64
}

// keep adds the share of the write that just succeeded to the batch's.
func (g *groupCommit) keep() {
	g.keptEvents = append(g.keptEvents, g.events...)
	g.keptIndexed = append(g.keptIndexed, g.indexed...)
	g.drop()
}

// drop forgets the share of the write that just failed.
func (g *groupCommit) drop() {
	g.events, g.indexed = g.events[:0], g.indexed[:0]
}

// commit runs a batch of writes in one transaction, each in a savepoint,
// then writes what those that succeeded left to the end, and returns each
// write's error (the commit's, for those that had none). The statements
// run under a context of their own: a request whose client goes away must
// not interrupt the transaction the others share (SQLite rolls back a
// whole transaction whose statement is interrupted).
func (w *sqliteWriter) commit(batch []writeJob) ([]error, error) {
	start := time.Now()
	s, later := w.s, &groupCommit{}
	errs := make([]error, len(batch))
	err := s.transactionOn(context.Background(), &w.conn, func(db *gorm.DB) error {
		for i, job := range batch {
			if !job.leavesConnections {
				// An index entry carries the identifier as inserted: written
				// after a rename or a removal, it would outlive them.
				if err := w.flushIndex(db, later); err != nil {
					return err
				}
			}
			// Savepoints follow one another (never nested): one name serves.
			const savepoint = "job"
			if err := db.SavePoint(savepoint).Error; err != nil {
				return err
			}
			if errs[i] = runJob(&writeTx{db: db, s: s, audit: job.audit, later: later}, job.fn); errs[i] != nil {
				later.drop()
				if err := db.RollbackTo(savepoint).Error; err != nil {
					return afterFailedWrite(errs[i], err)
				}
			} else {
				later.keep()
			}
			if err := db.Exec("RELEASE SAVEPOINT " + savepoint).Error; err != nil {
				return afterFailedWrite(errs[i], err)
			}
		}
		if err := w.flushIndex(db, later); err != nil {
			return err
		}
		return s.writeEvents(&writeTx{db: db, s: s}, later.keptEvents)
	})
	s.stats.commits.Add(1)
	s.stats.writes.Add(int64(len(batch)))
	for i := range errs {
		if err != nil && errs[i] == nil {
			errs[i] = fmt.Errorf("commit: %w", translate(err))
		}
	}
	w.busy.Add(int64(time.Since(start)))
	return errs, nil
}

// afterFailedWrite is the error of a savepoint statement that failed
// after a write that failed with writeErr (nil: none). When writeErr says
// the database is unavailable, SQLite may have rolled back the whole
// transaction, savepoint included, and err is a consequence of it: the
// batch fails as ErrUnavailable, not as a missing savepoint.
func afterFailedWrite(writeErr, err error) error {
	if writeErr != nil && Unavailable(writeErr) {
		return fmt.Errorf("%w (%w): %w", ErrUnavailable, writeErr, err)
	}
	return err
}

// flushIndex writes the index entries the batch's writes kept so far.
func (w *sqliteWriter) flushIndex(db *gorm.DB, later *groupCommit) error {
	err := w.s.indexConnections(db, later.keptIndexed)
	later.keptIndexed = later.keptIndexed[:0]
	return err
}

// runJob runs one write, turning a panic into its error.
func runJob(tx *writeTx, fn func(tx *writeTx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return fn(tx)
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
