package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"akconn/seal"
)

// Errors about keys.
var (
	// ErrWrongKey means the database holds values sealed with a key the
	// store was not given (or was given wrongly): it refuses to start.
	ErrWrongKey = errors.New("wrong or missing secret key")
	// ErrKeyUnavailable means a value is sealed with a key this server
	// does not hold (yet): during a key rollout, a replica that has not
	// been given the new key cannot open what others sealed with it.
	ErrKeyUnavailable = errors.New("the key that sealed this value is not available")
)

// sealedColumn is a column that holds secrets, each sealed with the
// identity of its row (table, primary key, column) as associated data, so
// that a value copied to another row or column does not open.
type sealedColumn struct {
	table, column string
	// intID says whether the table's primary key (id) is an integer.
	intID bool
}

// sealedColumns are every column holding secrets.
var sealedColumns = []sealedColumn{
	{"connections", "access_token", true},
	{"oauth_sources", "consumer_secret", false},
	{"tokens", "key", false},
}

// id is a primary key read as text, typed as the column is.
func (c sealedColumn) id(text string) any {
	if c.intID {
		n, _ := strconv.ParseInt(text, 10, 64)
		return n
	}
	return text
}

func (c sealedColumn) ad(id string) seal.AssociatedData {
	return seal.AssociatedData{Table: c.table, Column: c.column, ID: id}
}

// seal seals plaintext for the column of the row with id.
func (s *Store) seal(c sealedColumn, id, plaintext string) (string, error) {
	sealed, err := s.keys.Seal(plaintext, c.ad(id))
	if err != nil {
		return "", fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
	}
	return sealed, nil
}

// open opens a value sealed in the column of the row with id. It returns
// ErrKeyUnavailable (wrapping the seal package's *UnknownKeyError, which
// names the key) when this server lacks the key that sealed it.
func (s *Store) open(c sealedColumn, id, sealed string) (string, error) {
	plain, err := s.keys.Open(sealed, c.ad(id))
	var unknown *seal.UnknownKeyError
	if errors.As(err, &unknown) {
		return "", fmt.Errorf("%w (key id %s): %w", ErrKeyUnavailable, unknown.KeyID, err)
	}
	if err != nil {
		return "", fmt.Errorf("open %s.%s of %s: %w", c.table, c.column, id, err)
	}
	return plain, nil
}

// checkKeys refuses keys that cannot open what the database holds: every
// key with a check value stored here must be among the store's keys and
// open its check value (ErrWrongKey, naming the key id). Then it records
// the check value of the key that seals new values, if it is not there
// yet, so that nothing is sealed under a key the database does not know.
func (s *Store) checkKeys(ctx context.Context) error {
	var stored []SecretKey
	if err := s.db.WithContext(ctx).Order("key_id").Find(&stored).Error; err != nil {
		return fmt.Errorf("read key check values: %w", err)
	}
	for _, k := range stored {
		if err := s.keys.Verify(k.KeyID, k.CheckValue); err != nil {
			return fmt.Errorf("%w: this database has values sealed with key %s, which the configured keys (%v) cannot open; "+
				"give the server that key (SECRET_KEY, or a line of the key file)", ErrWrongKey, k.KeyID, s.keys.KeyIDs())
		}
	}
	id, value := s.keys.CheckValue()
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&SecretKey{KeyID: id, CheckValue: value}).Error
	if err != nil {
		return fmt.Errorf("record key check value: %w", err)
	}
	return nil
}

// Progress receives how far a long job has come: done of total, of what
// ("connections", "tokens.key", ...).
type Progress func(what string, done, total int64)

// defaultResealBatch is how many rows one transaction of a re-seal reads
// and changes, unless told otherwise.
const defaultResealBatch = 500

// reseal walks every row of c with a value, in primary key order and in
// batches, and writes change's result for the values it changes (it
// returns ok false for a value to leave as it is). Each batch is one
// transaction whose updates apply only to values still as they were read,
// so that a concurrent write is never overwritten: it is written sealed
// already, and the next pass sees it. It returns how many values it
// changed.
func (s *Store) reseal(ctx context.Context, c sealedColumn, batch int, change func(id, value string) (string, bool, error), progress Progress) (int64, error) {
	if batch <= 0 {
		batch = defaultResealBatch
	}
	var total int64
	if err := s.db.WithContext(ctx).Table(c.table).Where(c.column + " IS NOT NULL").Count(&total).Error; err != nil {
		return 0, fmt.Errorf("count %s.%s: %w", c.table, c.column, err)
	}
	var done, changed int64
	var after any = ""
	if c.intID {
		after = int64(0)
	}
	for {
		var rows []struct {
			ID    string
			Value string
		}
		err := s.db.WithContext(ctx).Table(c.table).Select("id, "+c.column+" AS value").
			Where(c.column+" IS NOT NULL AND id > ?", after).Order("id").Limit(batch).Scan(&rows).Error
		if err != nil {
			return changed, fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
		}
		if len(rows) == 0 {
			return changed, nil
		}
		type update struct{ id, old, new string }
		var updates []update
		for _, r := range rows {
			v, ok, err := change(r.ID, r.Value)
			if err != nil {
				return changed, err
			}
			if ok {
				updates = append(updates, update{r.ID, r.Value, v})
			}
		}
		if len(updates) > 0 {
			err := s.write(ctx, func(tx *writeTx) error {
				for _, u := range updates {
					res := tx.db.Table(c.table).Where("id = ? AND "+c.column+" = ?", c.id(u.id), u.old).Update(c.column, u.new)
					if res.Error != nil {
						return res.Error
					}
					changed += res.RowsAffected
				}
				return nil
			})
			if err != nil {
				return changed, fmt.Errorf("write %s.%s: %w", c.table, c.column, err)
			}
		}
		done += int64(len(rows))
		after = c.id(rows[len(rows)-1].ID)
		if progress != nil {
			progress(c.table+"."+c.column, done, total)
		}
	}
}

// sealPlaintext seals, once, the plaintext secrets an earlier release
// stored (migration 00006 marks them as pending). A value that opens with
// the store's keys is sealed already; any other is plaintext. On SQLite
// the old plaintext is then wiped from the files: secure_delete zeroes
// what the updates free, and a checkpoint empties the write-ahead log.
func (s *Store) sealPlaintext(ctx context.Context, progress Progress) error {
	var state StoreState
	err := s.db.WithContext(ctx).Where("name = ?", "secrets").Take(&state).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && state.Value == "sealed") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read store state: %w", err)
	}
	for _, c := range sealedColumns {
		_, err := s.reseal(ctx, c, 0, func(id, value string) (string, bool, error) {
			if _, err := s.keys.Open(value, c.ad(id)); err == nil {
				return "", false, nil
			}
			sealed, err := s.seal(c, id, value)
			return sealed, err == nil, err
		}, progress)
		if err != nil {
			return err
		}
	}
	if err := s.db.WithContext(ctx).Model(&StoreState{}).Where("name = ?", "secrets").Update("value", "sealed").Error; err != nil {
		return fmt.Errorf("record sealed secrets: %w", err)
	}
	return s.wipeFreed(ctx)
}

// wipeFreed makes sure overwritten values are gone from SQLite's files:
// the freed space is zeroed already (secure_delete, set on every
// connection); the write-ahead log, which still holds the pages as they
// were, is checkpointed into the database and truncated.
func (s *Store) wipeFreed(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	if err := s.db.WithContext(ctx).Raw("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&struct{ Busy, Log, Checkpointed int }{}).Error; err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// SealingKeyID is the id of the key that seals new values.
func (s *Store) SealingKeyID() string { return s.keys.SealingKeyID() }

// RotateKeys re-seals, under the key that seals new values, every value
// sealed with another key, in batches, while servers keep serving. It is
// idempotent and can be run again after an interruption: it continues
// with what is left. batch is how many rows a transaction changes (0: a
// default). It returns how many values it re-sealed.
func (s *Store) RotateKeys(ctx context.Context, batch int, progress Progress) (int64, error) {
	sealing := s.keys.SealingKeyID()
	var total int64
	for _, c := range sealedColumns {
		n, err := s.reseal(ctx, c, batch, func(id, value string) (string, bool, error) {
			if kid, ok := seal.KeyID(value); ok && kid == sealing {
				return "", false, nil
			}
			plain, err := s.open(c, id, value)
			if err != nil {
				return "", false, err
			}
			sealed, err := s.seal(c, id, plain)
			return sealed, err == nil, err
		}, progress)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, s.wipeFreed(ctx)
}

// KeyUse is how many values of a sealed column one key seals ("" for
// values not sealed at all).
type KeyUse struct {
	Table, Column, KeyID string
	Values               int64
}

// KeyStatus counts, per sealed column and key id, the values each key
// seals, and lists the key ids with a check value (known to the
// database), so that an operator knows when an old key can go.
func (s *Store) KeyStatus(ctx context.Context) ([]KeyUse, []string, error) {
	var uses []KeyUse
	for _, c := range sealedColumns {
		var rows []struct {
			KeyID string
			N     int64
		}
		err := s.db.WithContext(ctx).Table(c.table).
			Select("CASE WHEN " + c.column + " LIKE 'v1:%' THEN substr(" + c.column + ", 4, 8) ELSE '' END AS key_id, COUNT(*) AS n").
			Where(c.column + " IS NOT NULL").Group("key_id").Scan(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("count %s.%s: %w", c.table, c.column, err)
		}
		for _, r := range rows {
			uses = append(uses, KeyUse{Table: c.table, Column: c.column, KeyID: r.KeyID, Values: r.N})
		}
	}
	sort.Slice(uses, func(i, j int) bool {
		a, b := uses[i], uses[j]
		return a.Table+a.Column+a.KeyID < b.Table+b.Column+b.KeyID
	})
	var known []string
	if err := s.db.WithContext(ctx).Model(&SecretKey{}).Order("key_id").Pluck("key_id", &known).Error; err != nil {
		return nil, nil, fmt.Errorf("read key ids: %w", err)
	}
	return uses, known, nil
}

// RetireKey forgets the check value of a key that seals nothing any more,
// so that servers start without it. It refuses the key that seals new
// values and a key that still seals a value.
func (s *Store) RetireKey(ctx context.Context, keyID string) error {
	if keyID == s.keys.SealingKeyID() {
		return fmt.Errorf("key %s seals new values: make another key the first line first", keyID)
	}
	uses, _, err := s.KeyStatus(ctx)
	if err != nil {
		return err
	}
	for _, u := range uses {
		if u.KeyID == keyID && u.Values > 0 {
			return fmt.Errorf("key %s still seals %d values of %s.%s: run `akconn keys rotate` first", keyID, u.Values, u.Table, u.Column)
		}
	}
	res := s.db.WithContext(ctx).Where("key_id = ?", keyID).Delete(&SecretKey{})
	if res.Error != nil {
		return fmt.Errorf("retire key %s: %w", keyID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("retire key %s: %w", keyID, ErrNotFound)
	}
	return nil
}

// Compact rewrites the tables holding secrets so that no overwritten value
// survives in free space: VACUUM FULL on PostgreSQL (which keeps dead
// tuples in its files until then; it locks the tables while it runs),
// VACUUM and a checkpoint on SQLite.
func (s *Store) Compact(ctx context.Context) error {
	stmt := "VACUUM"
	if s.dialect == Postgres {
		stmt = "VACUUM FULL connections, oauth_sources, tokens"
	}
	if err := s.db.WithContext(ctx).Exec(stmt).Error; err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return s.wipeFreed(ctx)
}
