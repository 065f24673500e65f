package e2e_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"akconn/store"
	"akconn/testenv"
)

const crashRounds = 4

// TestCrashSafety kills the server with SIGKILL in the middle of a write
// load, several times, on each backend. After every restart each
// connection acknowledged with 201 is present and intact, and every stored
// row is whole: it is one that a request sent, with all its fields.
func TestCrashSafety(t *testing.T) {
	for _, backend := range []string{store.SQLite, store.Postgres} {
		t.Run(backend, func(t *testing.T) {
			database := testenv.DatabaseURL(t, backend)
			p := start(t, database)
			// The connections are the crash user's: a connection's user is
			// the user who creates it.
			user, key := p.userWithKey("crash")
			p.kill()

			acked := map[string]float64{} // identifier → pk of every 201
			var mu sync.Mutex
			var seq atomic.Int64
			for round := 0; round < crashRounds; round++ {
				p = start(t, database)
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for w := 0; w < 16; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							select {
							case <-stop:
								return
							default:
							}
							id := fmt.Sprintf("crash-%d", seq.Add(1))
							// (user, source) is unique, so each connection gets a source
							// of its own, named like it.
							status, body := p.do("POST", "/sources/oauth/", map[string]any{
								"name": id, "slug": id, "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
							if status != http.StatusCreated {
								continue
							}
							status, body = p.doAs(key, "POST", "/sources/user_connections/oauth/", map[string]any{
								"source": body["pk"], "identifier": id, "access_token": "token-" + id})
							if status == http.StatusCreated {
								mu.Lock()
								acked[id] = body["pk"].(float64)
								mu.Unlock()
							}
						}
					}()
				}
				time.Sleep(time.Duration(300+100*round) * time.Millisecond)
				p.kill() // mid-load
				close(stop)
				wg.Wait()
			}

			p = start(t, database)
			defer p.kill()
			mu.Lock()
			defer mu.Unlock()
			if len(acked) < 20 {
				t.Fatalf("only %d writes acknowledged: the load did not run", len(acked))
			}
			for id, pk := range acked {
				got := p.must(http.StatusOK, "GET", fmt.Sprintf("/sources/user_connections/oauth/%d/", int64(pk)), nil)
				if !connectionIs(got, id, user) {
					t.Fatalf("acknowledged connection %s changed: %v", id, got)
				}
			}
			p.kill()
			checkStoredRowsWhole(t, database, len(acked))
		})
	}
}

// connectionIs reports whether conn, a connection as the current contract
// answers it, is identified as id, belongs to user and links to the source
// named like it (source is the source's pk, source_obj the source).
func connectionIs(conn map[string]any, id string, user any) bool {
	src, _ := conn["source_obj"].(map[string]any)
	return conn["identifier"] == id && conn["user"] == user && src != nil && src["slug"] == id && conn["source"] == src["pk"]
}

// checkStoredRowsWhole opens the database directly: every connection row
// must carry the identifier, source and token of one request.
func checkStoredRowsWhole(t *testing.T, database string, acked int) {
	t.Helper()
	st := openDirect(t, database)
	defer st.Close()
	var rows []struct {
		ID          int64
		Identifier  string
		AccessToken *string
		Slug        string
	}
	err := st.DB().Raw("SELECT c.id, c.identifier, c.access_token, s.slug FROM connections c JOIN oauth_sources s ON s.id = c.source_id").Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < acked {
		t.Fatalf("%d rows stored, %d acknowledged", len(rows), acked)
	}
	for _, r := range rows {
		token, err := st.AccessToken(&store.Connection{ID: r.ID, AccessTokenSealed: r.AccessToken})
		if err != nil || token == nil || *token != "token-"+r.Identifier || r.Slug != r.Identifier {
			t.Fatalf("half-written row: %+v", r)
		}
	}
	// Each stored connection has its one model_created event (written in
	// its transaction, on SQLite at the end of its group commit), and the
	// event counts hold every event.
	var created, orphans, stored, counted int64
	for q, dest := range map[string]*int64{
		"SELECT COUNT(*) FROM events WHERE action = 'model_created' AND model_name = 'useroauthsourceconnection'": &created,
		"SELECT COUNT(*) FROM connections c WHERE NOT EXISTS (SELECT 1 FROM events e " +
			"WHERE e.model_name = 'useroauthsourceconnection' AND e.model_pk = CAST(c.id AS TEXT))": &orphans,
		"SELECT COUNT(*) FROM events":                                   &stored,
		"SELECT COALESCE(SUM(n), 0) FROM event_counts WHERE scope = ''": &counted,
	} {
		if err := st.DB().Raw(q).Scan(dest).Error; err != nil {
			t.Fatal(err)
		}
	}
	if created != int64(len(rows)) || orphans != 0 || counted != stored {
		t.Fatalf("%d connections, %d model_created events of connections, %d connections without one; %d events, %d counted",
			len(rows), created, orphans, stored, counted)
	}
	if st.Dialect() == store.SQLite {
		var result string
		if err := st.DB().Raw("PRAGMA integrity_check").Scan(&result).Error; err != nil || result != "ok" {
			t.Fatalf("integrity_check: %q %v", result, err)
		}
		var indexed int64
		if err := st.DB().Exec("INSERT INTO connection_search (connection_search) VALUES ('integrity-check')").Error; err != nil {
			t.Fatalf("search index: %v", err)
		}
		if err := st.DB().Raw("SELECT COUNT(*) FROM connection_search").Scan(&indexed).Error; err != nil || indexed != int64(len(rows)) {
			t.Fatalf("%d search index entries (%v), %d connections", indexed, err, len(rows))
		}
	}
	t.Logf("%d rows stored, %d acknowledged, all whole, each with its event", len(rows), acked)
}

// checkSourcesWhole opens the database directly: it holds at least the
// acked sources, each with its model_created event.
func checkSourcesWhole(t *testing.T, database string, acked int) {
	t.Helper()
	st := openDirect(t, database)
	defer st.Close()
	var stored, orphans int64
	for q, dest := range map[string]*int64{
		"SELECT COUNT(*) FROM oauth_sources": &stored,
		"SELECT COUNT(*) FROM oauth_sources s WHERE NOT EXISTS (SELECT 1 FROM events e " +
			"WHERE e.model_name = 'oauthsource' AND e.action = 'model_created' AND e.model_pk = REPLACE(s.id, '-', ''))": &orphans,
	} {
		if err := st.DB().Raw(q).Scan(dest).Error; err != nil {
			t.Fatal(err)
		}
	}
	if stored < int64(acked) || orphans != 0 {
		t.Fatalf("%d sources stored, %d acknowledged, %d without their event", stored, acked, orphans)
	}
	t.Logf("%d sources stored, %d acknowledged, each with its event", stored, acked)
}

// openDirect opens the database a server served, as it is.
func openDirect(t *testing.T, database string) *store.Store {
	t.Helper()
	st, err := store.Open(database, store.Options{SkipMigrations: true, Keyring: testenv.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
