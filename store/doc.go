// Package store keeps users, API tokens, OAuth sources, their user
// connections and the audit trail (events) in a SQL database: SQLite by
// default, PostgreSQL at scale, behind one Open (store.go) with a single
// switch on the dialect. Its methods return the sentinel errors of
// errors.go (ErrNotFound, ErrConflict as *ConflictError, ErrReference,
// ErrUnavailable when the database is away), wrapped with %w; the server
// turns them into HTTP in one place.
//
// # The life of a write
//
// Every write runs as a closure that takes a *writeTx (writetx.go): the
// transaction's statements (tx.db), the request's Audit its events record
// (tx.audit, read once from the request's context, WithAudit), and, on
// SQLite, the work left to the end of a group commit (tx.later). A
// connection create, CreateConnection in connections.go, on SQLite:
//
//  1. the handler calls CreateConnection(ctx, c); before the write is
//     queued, a prepared read of the source's version checks the cached
//     source, which is read again only when it changed (sourceForCreate);
//  2. writeLeavingConnections queues a writeJob on the single writer's
//     batchQueue (sqlite_writer.go, queue.go) and waits for its answer;
//  3. the writer gathers the jobs waiting and commits them in one
//     transaction (sqliteWriter.commit), each job in a savepoint; before a
//     job that may rename or remove a connection (write, not
//     writeLeavingConnections) it writes the index entries kept so far;
//  4. the job takes its id (tx.nextConnectionID) when it seals an access
//     token to it, inserts the row (insertConnection), leaves its search
//     index entry to the end (tx.addConnection) and its event too
//     (tx.record, tx.insertEvents);
//  5. after the last job, the writer writes the index entries and events
//     of the jobs that succeeded (indexConnections, writeEvents), commits
//     once, and answers each job.
//
// On PostgreSQL (createConnectionPostgres): the id comes from a block
// reserved from the sequence (idBlock), the event is made in the request's
// goroutine (eventOf), and the create joins a batch on postgresCreates'
// queue (postgres_creates.go), whose one statement inserts every
// connection of the batch with its event; a create the statement skipped
// runs again alone (insertAlone), which reports exactly why. Every other
// write runs alone, in a transaction of its own (runWrite), retried when
// PostgreSQL picks it as a deadlock victim.
//
// # GORM and raw SQL
//
// Reads and writes that are not on a hot path use GORM: lists with their
// filters (typed filter structs: ConnectionFilter, EventFilter, …), users,
// tokens and sources, locked updates (locked.go). The hot paths are SQL
// written once and prepared once, because GORM's statement building and
// reflection would be a large share of their cost: the connection point
// read (byIDStatements), the connection insert on both backends, event
// inserts (built from the one table of event columns, eventColumns in
// events_write.go), event counts (eventcounts.go) and the search index.
// Write transactions prepare their statements once per connection
// (txPool, txpool.go). Measurements are in docs/BENCHMARKS.md.
//
// # Adding an audited resource
//
//  1. Model: a GORM model in models.go, with a TableName, and the
//     migrations of both backends (migrations/sqlite, migrations/postgres);
//     TestMigratedSchemaMatchesModels checks they agree.
//  2. Events: implement audited (audit.go): modelRef (authentik's
//     app, model_name, pk, name), auditFields (the API fields an update is
//     diffed on, secrets left out) and secretsChanged.
//  3. Create: s.writeLeavingConnections(ctx, func(tx *writeTx) error {
//     insert with tx.db; return tx.record(ActionModelCreated, v, nil) }).
//  4. Update and delete: updateLocked and removeLocked with a row[T]
//     (locked.go): they lock the row, let the caller's rule refuse, save
//     or delete, and record model_updated (with the diff) or
//     model_deleted. Rows the database removes with it (ON DELETE CASCADE)
//     get their events from tx.recordCascade before the delete.
//  5. Errors: name each unique index as a UniqueRule in errors.go, so that
//     a conflict becomes a *ConflictError the server can word.
//  6. Secrets: seal them (secrets.go: sealedColumns) and keep them out of
//     auditFields; secretsChanged reports a change without its value.
//  7. Tests: through the server, on both backends (testenv), asserting the
//     answer, the row and its event.
package store
