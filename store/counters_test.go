package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// A PostgreSQL database upgraded to the counters (migration 00004) had
// every connection counted in shard 0, and the counters of migrations
// 4-9 took a removal from the shard of the connection's id, which had no
// row: the count kept the removed connection. Migration 00010 counts the
// connections again, and its counters (one shard per database session)
// stay exact through creates, moves and deletes.
func TestCountersRecountedOnUpgrade(t *testing.T) {
	st := testenv.OpenStoreOn(t, store.Postgres)
	ctx := context.Background()
	db := st.DB()
	count := func(scope string) (counted, actual int64) {
		t.Helper()
		if err := db.Raw("SELECT COALESCE(SUM(n), 0) FROM connection_counts WHERE scope = ?", scope).Scan(&counted).Error; err != nil {
			t.Fatal(err)
		}
		q := db.Table("connections")
		if scope != "" {
			q = q.Where("source_id = ?", scope)
		}
		if err := q.Count(&actual).Error; err != nil {
			t.Fatal(err)
		}
		return counted, actual
	}
	a, b := newSource(t, st, "a"), newSource(t, st, "b")
	var conns []*store.Connection
	for i := 0; i < 40; i++ {
		u := newUser(t, st, fmt.Sprintf("user-%d", i))
		c := &store.Connection{UserID: u.ID, SourceID: a.ID, Identifier: fmt.Sprintf("ext-%d", i)}
		if err := st.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}

	// Back to migration 9, with the counters as migration 4 left an
	// upgraded database: all in shard 0.
	migrateDownTo(t, st, 9)
	if err := db.Exec("DELETE FROM connection_counts").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO connection_counts (scope, shard, n) SELECT '', 0, COUNT(*) FROM connections").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO connection_counts (scope, shard, n) SELECT source_id, 0, COUNT(*) FROM connections GROUP BY source_id").Error; err != nil {
		t.Fatal(err)
	}
	// A connection whose id's shard (id % 16) has no row now.
	var victim int64
	for _, c := range conns {
		if c.ID%16 != 0 {
			victim = c.ID
			break
		}
	}
	if err := db.Exec("DELETE FROM connections WHERE id = ?", victim).Error; err != nil {
		t.Fatal(err)
	}
	if counted, actual := count(""); counted != actual+1 {
		t.Fatalf("before the upgrade: counted %d, %d connections; want the removal lost", counted, actual)
	}

	if _, err := st.Migrate(ctx, store.MigrateUp); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"", a.ID, b.ID} {
		if counted, actual := count(scope); counted != actual {
			t.Fatalf("after the upgrade, scope %q: counted %d, %d connections", scope, counted, actual)
		}
	}
	// Deletes, moves and creates through several sessions keep them exact.
	for i, c := range conns {
		if c.ID == victim {
			continue
		}
		var err error
		switch i % 3 {
		case 0:
			err = st.DeleteConnection(ctx, store.Scope{All: true}, c.ID, nil)
		case 1:
			_, err = st.UpdateConnection(ctx, store.Scope{All: true}, c.ID, func(c *store.Connection) error { c.SourceID = b.ID; return nil })
		default:
			u := store.NewUser(fmt.Sprintf("late-%d", i), false)
			if err = st.CreateUser(ctx, u); err == nil {
				err = st.CreateConnection(ctx, &store.Connection{UserID: u.ID, SourceID: b.ID, Identifier: fmt.Sprintf("late-%d", i)})
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, scope := range []string{"", a.ID, b.ID} {
		if counted, actual := count(scope); counted != actual {
			t.Fatalf("scope %q: counted %d, %d connections", scope, counted, actual)
		}
	}
}

// migrateDownTo rolls st's schema back until version is the latest
// migration applied.
func migrateDownTo(t *testing.T, st *store.Store, version int) {
	t.Helper()
	for {
		status, err := st.Migrate(context.Background(), store.MigrateStatus)
		if err != nil {
			t.Fatal(err)
		}
		applied := 0
		for _, line := range status {
			if strings.Contains(line, "applied") {
				applied++
			}
		}
		if applied <= version {
			return
		}
		if _, err := st.Migrate(context.Background(), store.MigrateDown); err != nil {
			t.Fatal(err)
		}
	}
}

// Seeded events (loaded in bulk, around the per-insert counting) are
// counted: every count the event lists read from event_counts equals the
// rows, on both backends.
func TestSeededEventsCounted(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		if err := st.Seed(ctx, store.SeedOptions{Users: 7, Sources: 1, Connections: 7, Events: 300}); err != nil {
			t.Fatal(err)
		}
		var users []int64
		if err := st.DB().Table("users").Order("id").Pluck("id", &users).Error; err != nil {
			t.Fatal(err)
		}
		app, name := "authentik_sources_oauth", "useroauthsourceconnection"
		filters := map[string]store.EventFilter{
			"all":     {Scope: store.Scope{All: true}},
			"action":  {Scope: store.Scope{All: true}, Actions: []string{store.ActionModelUpdated}},
			"user":    {Scope: store.Scope{UserID: users[2]}},
			"model":   {Scope: store.Scope{All: true}, ModelApp: &app, ModelName: &name},
			"another": {Scope: store.Scope{All: true}, Actions: []string{"secret_view"}},
		}
		want := map[string]int64{"all": 300, "action": 100, "user": 43 /* events 2, 9, …, 296 */, "model": 300, "another": 0}
		for label, f := range filters {
			_, total, err := st.ListEvents(ctx, f, store.Page{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if total != want[label] {
				t.Errorf("%s: count %d, want %d", label, total, want[label])
			}
		}
	})
}
