package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// searchIndexIntact fails t unless SQLite's search index agrees with
// itself (FTS5's integrity-check) and holds one entry for each connection
// and no other; elsewhere it checks nothing.
func searchIndexIntact(t *testing.T, st *store.Store, backend string) {
	t.Helper()
	if backend != store.SQLite || !ftsBuild {
		return
	}
	if err := st.DB().Exec("INSERT INTO connection_search (connection_search) VALUES ('integrity-check')").Error; err != nil {
		t.Fatalf("search index: %v", err)
	}
	var indexed, stored []int64
	if err := st.DB().Raw("SELECT rowid FROM connection_search ORDER BY rowid").Scan(&indexed).Error; err != nil {
		t.Fatal(err)
	}
	if err := st.DB().Raw("SELECT id FROM connections ORDER BY id").Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(indexed, stored) {
		t.Errorf("the search index has entries for %v; the connections are %v", indexed, stored)
	}
}

// searchMatchesScan fails t unless searching each term finds exactly the
// stored connections whose identifier contains it.
func searchMatchesScan(t *testing.T, st *store.Store, terms ...string) {
	t.Helper()
	ctx := context.Background()
	var all []store.Connection
	if err := st.DB().Order("id").Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	for _, term := range terms {
		var want []int64
		for _, c := range all {
			if strings.Contains(strings.ToLower(c.Identifier), strings.ToLower(term)) {
				want = append(want, c.ID)
			}
		}
		rows, total, err := st.ListConnections(ctx, store.ConnectionFilter{Scope: store.Scope{All: true}, Search: term}, store.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rows {
			got = append(got, r.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) || total != int64(len(want)) {
			t.Errorf("search %q: %v (count %d), want %v", term, got, total, want)
		}
	}
}

// Creates that share group commits with failing creates, identifier
// changes and removals of connections created in the same batch: the
// search index stays whole and exact, and exactly the writes that
// succeeded have their event, counted.
func TestSearchIndexAndEventsThroughMixedBatches(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		pk := int64(1)
		ctx := store.WithAudit(context.Background(), &store.Audit{User: map[string]any{"pk": 1, "username": "t"}, UserPK: &pk, Username: "t"})
		src := newSource(t, st, "src")
		const n = 96
		users := make([]*store.User, n)
		for i := range users {
			users[i] = newUser(t, st, fmt.Sprintf("user-%d", i))
		}
		var mu sync.Mutex
		created := map[int64]bool{}
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(3)
			go func() { // every third identifier is taken twice: one of the two fails
				defer wg.Done()
				c := &store.Connection{UserID: users[i].ID, SourceID: src.ID, Identifier: fmt.Sprintf("Ext-%d", i-i%3)}
				err := st.CreateConnection(ctx, c)
				var conflict *store.ConflictError
				switch {
				case err == nil:
					mu.Lock()
					created[c.ID] = true
					mu.Unlock()
				case !errors.As(err, &conflict):
					t.Errorf("create %d: %v", i, err)
				}
			}()
			go func() { // the connections made so far, by id: some in this very batch
				defer wg.Done()
				id := int64(1 + i/2)
				_, err := st.UpdateConnection(ctx, store.Scope{All: true}, id, func(c *store.Connection) error {
					c.Identifier = fmt.Sprintf("renamed-%d", id)
					return nil
				})
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("update %d: %v", id, err)
				}
			}()
			go func() {
				defer wg.Done()
				if i%4 != 0 {
					return
				}
				id := int64(1 + i/3)
				if err := st.DeleteConnection(ctx, store.Scope{All: true}, id, nil); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("delete %d: %v", id, err)
				}
			}()
		}
		wg.Wait()
		searchIndexIntact(t, st, backend)
		searchMatchesScan(t, st, "ext-", "EXT-3", "renamed", "med-1", "ext-9")

		var events int64
		if err := st.DB().Table("events").Where("action = ? AND model_name = ?", store.ActionModelCreated, "useroauthsourceconnection").
			Count(&events).Error; err != nil {
			t.Fatal(err)
		}
		if events != int64(len(created)) {
			t.Errorf("%d model_created events of connections, %d connections created", events, len(created))
		}
		var stored int64
		if err := st.DB().Table("events").Count(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if _, total, err := st.ListEvents(context.Background(), store.EventFilter{Scope: store.Scope{All: true}}, store.Page{Limit: 1}); err != nil || total != stored {
			t.Errorf("events counted %d (%v), stored %d", total, err, stored)
		}
	})
}

// A connection written around the store (by hand) is not in the search
// index; removing or renaming it afterwards leaves the index whole, and
// the store's writes go on.
func TestSearchIndexToleratesRowsWrittenAroundIt(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		src := newSource(t, st, "src")
		var users []*store.User
		for i := 0; i < 3; i++ {
			u := newUser(t, st, fmt.Sprintf("user-%d", i))
			users = append(users, u)
		}
		if err := st.DB().Exec("INSERT INTO connections (user_id, source_id, identifier, created, last_updated) VALUES (?, ?, 'by-hand-1', ?, ?), (?, ?, 'by-hand-2', ?, ?)",
			users[0].ID, src.ID, "2026-01-01 00:00:00", "2026-01-01 00:00:00", users[1].ID, src.ID, "2026-01-01 00:00:00", "2026-01-01 00:00:00").Error; err != nil {
			t.Fatal(err)
		}
		var ids []int64
		if err := st.DB().Table("connections").Order("id").Pluck("id", &ids).Error; err != nil || len(ids) != 2 {
			t.Fatalf("%v %v", ids, err)
		}
		if _, err := st.UpdateConnection(ctx, store.Scope{All: true}, ids[0], func(c *store.Connection) error {
			c.Identifier = "renamed-by-store"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteConnection(ctx, store.Scope{All: true}, ids[1], nil); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateConnection(ctx, &store.Connection{UserID: users[2].ID, SourceID: src.ID, Identifier: "by-store"}); err != nil {
			t.Fatal(err)
		}
		searchIndexIntact(t, st, backend)
		searchMatchesScan(t, st, "by-store", "renamed", "by-hand")
	})
}

// A database whose search index is an earlier release's (external
// content, kept by three triggers) gets the current index at start,
// rebuilt from its connections, and the insert trigger is gone.
func TestSearchIndexUpgradedFromEarlierRelease(t *testing.T) {
	if !ftsBuild {
		t.Skip("SQLite without FTS5 (build tag sqlite_fts5) has no search index")
	}
	url := testenv.DatabaseURL(t, store.SQLite)
	st, err := store.Open(url, store.Options{Keyring: testenv.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := newSource(t, st, "src")
	for i := 0; i < 5; i++ {
		u := newUser(t, st, fmt.Sprintf("user-%d", i))
		if err := st.CreateConnection(ctx, &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: fmt.Sprintf("old-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{
		"DROP TRIGGER connection_search_delete", "DROP TRIGGER connection_search_update", "DROP TABLE connection_search",
		`CREATE VIRTUAL TABLE connection_search USING fts5(identifier, content='connections', content_rowid='id', tokenize='trigram case_sensitive 0')`,
		`INSERT INTO connection_search (connection_search) VALUES ('rebuild')`,
		`CREATE TRIGGER connection_search_insert AFTER INSERT ON connections BEGIN
			INSERT INTO connection_search (rowid, identifier) VALUES (NEW.id, NEW.identifier); END`,
		`CREATE TRIGGER connection_search_delete AFTER DELETE ON connections BEGIN
			INSERT INTO connection_search (connection_search, rowid, identifier) VALUES ('delete', OLD.id, OLD.identifier); END`,
		`CREATE TRIGGER connection_search_update AFTER UPDATE OF identifier ON connections BEGIN
			INSERT INTO connection_search (connection_search, rowid, identifier) VALUES ('delete', OLD.id, OLD.identifier);
			INSERT INTO connection_search (rowid, identifier) VALUES (NEW.id, NEW.identifier); END`,
	} {
		if err := st.DB().Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = store.Open(url, store.Options{Keyring: testenv.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var table string
	if err := st.DB().Raw("SELECT sql FROM sqlite_master WHERE name = 'connection_search'").Scan(&table).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "contentless_delete=1") {
		t.Errorf("search index not upgraded: %s", table)
	}
	var triggers []string
	if err := st.DB().Raw("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'connection_search%' ORDER BY name").Scan(&triggers).Error; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(triggers) != "[connection_search_delete connection_search_update]" {
		t.Errorf("search triggers %v", triggers)
	}
	u := newUser(t, st, "user-new")
	if err := st.CreateConnection(ctx, &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: "old-new"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteConnection(ctx, store.Scope{All: true}, 2, nil); err != nil {
		t.Fatal(err)
	}
	searchIndexIntact(t, st, store.SQLite)
	searchMatchesScan(t, st, "old-", "old-3", "-new")
}

// Searches whose terms hold a word every identifier has: on PostgreSQL the
// trigram index looks up only the rare part (rarePart, with a sample of
// the identifiers), and the whole term is checked, so the results are the
// scan's.
func TestSearchWithCommonWords(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		src := newSource(t, st, "src")
		for i := 0; i < 400; i++ {
			u := newUser(t, st, fmt.Sprintf("user-%d", i))
			id := fmt.Sprintf("Seed-Ext-%d", i)
			if i%50 == 7 {
				id = fmt.Sprintf("other-%d-ext", i)
			}
			if err := st.CreateConnection(ctx, &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: id}); err != nil {
				t.Fatal(err)
			}
		}
		searchMatchesScan(t, st, "ext-123", "EXT-12", "seed-ext-39", "ext-1_", "t-10", "-257-ext", "257-ext", "other-",
			"ext-%", "xt-3", "ext-399", "ext-400", "seed-ext-107", "ext-257")
	})
}
