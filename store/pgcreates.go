package store

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// On PostgreSQL, connection creates that arrive together share one
// statement (createBatcher), as SQLite's share one commit (write). Most of
// what PostgreSQL does for a create alone is the same whatever the number
// of rows: starting the statement (perf of the backends under the bench's
// creates: hash lookups of relations and locks, memory contexts, index
// set-up for two tables with eighteen indexes, at the top of a flat
// profile), the counting triggers, the commit. pgbench, creates with their
// events: one per statement, 16 clients, 5,000/s; 16 per statement, 4
// clients, 15,800/s, and 22,000-24,000/s with the statement triggers of
// migration 00012. The bench's creates (64 clients): 2,500 -> 7,300-9,100
// per second.

// maxCreateBatch bounds how many creates share one statement.
const maxCreateBatch = 64

// errNotBatched says a create was not inserted by its batch's statement:
// it may break a unique rule or name a user or source that is gone, or
// the statement failed. It is then run alone, which reports exactly why.
var errNotBatched = errors.New("not inserted by the batch")

// createJob is one connection create waiting for a batch: c with its id
// taken, sealed; e is its event (nil: none).
type createJob struct {
	ctx  context.Context
	c    *Connection
	e    *Event
	done chan createResult
}

// createResult is what a batch reports to each of its creates.
type createResult struct {
	version, sourceVersion int64
	err                    error
}

// createBatcher runs PostgreSQL connection creates in batches: each of
// its workers takes the creates waiting when it is free, up to
// maxCreateBatch, and inserts them, with their events, in one statement.
// A create that finds a worker idle runs at once, alone in its batch.
type createBatcher struct {
	jobs chan *createJob
	mu   sync.RWMutex // held to send on jobs; closing it takes it exclusively
	wg   sync.WaitGroup
}

// createWorkers is the number of batches under way at once, so that one
// batch's round trips and commit overlap another's work: as many as the
// machine has CPUs, at least two (the bench's creates on 2 CPUs: 8,600-9,100
// per second with 2, 8,000-8,300 with 4).
func createWorkers() int { return max(2, runtime.GOMAXPROCS(0)) }

// startCreates starts the PostgreSQL create batcher.
func (s *Store) startCreates() {
	jobs := make(chan *createJob, maxCreateBatch)
	b := &createBatcher{jobs: jobs}
	for range createWorkers() {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for job := range jobs {
				s.insertBatch(gather(job, jobs, maxCreateBatch))
			}
		}()
	}
	s.creates = b
}

// stopCreates lets the batcher finish what is queued, then stops it.
func (s *Store) stopCreates() {
	b := s.creates
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.jobs != nil {
		close(b.jobs)
		b.jobs = nil
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// insertBatched inserts c (its id taken) and its event e (nil: none) in a
// batch, and returns the new row's version and its source's. It returns
// errNotBatched when the batch did not insert c, or the store is closing.
func (s *Store) insertBatched(ctx context.Context, c *Connection, e *Event) (version, sourceVersion int64, err error) {
	b := s.creates
	job := &createJob{ctx: ctx, c: c, e: e, done: make(chan createResult, 1)}
	b.mu.RLock()
	if b.jobs == nil {
		b.mu.RUnlock()
		return 0, 0, errNotBatched
	}
	select {
	case b.jobs <- job:
	case <-ctx.Done():
		b.mu.RUnlock()
		return 0, 0, ctx.Err()
	}
	b.mu.RUnlock()
	r := <-job.done // once queued, a create is always answered
	return r.version, r.sourceVersion, r.err
}

// insertBatch inserts a batch's connections and their events in one
// statement, in a transaction of its own, and answers each create: a
// connection the statement skipped (ON CONFLICT DO NOTHING, or a user or
// source it did not find), or every one when the statement fails, gets
// errNotBatched. The statement runs under a context of its own: a request
// whose client goes away must not fail the others' statement.
func (s *Store) insertBatch(batch []*createJob) {
	var (
		ids, users           []int64
		sources, identifiers []string
		tokens               []*string
		expires              []*time.Time
		created, updated     []time.Time
		events               []*Event
		eventConnections     []int64
		live                 []*createJob
	)
	for _, job := range batch {
		if err := job.ctx.Err(); err != nil {
			job.done <- createResult{err: err} // its client is gone: not started
			continue
		}
		c := job.c
		live = append(live, job)
		ids, users, sources, identifiers = append(ids, c.ID), append(users, c.UserID), append(sources, c.SourceID), append(identifiers, c.Identifier)
		tokens, expires = append(tokens, c.AccessTokenSealed), append(expires, c.Expires)
		created, updated = append(created, c.Created), append(updated, c.LastUpdated)
		if job.e != nil {
			events, eventConnections = append(events, job.e), append(eventConnections, c.ID)
		}
	}
	if len(live) == 0 {
		return
	}
	query, args := insertConnectionsBatch, []any{ids, users, sources, identifiers, tokens, expires, created, updated}
	if len(events) > 0 {
		query = insertConnectionsBatchAudited
		args = append(append(args, eventConnections), eventArrays(events)...)
	}
	inserted, err := s.runBatch(query, args)
	s.groupCommits.Add(1)
	s.groupedWrites.Add(int64(len(inserted))) // none when the statement failed
	for _, job := range live {
		r, ok := inserted[job.c.ID]
		if err != nil || !ok {
			r = createResult{err: errNotBatched} // on error, nothing of the statement committed
		}
		job.done <- r
	}
}

// runBatch runs a batch statement and returns, by connection id, what it
// inserted.
func (s *Store) runBatch(query string, args []any) (map[int64]createResult, error) {
	rows, err := s.sqlDB.QueryContext(context.Background(), query, args...)
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
const (
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
	insertConnectionsBatchAudited = insertConnectionsInput + ", e AS (INSERT INTO events (" + eventColumns + ") " +
		"SELECT " + eventColumns + " FROM unnest($9::bigint[], $10::text[], $11::bigint[], $12::text[], $13::text[], $14::text[], " +
		"$15::text[], $16::text[], $17::text[], $18::timestamptz[], $19::timestamptz[], $20::text[], $21::text[], $22::text[], " +
		"$23::text[], $24::text[], $25::text[]) AS ev (connection_id, " + eventColumns + ") " +
		"WHERE ev.connection_id IN (SELECT id FROM c))" + insertConnectionsOutput
)

// eventArrays are events as one array per event column, in eventColumns'
// order. The arrays are typed: pgx encodes a []any element by element
// through reflection, and boxing every value into one (eventArgs) was a
// seventh of the time to make and array an event (pprof of a
// micro-benchmark of the two).
func eventArrays(events []*Event) []any {
	n := len(events)
	uuids, usernames, users, actions, apps := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	contexts, brands, modelApps, modelNames, modelPKs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	authorizedApps, brandNames := make([]string, n), make([]string, n)
	userPKs, clientIPs := make([]*int64, n), make([]*string, n)
	created, expires := make([]time.Time, n), make([]time.Time, n)
	for i, e := range events {
		uuids[i], userPKs[i], usernames[i], users[i], actions[i], apps[i] = e.UUID, e.UserPK, e.Username, string(e.User), e.Action, e.App
		contexts[i], clientIPs[i], created[i], expires[i], brands[i] = string(e.Context), e.ClientIP, e.Created, e.Expires, string(e.Brand)
		modelApps[i], modelNames[i], modelPKs[i], authorizedApps[i], brandNames[i] = e.ModelApp, e.ModelName, e.ModelPK, e.AuthorizedApp, e.BrandName
	}
	return []any{uuids, userPKs, usernames, users, actions, apps, contexts, clientIPs, created, expires, brands,
		modelApps, modelNames, modelPKs, authorizedApps, brandNames}
}
