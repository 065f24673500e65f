package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// deferred holds what the writes of a SQLite group commit leave to be
// written together in its transaction, after them: their events, and the
// search index entries of the connections they insert. Per write, an
// event and its counts took 40 % of the writer's time per audited create
// (pprof of BenchmarkCreateConnection/plain), and the search entry more:
// FTS5 writes its pending entries to disk at every savepoint, and each
// write runs in one, so that a create's RELEASE SAVEPOINT alone took 20
// µs of the writer's 82 µs (without the entry, 52 µs). Together, a batch
// of creates costs a few multi-row inserts of events, one upsert per count
// scope and one insert into the index.
//
// What is deferred stays in the transaction of the change: a write that
// fails leaves its share out, and a failure to write it fails the commit,
// so that no change commits without its event or its index entry.
type deferred struct {
	// events and indexed are the write under way's; keptEvents and
	// keptIndexed those of the batch's writes that succeeded.
	events, keptEvents   []*Event
	indexed, keptIndexed []searchEntry
	// lastConnectionID is the highest connection id inserted so far in
	// the batch's transaction (nextConnectionID).
	lastConnectionID int64
}

// searchEntry is a connection's entry in the search index.
type searchEntry struct {
	id         int64
	identifier string
}

type deferredKey struct{}

// withDeferred returns ctx carrying d: the writes of a transaction under
// ctx leave their events and index entries to d.
func withDeferred(ctx context.Context, d *deferred) context.Context {
	return context.WithValue(ctx, deferredKey{}, d)
}

// deferredOf returns what tx's writes are deferred to, or nil when tx
// writes everything at once.
func deferredOf(tx *gorm.DB) *deferred {
	if tx.Statement == nil || tx.Statement.Context == nil {
		return nil
	}
	d, _ := tx.Statement.Context.Value(deferredKey{}).(*deferred)
	return d
}

// keep adds the share of the write that just succeeded to the batch's.
func (d *deferred) keep() {
	d.keptEvents = append(d.keptEvents, d.events...)
	d.keptIndexed = append(d.keptIndexed, d.indexed...)
	d.drop()
}

// drop forgets the share of the write that just failed.
func (d *deferred) drop() {
	d.events, d.indexed = d.events[:0], d.indexed[:0]
}

// flushIndex writes the index entries the batch's writes kept, in tx. It
// runs before any write that may rename or remove a connection (all but
// writeNew's): an entry carries the identifier as inserted, and written
// after a rename or a removal it would outlive them.
func (s *Store) flushIndex(tx *gorm.DB, d *deferred) error {
	err := s.indexConnections(tx, d.keptIndexed)
	d.keptIndexed = d.keptIndexed[:0]
	return err
}

// flush writes everything the batch's writes kept, in tx.
func (s *Store) flush(tx *gorm.DB, d *deferred) error {
	if err := s.flushIndex(tx, d); err != nil {
		return err
	}
	err := s.writeEvents(tx, d.keptEvents)
	d.keptEvents = d.keptEvents[:0]
	return err
}

// eventRows are the row counts one INSERT of events takes: a batch is
// written largest first, so that a handful of statement shapes, each
// prepared once, serve every batch size.
var eventRows = []int{32, 8, 2, 1}

// insertEvents writes events and counts them, or, inside a group commit,
// leaves them to it (deferred).
func (s *Store) insertEvents(tx *gorm.DB, events ...*Event) error {
	if d := deferredOf(tx); d != nil {
		d.events = append(d.events, events...)
		return nil
	}
	return s.writeEvents(tx, events)
}

// writeEvents inserts events with as few statements as eventRows allows,
// written once (no ORM reflection on the write path every audited change
// takes), and counts them.
func (s *Store) writeEvents(tx *gorm.DB, events []*Event) error {
	if len(events) == 0 {
		return nil
	}
	if s.dialect == SQLite {
		if err := sequenceEvents(tx, events); err != nil {
			return err
		}
	}
	rest := events
	for _, rows := range eventRows {
		for len(rest) >= rows {
			if err := tx.Exec(eventInsert(rows), eventArgs(rest[:rows])...).Error; err != nil {
				return err
			}
			rest = rest[rows:]
		}
	}
	return s.tallyEvents(tx, events)
}

// sequenceEvents makes each of events, about to be inserted on SQLite in
// this order, created after the last event stored and after the one before
// it, so that the order of seq (the rowid, which the lists order by) is the
// order of created (migration 00013). A clock that steps back, or another
// process's writer that is ahead, moves an event's created and expires
// forward by as much, and a tie by a microsecond.
func sequenceEvents(tx *gorm.DB, events []*Event) error {
	last, err := lastEventCreated(tx)
	if err != nil {
		return err
	}
	for _, e := range events {
		if last.Valid && !e.Created.After(last.Time) {
			shift := last.Time.Sub(e.Created) + time.Microsecond
			e.Created, e.Expires = e.Created.Add(shift), e.Expires.Add(shift)
		}
		last = sql.NullTime{Time: e.Created, Valid: true}
	}
	return nil
}

// lastEventCreated returns, on SQLite, when the last event stored (by seq)
// was created; not Valid when there is none.
func lastEventCreated(db *gorm.DB) (sql.NullTime, error) {
	var last sql.NullTime
	err := db.Raw("SELECT created FROM events ORDER BY seq DESC LIMIT 1").Row().Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return last, err
}

// eventInsert is the statement inserting rows events.
func eventInsert(rows int) string {
	row := valuesRow(eventArity)
	var sb strings.Builder
	sb.WriteString("INSERT INTO events (" + eventColumns + ") VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	return sb.String()
}

// eventArity is the number of eventColumns (and of eventArgs per event).
const eventArity = 16

// placeholders is PostgreSQL's "$first, …" for n parameters.
func placeholders(first, n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("$" + strconv.Itoa(first+i))
	}
	return sb.String()
}

// eventArgs are the arguments of eventInsert(len(events)).
func eventArgs(events []*Event) []any {
	args := make([]any, 0, eventArity*len(events))
	for _, e := range events {
		args = append(args, e.UUID, e.UserPK, e.Username, string(e.User), e.Action, e.App, string(e.Context), e.ClientIP,
			e.Created, e.Expires, string(e.Brand), e.ModelApp, e.ModelName, e.ModelPK, e.AuthorizedApp, e.BrandName)
	}
	return args
}

// indexConnection adds c, just inserted in tx, to SQLite's search index
// (connection_search), or, inside a group commit, leaves it to it
// (deferred). Every insert of connections must: the index has no insert
// trigger (prepareSearch).
func (s *Store) indexConnection(tx *gorm.DB, c *Connection) error {
	if s.dialect != SQLite || !s.fts {
		return nil
	}
	e := searchEntry{id: c.ID, identifier: c.Identifier}
	if d := deferredOf(tx); d != nil {
		d.indexed = append(d.indexed, e)
		return nil
	}
	return s.indexConnections(tx, []searchEntry{e})
}

// indexConnections adds entries to SQLite's search index with one
// statement, whatever their number. The entries travel as one JSON
// array: read back from the connections table by id instead, SQLite's
// planner scanned the table when its statistics were older than its rows
// (ANALYZE at 1 row, then 60,000 creates: 2 ms per batch, growing).
func (s *Store) indexConnections(tx *gorm.DB, entries []searchEntry) error {
	if s.dialect != SQLite || !s.fts || len(entries) == 0 {
		return nil
	}
	list := make([]byte, 0, 32*len(entries))
	list = append(list, '[')
	for i, e := range entries {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, '[')
		list = strconv.AppendInt(list, e.id, 10)
		list = append(list, ',')
		identifier, err := json.Marshal(e.identifier)
		if err != nil {
			return err
		}
		list = append(list, identifier...)
		list = append(list, ']')
	}
	list = append(list, ']')
	return tx.Exec("INSERT INTO connection_search (rowid, identifier) SELECT value ->> 0, value ->> 1 FROM json_each(?)", string(list)).Error
}
