package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// creates runs one CreateConnection per connection, all at once, each
// under its context, and returns their errors.
func creates(st *store.Store, ctxs []context.Context, conns []*store.Connection) []error {
	errs := make([]error, len(conns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = st.CreateConnection(ctxs[i], conns[i])
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// countsExact checks that every connection and event count the lists
// read from the counters equals the rows.
func countsExact(t *testing.T, st *store.Store) {
	t.Helper()
	db := st.DB()
	for _, q := range []struct{ counted, actual string }{
		{"SELECT COALESCE(SUM(n), 0) FROM connection_counts WHERE scope = ''", "SELECT COUNT(*) FROM connections"},
		{"SELECT COALESCE(SUM(n), 0) FROM event_counts WHERE scope = ''", "SELECT COUNT(*) FROM events"},
		{"SELECT COALESCE(SUM(n), 0) FROM event_counts WHERE scope = 'a:model_created'", "SELECT COUNT(*) FROM events WHERE action = 'model_created'"},
	} {
		var counted, actual int64
		if err := db.Raw(q.counted).Scan(&counted).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Raw(q.actual).Scan(&actual).Error; err != nil {
			t.Fatal(err)
		}
		if counted != actual {
			t.Errorf("%s: %d, %s: %d", q.counted, counted, q.actual, actual)
		}
	}
}

// Connection creates that arrive together on PostgreSQL share one
// statement; each still gets its own answer: those that break a unique
// rule (against a stored row or another create of the same batch), name
// a missing user, or whose client went away fail alone and leave nothing,
// the others are stored with exactly one event each, and the counters
// stay exact.
func TestBatchedCreates(t *testing.T) {
	st := testenv.OpenStoreOn(t, store.Postgres)
	pk := int64(1)
	audited := store.WithAudit(context.Background(), &store.Audit{User: map[string]any{"pk": 1, "username": "t"}, UserPK: &pk, Username: "t"})
	src, taken := takenConnection(t, st, audited)
	cancelled, cancel := context.WithCancel(audited)
	cancel()
	const n = 96
	ctxs := make([]context.Context, n)
	conns := make([]*store.Connection, n)
	users := make([]*store.User, n)
	for i := range conns {
		users[i] = newUser(t, st, fmt.Sprintf("u%d", i))
		ctxs[i], conns[i] = audited, &store.Connection{UserID: users[i].ID, SourceID: src.ID, Identifier: fmt.Sprintf("ext-%d", i)}
		switch i % 8 {
		case 1:
			conns[i].Identifier = "taken"
		case 2:
			conns[i].UserID = taken.ID
		case 3:
			ctxs[i] = cancelled
		case 4:
			conns[i].UserID = 1 << 40
		case 5: // the same user as create i-1, at the same time
			conns[i].UserID = users[i-1].ID
		}
	}
	commitsBefore, writesBefore := st.GroupCommits()
	errs := creates(st, ctxs, conns)
	commits, writes := st.GroupCommits()
	commits, writes = commits-commitsBefore, writes-writesBefore
	t.Logf("%d creates inserted by %d statements", writes, commits)
	if commits == 0 || writes <= commits {
		t.Errorf("%d creates inserted by %d statements: none shared one", writes, commits)
	}

	stored := map[string]store.Connection{}
	var rows []store.Connection
	if err := st.DB().Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range rows {
		stored[c.Identifier] = c
	}
	var conflict *store.ConflictError
	for i, err := range errs {
		id := fmt.Sprintf("ext-%d", i)
		switch i % 8 {
		case 1:
			if !errors.As(err, &conflict) || conflict.Rule != store.UniqueConnectionSourceIdentifier {
				t.Errorf("create %d: %v, want the (source, identifier) conflict", i, err)
			}
		case 2:
			if !errors.As(err, &conflict) || conflict.Rule != store.UniqueConnectionUserSource {
				t.Errorf("create %d: %v, want the (user, source) conflict", i, err)
			}
		case 3:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("create %d of a client gone: %v", i, err)
			}
		case 4:
			if !errors.Is(err, store.ErrReference) {
				t.Errorf("create %d of a missing user: %v", i, err)
			}
		case 5: // one of the pair i-1, i got the link
			prev := fmt.Sprintf("ext-%d", i-1)
			_, a := stored[prev]
			_, b := stored[id]
			if a == b || (err == nil) != b || (errs[i-1] == nil) != a {
				t.Errorf("creates %d, %d of one user: %v, %v; stored %v, %v", i-1, i, errs[i-1], err, a, b)
			}
		default:
			c, ok := stored[id]
			if err != nil || !ok || c.ID != conns[i].ID || c.Version != conns[i].Version || conns[i].Source.Slug != "s" {
				t.Errorf("create %d: %v, stored %v (%+v, returned %+v)", i, err, ok, c, conns[i])
			}
		}
		if err != nil {
			if _, ok := stored[id]; ok && i%8 != 5 {
				t.Errorf("create %d failed (%v) and is stored", i, err)
			}
		}
	}
	var events, without int64
	// Each with the fields its filters read, as the audit gave them.
	if err := st.DB().Table("events").Where("action = ? AND model_name = ? AND user_pk = ? AND username = ?",
		store.ActionModelCreated, "useroauthsourceconnection", pk, "t").Count(&events).Error; err != nil {
		t.Fatal(err)
	}
	if events != int64(len(stored)) {
		t.Errorf("%d model_created events of connections, %d connections", events, len(stored))
	}
	if err := st.DB().Table("connections").Where("CAST(id AS text) NOT IN (SELECT model_pk FROM events)").Count(&without).Error; err != nil {
		t.Fatal(err)
	}
	if without != 0 {
		t.Errorf("%d connections without their event", without)
	}
	countsExact(t, st)
}

// When a batch's statement fails (here a trigger refuses one of its
// rows), nothing of it commits, and each of its creates runs alone: only
// the one the trigger refuses fails.
func TestBatchedCreatesWhenTheStatementFails(t *testing.T) {
	st := testenv.OpenStoreOn(t, store.Postgres)
	pk := int64(1)
	audited := store.WithAudit(context.Background(), &store.Audit{User: map[string]any{"pk": 1, "username": "t"}, UserPK: &pk, Username: "t"})
	src := newSource(t, st, "s")
	db := st.DB()
	for _, stmt := range []string{
		`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.identifier = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER refuse_boom BEFORE INSERT ON connections FOR EACH ROW EXECUTE FUNCTION refuse_boom()`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	const n = 64
	ctxs := make([]context.Context, n)
	conns := make([]*store.Connection, n)
	for i := range conns {
		u := newUser(t, st, fmt.Sprintf("u%d", i))
		ctxs[i], conns[i] = audited, &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: fmt.Sprintf("ext-%d", i)}
		if i%4 == 0 {
			conns[i].Identifier = "boom"
		}
	}
	errs := creates(st, ctxs, conns)
	var stored int64
	if err := db.Table("connections").Count(&stored).Error; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if (err == nil) == (i%4 == 0) {
			t.Errorf("create %d (%s): %v", i, conns[i].Identifier, err)
		}
	}
	if stored != n-n/4 {
		t.Errorf("%d connections stored, want %d", stored, n-n/4)
	}
	var events int64
	if err := db.Table("events").Where("model_name = ?", "useroauthsourceconnection").Count(&events).Error; err != nil {
		t.Fatal(err)
	}
	if events != stored {
		t.Errorf("%d events of %d connections", events, stored)
	}
	countsExact(t, st)
}
