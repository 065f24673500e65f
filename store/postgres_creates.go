package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// On PostgreSQL, connection creates that arrive together share one
// statement, as SQLite's writes share one commit: most of what PostgreSQL
// does for a create alone (starting the statement, the counting triggers,
// the commit) costs the same whatever the number of rows
// (docs/BENCHMARKS.md).

// maxCreateBatch bounds how many creates share one statement.
const maxCreateBatch = 64

// errNotBatched says a create was not inserted by its batch's statement:
// it may break a unique rule or name a user or source that is gone, or
// the statement failed. It is then run alone, which reports exactly why.
var errNotBatched = errors.New("not inserted by the batch")

// postgresCreates is PostgreSQL's writer of connection creates: the queue
// that batches them and the block of connection ids reserved for them.
type postgresCreates struct {
	s     *Store
	queue *batchQueue[createJob, createResult]
	ids   idBlock
}

// createJob is one connection create: c with its id taken, sealed; e is
// its event (nil: none).
type createJob struct {
	c *Connection
	e *Event
}

// createResult is what a batch reports to each of its creates.
type createResult struct {
	version, sourceVersion int64
	err                    error
}

// createWorkers is the number of batches under way at once, so that one
// batch's round trips and commit overlap another's work: as many as the
// machine has CPUs, at least two.
func createWorkers() int { return max(2, runtime.GOMAXPROCS(0)) }

// startPostgresCreates starts s's create batcher.
func startPostgresCreates(s *Store) *postgresCreates {
	p := &postgresCreates{s: s}
	p.queue = newBatchQueue(maxCreateBatch, createWorkers(), p.insertBatch)
	return p
}

// insert inserts c (its id taken) and its event e (nil: none), in a batch
// or, when the batch did not insert it (or the store is closing), alone,
// which reports why; it returns the new row's version and its source's.
func (p *postgresCreates) insert(ctx context.Context, c *Connection, e *Event) (version, sourceVersion int64, err error) {
	r, err := p.queue.do(ctx, createJob{c: c, e: e})
	if err == nil {
		err = r.err
	}
	if errors.Is(err, errNotBatched) || errors.Is(err, errQueueStopped) {
		return p.insertAlone(ctx, c, e)
	}
	return r.version, r.sourceVersion, err
}

// insertBatch inserts a batch's connections and their events in one
// statement, in a transaction of its own: a connection the statement
// skipped (ON CONFLICT DO NOTHING, or a user or source it did not find),
// or every one when the statement fails, gets errNotBatched. The statement
// runs under a context of its own: a request whose client goes away must
// not fail the others' statement.
func (p *postgresCreates) insertBatch(batch []createJob) ([]createResult, error) {
	n := len(batch)
	ids, users := make([]int64, n), make([]int64, n)
	sources, identifiers := make([]string, n), make([]string, n)
	tokens, expires := make([]*string, n), make([]*time.Time, n)
	created, updated := make([]time.Time, n), make([]time.Time, n)
	var events []*Event
	var eventConnections []int64
	for i, job := range batch {
		c := job.c
		ids[i], users[i], sources[i], identifiers[i] = c.ID, c.UserID, c.SourceID, c.Identifier
		tokens[i], expires[i], created[i], updated[i] = c.AccessTokenSealed, c.Expires, c.Created, c.LastUpdated
		if job.e != nil {
			events, eventConnections = append(events, job.e), append(eventConnections, c.ID)
		}
	}
	query, args := insertConnectionsBatch, []any{ids, users, sources, identifiers, tokens, expires, created, updated}
	if len(events) > 0 {
		query = insertConnectionsBatchAudited
		args = append(append(args, eventConnections), eventArrays(events)...)
	}
	inserted, err := p.runBatch(query, args)
	p.s.stats.commits.Add(1)
	p.s.stats.writes.Add(int64(len(inserted))) // none when the statement failed
	switch {
	case err != nil && Unavailable(err):
		// Run alone, each create would meet the same outage again.
		return nil, classify(err)
	case err != nil:
		return nil, errNotBatched // nothing of the statement committed
	}
	out := make([]createResult, n)
	for i, job := range batch {
		r, ok := inserted[job.c.ID]
		if !ok {
			r = createResult{err: errNotBatched}
		}
		out[i] = r
	}
	return out, nil
}

// runBatch runs a batch statement and returns, by connection id, what it
// inserted.
func (p *postgresCreates) runBatch(query string, args []any) (map[int64]createResult, error) {
	rows, err := p.s.sqlDB.QueryContext(context.Background(), query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inserted := map[int64]createResult{}
	for rows.Next() {
		var id int64
		var r createResult
		var sourceVersion *int64
		if err := rows.Scan(&id, &r.version, &sourceVersion); err != nil {
			return nil, err
		}
		if sourceVersion != nil {
			r.sourceVersion = *sourceVersion
		}
		inserted[id] = r
	}
	// PostgreSQL reports a failed commit after the rows.
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return inserted, rows.Close()
}

// The batch statement: the creates travel as one array per column
// (unnest), so that a single prepared statement serves every batch size.
// A row whose user or source is missing is left out rather than failing
// the statement's foreign key (and with it the batch); the foreign key
// still guards against a row removed meanwhile.
var (
	insertConnectionsInput = "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], " +
		"$6::timestamptz[], $7::timestamptz[], $8::timestamptz[]) AS t (id, user_id, source_id, identifier, access_token, expires, created, last_updated)), " +
		"c AS (INSERT INTO connections (id, user_id, source_id, identifier, access_token, expires, created, last_updated) " +
		"SELECT * FROM input WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = input.user_id) " +
		"AND EXISTS (SELECT 1 FROM oauth_sources s WHERE s.id = input.source_id) " +
		"ON CONFLICT DO NOTHING RETURNING id, version, source_id)"
	insertConnectionsOutput = " SELECT c.id, c.version, src.version FROM c LEFT JOIN oauth_sources src ON src.id = c.source_id"

	insertConnectionsBatch = insertConnectionsInput + insertConnectionsOutput
	// insertConnectionsBatchAudited also inserts the events of the
	// connections it inserted ($9: the connection each event records).
	insertConnectionsBatchAudited = insertConnectionsInput + ", e AS (INSERT INTO events (" + eventColumnList + ") " +
		"SELECT " + eventColumnList + " FROM " + eventUnnest(10, "connection_id") + " " +
		"WHERE ev.connection_id IN (SELECT id FROM c))" + insertConnectionsOutput
)

// insertConnectionAlone is the statement of a create run alone: $1-$8 the
// connection, then, when audited, its event.
const insertConnectionAlone = "WITH c AS (INSERT INTO connections (id, user_id, source_id, identifier, access_token, expires, created, last_updated) " +
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING version, source_id)"

// insertAlone inserts c (its id taken) and its event e (nil: none) with
// one statement of their own, retried when PostgreSQL picks it as a
// deadlock victim, and returns the new row's version and its source's.
func (p *postgresCreates) insertAlone(ctx context.Context, c *Connection, e *Event) (version, sourceVersion int64, err error) {
	query := insertConnectionAlone
	args := []any{c.ID, c.UserID, c.SourceID, c.Identifier, c.AccessTokenSealed, c.Expires, c.Created, c.LastUpdated}
	if e != nil {
		query += ", e AS (" + eventValues(len(args)+1) + ")"
		args = append(args, eventArgs([]*Event{e})...)
	}
	// A LEFT JOIN: the statement reads the source as of its start, and a
	// source committed after that passes the foreign key's check (which
	// reads the latest rows) but not this join.
	query += " SELECT c.version, src.version FROM c LEFT JOIN oauth_sources src ON src.id = c.source_id"
	var sv sql.NullInt64
	for attempt := 0; attempt < 3; attempt++ {
		if err = p.s.queryRow(ctx, query, args, &version, &sv); !retryable(err) {
			break
		}
	}
	return version, sv.Int64, err
}

// stop lets the batcher finish what is queued, then stops it; creates
// after it run alone.
func (p *postgresCreates) stop() { p.queue.stop() }

// idBlockSize is how many connection ids a PostgreSQL store reserves from
// the sequence at once.
const idBlockSize = 32

// idBlock holds connection ids reserved from PostgreSQL's sequence and not
// yet given out. Reserving a block at a time spares a create the round
// trip of taking its id alone; ids stay unique (the sequence never gives a
// value twice) and ascend within one process, and those a process never
// uses are gaps, as a rolled-back insert leaves.
type idBlock struct {
	mu  sync.Mutex
	ids []int64
}

// querier runs a query: a transaction, a connection or the pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// reserve takes a connection id from the block, reserving a new block
// through q when it is empty.
func (b *idBlock) reserve(ctx context.Context, q querier) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ids) == 0 {
		rows, err := q.QueryContext(ctx, "SELECT nextval(pg_get_serial_sequence('connections', 'id')) FROM generate_series(1, $1) ORDER BY 1", idBlockSize)
		if err != nil {
			return 0, fmt.Errorf("reserve connection ids: %w", translate(err))
		}
		ids, err := scanIDs(rows)
		if err != nil {
			return 0, fmt.Errorf("reserve connection ids: %w", translate(err))
		}
		b.ids = ids
	}
	id := b.ids[0]
	b.ids = b.ids[1:]
	return id, nil
}

// scanIDs scans and closes rows of one integer column; no row is an error.
func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errors.New("no id returned")
	}
	return ids, nil
}
