package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// Write transactions run their statements through txPool, which reuses
// statements prepared once per connection. GORM's own statement cache
// prepares a statement first met inside a transaction on that transaction;
// database/sql cannot reuse such a statement in another transaction, so
// every later transaction prepared it again: a fifth of a create's time on
// SQLite (pprof), where preparing an INSERT also compiles its triggers,
// and a round trip per statement on PostgreSQL.

// maxWriteStatements bounds the statements txPool keeps prepared (writes
// have few shapes; any beyond are run unprepared).
const maxWriteStatements = 256

// stmtCache holds statements prepared on the pool, outside any
// transaction: database/sql's Tx.StmtContext then reuses, per connection,
// the copy prepared on that connection.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// get returns the statement for query, preparing it the first time; nil
// when the cache is full.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if strings.HasPrefix(query, "SAVEPOINT ") || strings.HasPrefix(query, "RELEASE ") || strings.HasPrefix(query, "ROLLBACK ") {
		return nil, nil // cheap, and SQLite runs them unprepared as well
	}
	c.mu.RLock()
	st := c.stmts[query]
	full := len(c.stmts) >= maxWriteStatements
	c.mu.RUnlock()
	if st != nil || full {
		return st, nil
	}
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if existing := c.stmts[query]; existing != nil {
		_ = st.Close()
		return existing, nil
	}
	c.stmts[query] = st
	return st, nil
}

// close closes every cached statement.
func (c *stmtCache) close() {
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
}

func (p *txPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.tx.PrepareContext(ctx, query)
}

func (p *txPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.tx.ExecContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

func (p *txPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.tx.QueryContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

func (p *txPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmts.get(ctx, query)
	if err != nil || st == nil {
		return p.tx.QueryRowContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// transaction runs fn in a transaction whose statements go through
// txPool, and commits it when fn succeeds (rolls it back otherwise). A
// panic in fn rolls back and panics on.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) (err error) {
	sqlTx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	tx := s.db.Session(&gorm.Session{NewDB: true, Context: ctx, SkipDefaultTransaction: true})
	tx.Statement.ConnPool = &txPool{tx: sqlTx, stmts: s.writeStmts}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	committed = true
	return nil
}
