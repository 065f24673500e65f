package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"gorm.io/gorm"
)

// The scopes of event_counts; the counting triggers (migrations 00008 and
// 00010) name them alike.
const (
	allEvents   = ""
	modelPrefix = "m:"
)

func actionScope(action string) string { return "a:" + action }
func userScope(pk int64) string        { return fmt.Sprintf("u:%d", pk) }
func modelScope(app, name string) string {
	return modelPrefix + app + "." + name
}

// tallyEvents adds events, just inserted in tx, to event_counts on SQLite:
// one to all (""), to their action's, to their user's and to their model's
// scope, as PostgreSQL's trigger does. On SQLite any trigger on events,
// even one that does nothing, makes each insert several times dearer
// (docs/BENCHMARKS.md), so migration 00011 dropped the insert trigger and
// the writer counts a group commit's events together here; removals are
// still counted by a trigger, on both backends.
func (s *Store) tallyEvents(tx *gorm.DB, events []*Event) error {
	if s.dialect != SQLite || len(events) == 0 {
		return nil
	}
	delta := map[string]int64{}
	for _, e := range events {
		delta[allEvents]++
		delta[actionScope(e.Action)]++
		if e.UserPK != nil {
			delta[userScope(*e.UserPK)]++
		}
		if e.ModelName != "" {
			delta[modelScope(e.ModelApp, e.ModelName)]++
		}
	}
	for _, scope := range slices.Sorted(maps.Keys(delta)) {
		if err := tx.Exec(eventCountUpsert, scope, delta[scope]).Error; err != nil {
			return err
		}
	}
	return nil
}

// eventCountUpsert adds to one scope's count: one statement, prepared once,
// whatever scopes a batch of events has.
const eventCountUpsert = "INSERT INTO event_counts (scope, shard, n) VALUES (?, 0, ?) ON CONFLICT (scope, shard) DO UPDATE SET n = n + excluded.n"

// RecountEvents counts every event again into event_counts: on SQLite,
// events written to the table other than by the store (a bulk load) are
// not counted until then. It returns the database's error, if any.
func (s *Store) RecountEvents(ctx context.Context) error {
	if err := s.db.WithContext(ctx).Transaction(s.recountEvents); err != nil {
		return fmt.Errorf("count events: %w", translate(err))
	}
	return nil
}

// recountEvents counts every event again into event_counts, in tx, on
// SQLite (PostgreSQL's trigger counts every insert).
func (s *Store) recountEvents(tx *gorm.DB) error {
	if s.dialect != SQLite {
		return nil
	}
	if err := tx.Exec("DELETE FROM event_counts").Error; err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO event_counts (scope, shard, n)
  SELECT '', 0, COUNT(*) FROM events
  UNION ALL SELECT 'a:' || action, 0, COUNT(*) FROM events GROUP BY action
  UNION ALL SELECT 'u:' || user_pk, 0, COUNT(*) FROM events WHERE user_pk IS NOT NULL GROUP BY user_pk
  UNION ALL SELECT 'm:' || model_app || '.' || model_name, 0, COUNT(*) FROM events WHERE model_name <> '' GROUP BY model_app, model_name`).Error
}
