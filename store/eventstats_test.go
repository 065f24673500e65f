package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"akconn/store"
	"akconn/testenv"
)

// putEvent stores an event of action created at created, by the user with
// pk (none when nil), with context details; events are put in created
// order (on SQLite an earlier one would be moved after the last).
func putEvent(t *testing.T, st *store.Store, created time.Time, action string, pk *int64, details map[string]any) *store.Event {
	t.Helper()
	e := &store.Event{UUID: store.NewEventUUID(), Action: action, App: "authentik_events", Created: created,
		Expires: created.Add(365 * 24 * time.Hour)}
	var user any
	if pk != nil {
		user = map[string]any{"pk": float64(*pk), "username": "u"}
	}
	if details == nil {
		details = map[string]any{}
	}
	if err := st.CreateEvent(context.Background(), e, user, details, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	return e
}

func pk(v int64) *int64 { return &v }

var all = store.Scope{All: true}

// TestEventVolumeBuckets: six-hour buckets starting at 00, 06, 12 and 18
// UTC (an event at 06:00:00 opens the 06:00 bucket, one a microsecond
// before closes the 00:00 one), a row per bucket and action with events,
// ordered by time then action, after the filter, over history_days days
// (the window's first instant included) capped at 90.
func TestEventVolumeBuckets(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		now := time.Date(2026, 4, 20, 13, 0, 0, 0, time.UTC)
		day := 24 * time.Hour
		put := func(at time.Time, action string) { putEvent(t, st, at, action, pk(1), nil) }
		put(now.Add(-91*day), "login")                   // past the 90-day cap
		put(now.Add(-89*day), "login")                   // 2026-01-21 13:00: bucket 12:00
		put(now.Add(-7*day-time.Second), "login")        // before a 7-day window
		put(now.Add(-7*day), "login")                    // a 7-day window's first instant: bucket 12:00
		put(now.Add(-7*time.Hour-time.Microsecond), "x") // 05:59:59.999999: bucket 00:00
		put(now.Add(-7*time.Hour), "login")              // 06:00: bucket 06:00
		put(now.Add(-7*time.Hour+time.Second/2), "logout")
		put(now.Add(-time.Hour-time.Second), "login") // 11:59:59: bucket 06:00
		put(now.Add(-time.Hour), "model_created")     // 12:00: bucket 12:00
		at := func(month time.Month, d, h int) time.Time { return time.Date(2026, month, d, h, 0, 0, 0, time.UTC) }
		week := []store.VolumeRow{
			{Time: at(4, 13, 12), Action: "login", Count: 1},
			{Time: at(4, 20, 0), Action: "x", Count: 1},
			{Time: at(4, 20, 6), Action: "login", Count: 2},
			{Time: at(4, 20, 6), Action: "logout", Count: 1},
			{Time: at(4, 20, 12), Action: "model_created", Count: 1},
		}
		check := func(what string, f store.EventFilter, days int, want []store.VolumeRow) {
			t.Helper()
			got, err := st.EventVolume(ctx, f, now, days)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, func(a, b store.VolumeRow) bool { return a == b }) {
				t.Errorf("%s:\n got %v\nwant %v", what, got, want)
			}
		}
		check("7 days", store.EventFilter{Scope: all}, 7, week)
		check("365 days (capped at 90)", store.EventFilter{Scope: all}, 365,
			append([]store.VolumeRow{{Time: at(1, 21, 12), Action: "login", Count: 1}, {Time: at(4, 13, 12), Action: "login", Count: 2}}, week[1:]...))
		check("login only", store.EventFilter{Scope: all, Actions: []string{"login"}}, 7,
			[]store.VolumeRow{week[0], {Time: at(4, 20, 6), Action: "login", Count: 2}})
		check("another user's scope", store.EventFilter{Scope: store.Scope{UserID: 2}}, 7, []store.VolumeRow{})
		check("a window after now", store.EventFilter{Scope: all}, -1, []store.VolumeRow{})
	})
}

// TestEventStats: only events of the last 60 days count (the first instant
// included), unique users among them without the events that have no
// user, and each step's count of those created since that long before
// now (its first instant included), after the filter.
func TestEventStats(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		now := time.Date(2026, 4, 20, 13, 0, 0, 0, time.UTC)
		day := 24 * time.Hour
		putEvent(t, st, now.Add(-61*day), "login", pk(1), nil) // past the 60 days
		putEvent(t, st, now.Add(-60*day), "login", pk(2), nil)
		putEvent(t, st, now.Add(-day-time.Second), "login", pk(3), nil)
		putEvent(t, st, now.Add(-day), "login", pk(4), nil)
		putEvent(t, st, now.Add(-day/2), "logout", pk(4), nil)
		putEvent(t, st, now.Add(-time.Hour), "login", nil, nil) // no user
		steps := []time.Duration{day, 7 * day, 240 * day, 60 * day, 59 * day, day, -time.Hour, 90 * day}
		check := func(what string, f store.EventFilter, steps []time.Duration, wantUsers int64, want []int64) {
			t.Helper()
			users, counts, err := st.EventStats(ctx, f, now, steps)
			if err != nil {
				t.Fatal(err)
			}
			if users != wantUsers || !slices.Equal(counts, want) {
				t.Errorf("%s: unique users %d, counts %v; want %d, %v", what, users, counts, wantUsers, want)
			}
		}
		check("all", store.EventFilter{Scope: all}, steps, 3, []int64{3, 4, 5, 5, 4, 3, 0, 5})
		check("login", store.EventFilter{Scope: all, Actions: []string{"login"}}, steps, 3, []int64{2, 3, 4, 4, 3, 2, 0, 4})
		check("user 4's scope", store.EventFilter{Scope: store.Scope{UserID: 4}}, steps[:2], 1, []int64{2, 2})
		check("no steps", store.EventFilter{Scope: all}, nil, 3, []int64{})
		many := make([]time.Duration, 450) // more steps than one statement counts
		want := make([]int64, len(many))
		for i := range many {
			many[i] = time.Duration(i) * time.Hour
			switch {
			case i >= 25:
				want[i] = 4
			case i >= 24:
				want[i] = 3
			case i >= 12:
				want[i] = 2
			case i >= 1:
				want[i] = 1
			}
		}
		check("450 steps", store.EventFilter{Scope: all}, many, 3, want)
	})
}
