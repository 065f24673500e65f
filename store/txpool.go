package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// Write transactions run their statements through txPool, which reuses
// statements prepared once per connection. GORM's own statement cache
// prepares a statement first met inside a transaction on that transaction;
// database/sql cannot reuse such a statement in another transaction, so
// every later transaction would prepare it again: on SQLite, where
// preparing an INSERT also compiles its triggers, that is a large share of
// a create, and on PostgreSQL a round trip per statement.

// maxWriteStatements bounds the statements txPool keeps prepared (writes
// have few shapes; any beyond are run unprepared).
const maxWriteStatements = 256

// stmtCache holds statements prepared on the pool, outside any
// transaction: database/sql's Tx.StmtContext then reuses, per connection,
// the copy prepared on that connection.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	// preparing marks the statements being prepared in the background;
	// inflight counts those preparations, which close waits for (one
	// holds a connection, whose closing removes SQLite's -wal and -shm
	// files: after Close returns, nothing may touch the database).
	preparing map[string]bool
	inflight  sync.WaitGroup
	closed    bool
}

// get returns the statement for query, or nil when it is not prepared
// (yet): the first use starts preparing it in the background, on a
// connection of the pool, and runs unprepared meanwhile. A transaction
// never waits for the pool: with every connection held by a transaction,
// that wait would never end.
func (c *stmtCache) get(query string) *sql.Stmt {
	if strings.HasPrefix(query, "SAVEPOINT ") || strings.HasPrefix(query, "RELEASE ") || strings.HasPrefix(query, "ROLLBACK ") {
		return nil // cheap, and SQLite runs them unprepared as well
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil || c.closed || c.preparing[query] || len(c.stmts)+len(c.preparing) >= maxWriteStatements {
		return st
	}
	c.preparing[query] = true
	c.inflight.Add(1)
	go c.prepare(query)
	return nil
}

// prepare prepares query on the pool and keeps it.
func (c *stmtCache) prepare(query string) {
	defer c.inflight.Done()
	st, err := c.db.Prepare(query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.preparing, query)
	switch {
	case err != nil:
	case c.closed:
		_ = st.Close()
	default:
		c.stmts[query] = st
	}
}

// close waits for the preparations under way, then closes every cached
// statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true // no preparation starts from now on
	c.mu.Unlock()
	c.inflight.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}

// txPool is the gorm.ConnPool of one write transaction.
type txPool struct {
	tx    *sql.Tx
	stmts *stmtCache
	// lost is the first error of a statement that found the database
	// unavailable. SQLite may then have rolled the whole transaction back
	// (on SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY), and what fails next, a
	// savepoint that is gone, is a consequence of it (failure).
	lost error
}

// noted notes err, when it says the database is unavailable, and
// returns it.
func (p *txPool) noted(err error) error {
	if err != nil && p.lost == nil && unavailable(err) {
		p.lost = err
	}
	return err
}

// failure is the error a transaction that failed with err reports:
// ErrUnavailable when err or an earlier statement of the transaction says
// the database is unavailable.
func (p *txPool) failure(err error) error {
	if err = classify(err); p.lost == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w (%w): %w", ErrUnavailable, p.lost, err)
}

func (p *txPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.tx.PrepareContext(ctx, query)
}

func (p *txPool) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if st := p.stmts.get(query); st == nil {
		res, err = p.tx.ExecContext(ctx, query, args...)
	} else {
		res, err = p.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return res, p.noted(err)
}

func (p *txPool) QueryContext(ctx context.Context, query string, args ...any) (rows *sql.Rows, err error) {
	if st := p.stmts.get(query); st == nil {
		rows, err = p.tx.QueryContext(ctx, query, args...)
	} else {
		rows, err = p.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return rows, p.noted(err)
}

func (p *txPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st := p.stmts.get(query)
	if st == nil {
		return p.tx.QueryRowContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// transaction runs fn in a transaction whose statements go through
// txPool, and commits it when fn succeeds (rolls it back otherwise). A
// panic in fn rolls back and panics on.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) (err error) {
	return s.transactionOn(ctx, s.sqlDB, fn)
}

// beginner starts transactions: the pool (*sql.DB), or one of its
// connections (writerConn).
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// transactionOn is transaction on the connections of b. It reports a
// database that was unavailable to the transaction as ErrUnavailable
// (txPool.failure), whatever statement found it so.
func (s *Store) transactionOn(ctx context.Context, b beginner, fn func(tx *gorm.DB) error) (err error) {
	sqlTx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", classify(err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	tx := s.db.Session(&gorm.Session{NewDB: true, Context: ctx, SkipDefaultTransaction: true})
	pool := &txPool{tx: sqlTx, stmts: s.writeStmts}
	tx.Statement.ConnPool = pool
	if err := fn(tx); err != nil {
		return pool.failure(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return pool.failure(err)
	}
	committed = true
	return nil
}
