package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"akconn/store"
	"akconn/testenv"
)

// createEvent stores an event made through the API at created, by user pk.
func createEvent(t *testing.T, st *store.Store, created time.Time, pk int64, action string) *store.Event {
	t.Helper()
	e := &store.Event{UUID: store.NewEventUUID(), Action: action, App: "authentik_core", Created: created,
		Expires: created.Add(time.Hour)}
	user := map[string]any{"pk": float64(pk), "username": fmt.Sprintf("user-%d", pk)}
	details := map[string]any{"model": map[string]any{"app": "authentik_core", "model_name": "user", "pk": pk, "name": "x"}}
	if err := st.CreateEvent(context.Background(), e, user, details, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// listed returns the uuids and created times of the events f selects, in
// the order ordering lists them.
func listed(t *testing.T, st *store.Store, f store.EventFilter) ([]string, []time.Time) {
	t.Helper()
	events, total, err := st.ListEvents(context.Background(), f, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if int(total) != len(events) {
		t.Fatalf("counted %d events, listed %d", total, len(events))
	}
	var ids []string
	var created []time.Time
	for _, e := range events {
		ids, created = append(ids, e.UUID), append(created, e.Created)
	}
	return ids, created
}

// TestEventsListedInCreatedOrder: lists order events by created (newest
// first by default), filtered or not, whatever order they were written
// in. On SQLite the lists walk the order of seq, so an event written with
// a created before the last one stored (a clock stepped back, another
// process's writer ahead) is moved just after it.
func TestEventsListedInCreatedOrder(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		t0 := time.Now().UTC().Truncate(time.Microsecond)
		first := createEvent(t, st, t0, 1, store.ActionModelCreated)
		back := createEvent(t, st, t0.Add(-time.Hour), 2, store.ActionModelUpdated)
		tie := createEvent(t, st, t0.Add(-time.Hour), 1, store.ActionModelUpdated)
		later := createEvent(t, st, t0.Add(time.Hour), 2, store.ActionModelDeleted)

		want := []string{later.UUID, tie.UUID, back.UUID, first.UUID} // as SQLite records them
		if backend == store.Postgres {
			want = []string{later.UUID, first.UUID}
			if tie.UUID > back.UUID { // same created: the uuid breaks the tie
				want = append(want, tie.UUID, back.UUID)
			} else {
				want = append(want, back.UUID, tie.UUID)
			}
		}
		ids, created := listed(t, st, store.EventFilter{Scope: store.Scope{All: true}})
		if !slices.Equal(ids, want) {
			t.Fatalf("newest first: %v, want %v", ids, want)
		}
		for i := 1; i < len(created); i++ {
			if created[i].After(created[i-1]) || backend == store.SQLite && !created[i].Before(created[i-1]) {
				t.Errorf("newest first, created %v after %v", created[i], created[i-1])
			}
		}
		if backend == store.SQLite {
			// Moved forward just past the event before each.
			if d := created[2].Sub(t0); d != time.Microsecond {
				t.Errorf("event written an hour back stored %v after the last one, want 1µs", d)
			}
			if d := created[1].Sub(created[2]); d != time.Microsecond {
				t.Errorf("tie stored %v after the event before it, want 1µs", d)
			}
			if !created[0].Equal(t0.Add(time.Hour)) {
				t.Errorf("event in order moved: %v, want %v", created[0], t0.Add(time.Hour))
			}
		}
		// Filtered, and oldest first, the same order.
		updated := []string{tie.UUID, back.UUID}
		if backend == store.Postgres {
			updated = want[2:]
		}
		if ids, _ := listed(t, st, store.EventFilter{Scope: store.Scope{All: true}, Actions: []string{store.ActionModelUpdated}}); !slices.Equal(ids, updated) {
			t.Errorf("model_updated newest first: %v, want %v", ids, updated)
		}
		ids, _ = listed(t, st, store.EventFilter{Scope: store.Scope{All: true}, Ordering: []string{"created"}})
		if slices.Reverse(ids); !slices.Equal(ids, want) {
			t.Errorf("oldest first, reversed: %v, want %v", ids, want)
		}
		own := []string{later.UUID, back.UUID}
		if ids, _ := listed(t, st, store.EventFilter{Scope: store.Scope{UserID: 2}}); !slices.Equal(ids, own) {
			t.Errorf("user 2's events: %v, want %v", ids, own)
		}
	})
}

// TestEventsRenumberedOnUpgrade: a SQLite database written before
// migration 00013 keyed its events on their uuid; the upgrade keeps every
// event, numbers them in created order whatever order they were written
// in, keeps their counts, and the removal trigger counts again after it.
func TestEventsRenumberedOnUpgrade(t *testing.T) {
	st := testenv.OpenStoreOn(t, store.SQLite)
	migrateDownTo(t, st, 12)
	db := st.DB()
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	var written []string
	for i, offset := range []int{3, 1, 4, 0, 2} { // written out of created order
		id := store.NewEventUUID()
		written = append(written, id)
		created := t0.Add(time.Duration(offset) * time.Minute)
		err := db.Exec(`INSERT INTO events (event_uuid, user_pk, username, "user", action, app, context, client_ip, created, expires, brand, `+
			`model_app, model_name, model_pk, authorized_app, brand_name) VALUES (?, 1, 'u', '{}', ?, 'authentik_core', '{}', NULL, ?, ?, '{}', `+
			`'authentik_core', 'user', ?, '', '')`, id, store.ActionModelCreated, created, created.Add(time.Hour), fmt.Sprint(i)).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecountEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background(), store.MigrateUp); err != nil {
		t.Fatal(err)
	}
	var bySeq []string
	if err := db.Raw("SELECT event_uuid FROM events ORDER BY seq").Scan(&bySeq).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{written[3], written[1], written[4], written[0], written[2]}
	if !slices.Equal(bySeq, want) {
		t.Fatalf("after the upgrade, by seq: %v, want (by created) %v", bySeq, want)
	}
	ids, _ := listed(t, st, store.EventFilter{Scope: store.Scope{All: true}})
	if slices.Reverse(ids); !slices.Equal(ids, want) {
		t.Errorf("listed newest first, reversed: %v, want %v", ids, want)
	}
	// The sweeper removes the two oldest; the trigger counts them out.
	if n, err := st.SweepEvents(context.Background(), t0.Add(time.Hour+time.Minute)); err != nil || n != 2 {
		t.Fatalf("swept %d, %v; want 2", n, err)
	}
	if ids, _ := listed(t, st, store.EventFilter{Scope: store.Scope{All: true}}); len(ids) != 3 {
		t.Errorf("after the sweep: %v listed and counted, want 3", ids)
	}
	// And the upgraded database records new events after the old ones.
	e := createEvent(t, st, t0, 1, store.ActionModelUpdated)
	if ids, created := listed(t, st, store.EventFilter{Scope: store.Scope{All: true}}); ids[0] != e.UUID || !created[0].After(created[1]) {
		t.Errorf("new event: listed %v (%v), want %s first", ids, created, e.UUID)
	}
}

// TestSeedRefusesOlderEvents: on SQLite, seeding events into a database
// holding newer ones would number them out of created order; the seed
// refuses before writing anything.
func TestSeedRefusesOlderEvents(t *testing.T) {
	st := testenv.OpenStoreOn(t, store.SQLite)
	ctx := context.Background()
	if err := st.Seed(ctx, store.SeedOptions{Users: 2, Sources: 1, Connections: 2, Events: 10}); err != nil {
		t.Fatal(err)
	}
	users := countOf(t, st, "users")
	err := st.Seed(ctx, store.SeedOptions{Prefix: "again", Users: 2, Sources: 1, Connections: 2, Events: 10})
	if err == nil {
		t.Fatal("seeded events older than those stored")
	}
	if got := countOf(t, st, "users"); got != users {
		t.Errorf("refused seed wrote %d users", got-users)
	}
	if err := st.Seed(ctx, store.SeedOptions{Prefix: "plain", Users: 2, Sources: 1, Connections: 2}); err != nil {
		t.Errorf("seed without events: %v", err)
	}
}

func countOf(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := st.DB().Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
