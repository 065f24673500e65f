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

// Concurrent writes to SQLite share commits, and one write's failure
// (a conflict, a panic in its change, a client gone) fails that write
// alone: every other write is stored, every failure is reported.
func TestGroupCommit(t *testing.T) {
	st := testenv.OpenStoreOn(t, store.SQLite)
	ctx := context.Background()
	src, taken := takenConnection(t, st, ctx)
	const writers = 64
	users := make([]*store.User, writers)
	for i := range users {
		users[i] = newUser(t, st, fmt.Sprintf("w%d", i))
	}
	commitsBefore, writesBefore := st.GroupCommits()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := &store.Connection{UserID: users[i].ID, SourceID: src.ID, Identifier: fmt.Sprintf("ext-%d", i)}
			switch i % 8 {
			case 1: // conflicts with the stored connection
				c.Identifier = "taken"
				errs[i] = st.CreateConnection(ctx, c)
			case 2: // its change panics
				errs[i] = panicUpdate(st, taken)
			case 3: // its client went away
				errs[i] = st.CreateConnection(cancelled, c)
			default:
				errs[i] = st.CreateConnection(ctx, c)
			}
		}(i)
	}
	wg.Wait()
	stored := map[string]bool{}
	var conns []store.Connection
	if err := st.DB().Find(&conns).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		stored[c.Identifier] = true
	}
	for i, err := range errs {
		want := fmt.Sprintf("ext-%d", i)
		switch i % 8 {
		case 1:
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("write %d: %v, want a conflict", i, err)
			}
		case 2:
			if err == nil {
				t.Errorf("write %d: a panicking change succeeded", i)
			}
		case 3:
			if !errors.Is(err, context.Canceled) || stored[want] {
				t.Errorf("write %d of a client gone: %v, stored %v", i, err, stored[want])
			}
		default:
			if err != nil || !stored[want] {
				t.Errorf("write %d: %v, stored %v", i, err, stored[want])
			}
		}
	}
	commits, writes := st.GroupCommits()
	commits, writes = commits-commitsBefore, writes-writesBefore
	t.Logf("%d writes in %d commits", writes, commits)
	if writes < writers-writers/8 || commits >= writes {
		t.Errorf("%d writes in %d commits: no write shared a commit", writes, commits)
	}
}

// takenConnection stores a source, s, and a connection of the user
// "taken" to it with the identifier "taken", for creates to conflict
// with.
func takenConnection(t *testing.T, st *store.Store, ctx context.Context) (*store.OAuthSource, *store.User) {
	t.Helper()
	src := newSource(t, st, "s")
	taken := newUser(t, st, "taken")
	if err := st.CreateConnection(ctx, &store.Connection{UserID: taken.ID, SourceID: src.ID, Identifier: "taken"}); err != nil {
		t.Fatal(err)
	}
	return src, taken
}

func panicUpdate(st *store.Store, u *store.User) error {
	_, err := st.UpdateUser(context.Background(), u.ID, func(*store.User) error { panic("boom") })
	return err
}

// Creates carrying an access token that share a group commit each take
// the id after the one inserted before them in that commit: every token
// is sealed to its own row's id and opens there, and a create that
// fails (a conflict) neither takes an id nor disturbs the others'.
func TestGroupCommitSealsTokensToTheirRows(t *testing.T) {
	st := testenv.OpenStoreOn(t, store.SQLite)
	ctx := context.Background()
	src, _ := takenConnection(t, st, ctx)
	const writers = 64
	conns := make([]*store.Connection, writers)
	for i := range conns {
		token := fmt.Sprintf("gho_token_%d", i)
		conns[i] = &store.Connection{UserID: newUser(t, st, fmt.Sprintf("w%d", i)).ID, SourceID: src.ID,
			Identifier: fmt.Sprintf("ext-%d", i), SetAccessToken: true, AccessToken: &token}
		if i%8 == 1 {
			conns[i].Identifier = "taken"
		}
	}
	ctxs := make([]context.Context, writers)
	for i := range ctxs {
		ctxs[i] = ctx
	}
	commitsBefore, writesBefore := st.GroupCommits()
	errs := creates(st, ctxs, conns)
	commits, writes := st.GroupCommits()
	if writes-writesBefore <= commits-commitsBefore {
		t.Errorf("%d writes in %d commits: none shared one", writes-writesBefore, commits-commitsBefore)
	}
	ids := map[int64]bool{}
	for i, c := range conns {
		if i%8 == 1 {
			if !errors.Is(errs[i], store.ErrConflict) {
				t.Errorf("create %d: %v, want a conflict", i, errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if ids[c.ID] {
			t.Errorf("id %d given twice", c.ID)
		}
		ids[c.ID] = true
		var stored store.Connection
		if err := st.DB().First(&stored, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		token, err := st.AccessToken(&stored)
		if err != nil || token == nil || *token != *c.AccessToken || stored.Identifier != c.Identifier {
			t.Errorf("connection %d (create %d): %s, token %v, %v", c.ID, i, stored.Identifier, token, err)
		}
	}
}
