package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// row says how to find and read one row for a locked read-modify-write.
type row[T any] struct {
	// what names the row in errors ("connection 7").
	what string
	// find selects the row (in scope) in tx.
	find func(tx *gorm.DB) *gorm.DB
	// read reads it.
	read func(q *gorm.DB) (*T, error)
}

// auditedRow is a pointer to a model that events can describe.
type auditedRow[T any] interface {
	*T
	audited
}

// lockRow reads r inside tx, locking it on PostgreSQL with FOR UPDATE
// (SQLite's BEGIN IMMEDIATE already serialises writers).
func lockRow[T any](s *Store, tx *gorm.DB, r row[T]) (*T, error) {
	q := r.find(tx)
	if s.dialect == Postgres {
		var m T
		table := clause.Table{Name: tx.Statement.Table}
		if t, ok := any(&m).(interface{ TableName() string }); ok {
			table.Name = t.TableName()
		}
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Table: table})
	}
	v, err := r.read(q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.what, translate(err))
	}
	return v, nil
}

// updateLocked reads r inside a write transaction (locked), lets change
// modify it, writes it with save and records its model_updated event, so
// concurrent updates never lose one another and the event commits with
// the change. change must not query the database itself: lookups belong
// before the call, so that no request holds two pool connections at once.
// change may refuse (a precondition, a business rule): nothing is written
// then.
func updateLocked[T any, P auditedRow[T]](s *Store, ctx context.Context, r row[T], change func(*T) error,
	save func(tx *writeTx, v *T) error) (*T, error) {
	var v *T
	err := s.write(ctx, func(tx *writeTx) error {
		var err error
		if v, err = lockRow(s, tx.db, r); err != nil {
			return err
		}
		before := P(v).auditFields()
		if err := change(v); err != nil {
			return err
		}
		if err := save(tx, v); err != nil {
			return fmt.Errorf("update %s: %w", r.what, translate(err))
		}
		return tx.record(ActionModelUpdated, P(v), before)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// removeLocked reads r inside a write transaction (locked), lets check
// refuse, deletes it with del and records its model_deleted event. It
// returns ErrNotFound, check's error or del's.
func removeLocked[T any, P auditedRow[T]](s *Store, ctx context.Context, r row[T], check func(*T) error,
	del func(tx *writeTx, v *T) error) error {
	return s.write(ctx, func(tx *writeTx) error {
		v, err := lockRow(s, tx.db, r)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		if err := del(tx, v); err != nil {
			return fmt.Errorf("delete %s: %w", r.what, translate(err))
		}
		return tx.record(ActionModelDeleted, P(v), nil)
	})
}

// take reads one row with GORM.
func take[T any](q *gorm.DB) (*T, error) {
	var v T
	return &v, q.Take(&v).Error
}
