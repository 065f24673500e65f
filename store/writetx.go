package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// writeTx is one write in its transaction: every write closure takes it.
// It carries what the write needs beside the transaction's statements, so
// that nothing travels hidden in a context: the request's Audit its events
// record, and, inside a SQLite group commit, the work left to the end of
// the batch (later).
type writeTx struct {
	// db runs the transaction's statements.
	db *gorm.DB
	s  *Store
	// audit describes the request whose write this is; nil: the write
	// records no event.
	audit *Audit
	// later gathers the events and search index entries a SQLite group
	// commit writes after its writes (groupCommit); nil when the write
	// runs alone and writes them at once.
	later *groupCommit
}

// writeJob is one write: its closure, the request's Audit (nil: none),
// and whether it leaves stored connections as they are.
type writeJob struct {
	fn    func(tx *writeTx) error
	audit *Audit
	// leavesConnections marks a write that neither renames nor removes a
	// stored connection (writeLeavingConnections).
	leavesConnections bool
}

// write runs fn as one write transaction and returns fn's error (or the
// commit's). fn may change anything; it must not query the database
// outside tx, nor hold on to tx. The events fn records describe the
// request of ctx's Audit (WithAudit), read here, once.
//
// On SQLite every write goes to the single writer (sqliteWriter), which
// runs the writes waiting together in one transaction, each in a savepoint
// of its own, and answers each once they are committed. On PostgreSQL,
// which groups its own commits, fn runs in a transaction of its own,
// retried when PostgreSQL aborts it as a deadlock victim.
func (s *Store) write(ctx context.Context, fn func(tx *writeTx) error) error {
	return s.runWrite(ctx, writeJob{fn: fn, audit: auditOf(ctx)})
}

// writeLeavingConnections is write for an fn that neither renames nor
// removes a stored connection (it may insert new ones): a SQLite group
// commit need not write the search index entries it has deferred before
// it, since no entry can go stale.
func (s *Store) writeLeavingConnections(ctx context.Context, fn func(tx *writeTx) error) error {
	return s.runWrite(ctx, writeJob{fn: fn, audit: auditOf(ctx), leavesConnections: true})
}

// runWrite hands job to the SQLite writer, or runs it alone (PostgreSQL,
// or a store closing).
func (s *Store) runWrite(ctx context.Context, job writeJob) error {
	if s.sqlite != nil {
		err, qerr := s.sqlite.queue.do(ctx, job)
		switch {
		case qerr == nil:
			return err
		case !errors.Is(qerr, errQueueStopped):
			return qerr
		}
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.transaction(ctx, func(db *gorm.DB) error {
			return job.fn(&writeTx{db: db, s: s, audit: job.audit})
		})
		if !retryable(err) {
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

// record writes, in tx, the event of action on obj (for an update, with
// the diff from before, obj's auditFields as they were), if the write is
// audited.
func (tx *writeTx) record(action string, obj audited, before map[string]any) error {
	e := tx.s.eventOf(tx.audit, action, obj, before)
	if e == nil {
		return nil
	}
	if err := tx.insertEvents(e); err != nil {
		return fmt.Errorf("record %s event: %w", action, err)
	}
	return nil
}

// recordCascade writes, in tx, the model_deleted events of the rows the
// database removes with another (ON DELETE CASCADE), if the write is
// audited.
func (tx *writeTx) recordCascade(removed []audited) error {
	if tx.audit == nil || len(removed) == 0 {
		return nil
	}
	events := make([]*Event, len(removed))
	for i, obj := range removed {
		model := obj.modelRef()
		events[i] = tx.s.newEvent(tx.audit, ActionModelDeleted, model["app"].(string), map[string]any{"model": model})
	}
	if err := tx.insertEvents(events...); err != nil {
		return fmt.Errorf("record %s events: %w", ActionModelDeleted, err)
	}
	return nil
}

// insertEvents writes events and counts them, or, inside a group commit,
// leaves them to its end.
func (tx *writeTx) insertEvents(events ...*Event) error {
	if tx.later != nil {
		tx.later.events = append(tx.later.events, events...)
		return nil
	}
	return tx.s.writeEvents(tx, events)
}

// addConnection notes that c was just inserted in tx: it adds c to
// SQLite's search index (connection_search), or, inside a group commit,
// leaves that to its end, and remembers c's id for the next
// (nextConnectionID). Every insert of connections must call it: the index
// has no insert trigger (prepareSearch).
func (tx *writeTx) addConnection(c *Connection) error {
	if tx.later != nil {
		tx.later.lastConnectionID = max(tx.later.lastConnectionID, c.ID)
	}
	if tx.s.dialect != SQLite || !tx.s.search.fts {
		return nil
	}
	e := searchEntry{id: c.ID, identifier: c.Identifier}
	if tx.later != nil {
		tx.later.indexed = append(tx.later.indexed, e)
		return nil
	}
	return tx.s.indexConnections(tx.db, []searchEntry{e})
}

// nextConnectionID takes, in tx, an id for a SQLite connection about to
// be inserted: the one AUTOINCREMENT would choose, which no other writer
// can take meanwhile (a write transaction holds the database's write lock
// from its start). PostgreSQL's creates take theirs from the block of ids
// reserved from the sequence (idBlock).
func (tx *writeTx) nextConnectionID() (int64, error) {
	// After a connection inserted earlier in the same group commit, the
	// next id is the one after it, without a query on the writer; a row of
	// that batch rolled back since leaves a gap, as AUTOINCREMENT may.
	if tx.later != nil && tx.later.lastConnectionID > 0 {
		return tx.later.lastConnectionID + 1, nil
	}
	// A row, scanned by database/sql rather than by GORM's reflection.
	var id int64
	err := tx.db.Raw("SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'connections'), 0), " +
		"COALESCE((SELECT MAX(id) FROM connections), 0)) + 1").Row().Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("next connection id: %w", err)
	}
	return id, nil
}
