package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

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

// nextConnectionID takes, in tx, an id for a connection about to be
// inserted. On PostgreSQL it comes from the block of ids reserved from the
// id's sequence (a new block is reserved in tx, whose connection it
// already holds: never a wait on the pool). On SQLite it is the one
// AUTOINCREMENT would choose, which no other writer can take meanwhile (a
// write transaction holds the database's write lock from its start).
func (s *Store) nextConnectionID(tx *gorm.DB) (int64, error) {
	conn, ctx := tx.Statement.ConnPool, tx.Statement.Context
	if s.dialect != Postgres {
		// After a connection inserted earlier in the same group commit, the
		// next id is the one after it, without a query (each one cost the
		// writer a round through the driver for every create carrying an
		// access token); a row of that batch rolled back since leaves a
		// gap, as AUTOINCREMENT may.
		if d := deferredOf(tx); d != nil && d.lastConnectionID > 0 {
			return d.lastConnectionID + 1, nil
		}
		// Straight to the transaction's statement cache: GORM's Scan, by
		// reflection, costs the SQLite writer more than the query itself.
		var id int64
		err := conn.QueryRowContext(ctx, "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'connections'), 0), "+
			"COALESCE((SELECT MAX(id) FROM connections), 0)) + 1").Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("next connection id: %w", err)
		}
		return id, nil
	}
	return s.reserveConnectionID(ctx, conn)
}

// querier runs a query: a transaction, a connection or the pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// reserveConnectionID takes a connection id from PostgreSQL's block of
// reserved ids, reserving a new block through q when it is empty.
func (s *Store) reserveConnectionID(ctx context.Context, q querier) (int64, error) {
	b := &s.connectionIDs
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
