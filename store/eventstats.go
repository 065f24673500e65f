package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The aggregates of authentik 2026.8's events API (volume, stats), over
// the events an EventFilter selects.

// Limits of the aggregates, authentik's: a volume or a count step looks
// back at most aggregateMaxAge (AGGR_MAX_AGE), and stats reads only the
// events of the last statsMaxAge.
const (
	aggregateMaxAge = 90 * 24 * time.Hour
	statsMaxAge     = 60 * 24 * time.Hour
	volumeBucket    = 6 * time.Hour
)

// indexedPK is a filter's value for a context pk (EventFilter.ContextDevice,
// the context's device.pk, or AuthorizedApp, its authorized_application.pk:
// a UUID with or without its dashes) as device_pk and authorized_app hold
// it (pkText): a string without its dashes.
func indexedPK(v *string) *string {
	if v == nil {
		return nil
	}
	pk := hexPK(*v)
	return &pk
}

// sqliteWholeSecond is created without its fraction of a second, its
// offset kept: SQLite reads a time to the millisecond, rounded, which
// would put 05:59:59.9999 in the 06:00 bucket.
const sqliteWholeSecond = "substr(created, 1, 19) || CASE WHEN length(created) > 19 AND substr(created, -6, 1) IN ('+', '-') " +
	"THEN substr(created, -6) ELSE '' END"

// VolumeRow is the number of events of one action created in one
// six-hour bucket, which starts at Time (00, 06, 12 or 18 UTC).
type VolumeRow struct {
	Time   time.Time
	Action string
	Count  int64
}

// EventVolume counts the events f selects created since historyDays days
// before now (at most 90 days; authentik's volume), per six-hour bucket
// and action. Only buckets with events have rows, ordered by time, then
// action.
func (s *Store) EventVolume(ctx context.Context, f EventFilter, now time.Time, historyDays int) ([]VolumeRow, error) {
	days := min(historyDays, int(aggregateMaxAge/(24*time.Hour)))
	// A window that starts after now (days < 0) holds only events dated
	// in the future; bounded so that the date stays one both backends
	// read.
	days = max(days, -36500)
	since := now.AddDate(0, 0, -days)
	bucket := "CAST(strftime('%s', " + sqliteWholeSecond + ") AS INTEGER) / ? * ?"
	if s.dialect == Postgres {
		bucket = "floor(extract(epoch from created) / ?)::bigint * ?"
	}
	width := int64(volumeBucket / time.Second)
	var rows []struct {
		Bucket int64
		Action string
		N      int64
	}
	q := s.filterEvents(s.db.WithContext(ctx).Model(&Event{}), f).Where("created >= ?", since.UTC()).
		Select(bucket+" AS bucket, action, COUNT(*) AS n", width, width).Group("bucket, action")
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("event volume: %w", translate(err))
	}
	out := make([]VolumeRow, len(rows))
	for i, r := range rows {
		out[i] = VolumeRow{Time: time.Unix(r.Bucket, 0).UTC(), Action: r.Action, Count: r.N}
	}
	// Sorted here rather than by the database, whose collation may order
	// actions otherwise (PostgreSQL's locale): by their bytes on both.
	slices.SortFunc(out, func(a, b VolumeRow) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Action, b.Action)
	})
	return out, nil
}

// statsColumns is how many counts one statement of EventStats computes:
// a request may name many steps, and both backends bound a statement's
// columns.
const statsColumns = 200

// EventStats reads, among the events f selects created in the 60 days
// before now (authentik's stats), the number of distinct users (events
// without a user not counted) and, for each of steps (each at most 90
// days), the number created since that long before now.
func (s *Store) EventStats(ctx context.Context, f EventFilter, now time.Time, steps []time.Duration) (int64, []int64, error) {
	// Each distinct step is counted once.
	var distinct []time.Duration
	index := make([]int, len(steps))
	at := map[time.Duration]int{}
	for i, step := range steps {
		step = min(step, aggregateMaxAge)
		j, ok := at[step]
		if !ok {
			j = len(distinct)
			at[step] = j
			distinct = append(distinct, step)
		}
		index[i] = j
	}
	var users int64
	counted := make([]int64, 0, len(distinct))
	for first := 0; first == 0 || first < len(distinct); first += statsColumns {
		chunk := distinct[first:min(first+statsColumns, len(distinct))]
		n, counts, err := s.eventStats(ctx, f, now, chunk)
		if err != nil {
			return 0, nil, fmt.Errorf("event stats: %w", translate(err))
		}
		users, counted = n, append(counted, counts...)
	}
	counts := make([]int64, len(steps))
	for i, j := range index {
		counts[i] = counted[j]
	}
	return users, counts, nil
}

// eventStats is one statement of EventStats, for steps.
func (s *Store) eventStats(ctx context.Context, f EventFilter, now time.Time, steps []time.Duration) (int64, []int64, error) {
	cols := []string{"COUNT(DISTINCT user_pk)"}
	var args []any
	for _, step := range steps {
		cols = append(cols, "COALESCE(SUM(CASE WHEN created >= ? THEN 1 ELSE 0 END), 0)")
		args = append(args, now.Add(-step).UTC())
	}
	q := s.filterEvents(s.db.WithContext(ctx).Model(&Event{}), f).Where("created >= ?", now.Add(-statsMaxAge).UTC()).
		Select(strings.Join(cols, ", "), args...)
	out := make([]int64, len(cols))
	dest := make([]any, len(cols))
	for i := range out {
		dest[i] = &out[i]
	}
	if err := q.Row().Scan(dest...); err != nil {
		return 0, nil, err
	}
	return out[0], out[1:], nil
}
