package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"akconn/store"
	"akconn/testenv"
)

// newSource stores an OAuth source with the given slug.
func newSource(t *testing.T, st *store.Store, slug string) *store.OAuthSource {
	t.Helper()
	src := &store.OAuthSource{ID: uuid.NewString(), Name: slug, Slug: slug, ProviderType: "github",
		UserPropertyMappings: []string{}, GroupPropertyMappings: []string{}, OIDCJWKS: map[string]any{}}
	if err := st.CreateSource(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	return src
}

// newUser stores an ordinary user with the given username.
func newUser(t *testing.T, st *store.Store, username string) *store.User {
	t.Helper()
	u := store.NewUser(username, false)
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// Counts from connection_counts and pages walked source by source equal
// what counting and sorting every row gives, after inserts, deletes, moves
// between sources and cascading deletes of sources and users.
func TestConnectionCountsAndPages(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		var sources []*store.OAuthSource
		for _, slug := range []string{"m", "a", "z", "empty", "b"} {
			sources = append(sources, newSource(t, st, slug))
		}
		var users []*store.User
		for i := 0; i < 7; i++ {
			u := newUser(t, st, fmt.Sprintf("user-%d", i))
			users = append(users, u)
		}
		var conns []*store.Connection
		for i, u := range users {
			for j, src := range sources {
				if src.Slug == "empty" || (i+j)%3 == 0 {
					continue
				}
				c := &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: fmt.Sprintf("ext-%d-%d", i, j)}
				if err := st.CreateConnection(ctx, c); err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
		}
		check := func(when string) {
			t.Helper()
			all := store.Scope{All: true}
			for _, ordering := range [][]string{nil, {"-source__slug"}, {"source__slug", "-pk"}, {"-source__slug", "pk"}} {
				var want []int64
				order := map[string]string{"": "src.slug, c.id", "-source__slug": "src.slug DESC, c.id DESC",
					"source__slug,-pk": "src.slug, c.id DESC", "-source__slug,pk": "src.slug DESC, c.id"}[join(ordering)]
				if err := st.DB().Raw("SELECT c.id FROM connections c JOIN oauth_sources src ON src.id = c.source_id ORDER BY " + order).Scan(&want).Error; err != nil {
					t.Fatal(err)
				}
				for size := 1; size <= 4; size++ {
					var got []int64
					for page := 0; ; page++ {
						rows, total, err := st.ListConnections(ctx, store.ConnectionFilter{Scope: all, Ordering: ordering}, store.Page{Offset: page * size, Limit: size})
						if err != nil {
							t.Fatal(err)
						}
						if total != int64(len(want)) {
							t.Fatalf("%s: count %d, want %d", when, total, len(want))
						}
						if len(rows) == 0 {
							break
						}
						for _, r := range rows {
							got = append(got, r.ID)
						}
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("%s, ordering %v, pages of %d: %v, want %v", when, ordering, size, got, want)
					}
				}
			}
			for _, src := range sources {
				var want int64
				st.DB().Model(&store.Connection{}).Where("source_id = ?", src.ID).Count(&want)
				slug := src.Slug
				_, total, err := st.ListConnections(ctx, store.ConnectionFilter{Scope: all, SourceSlug: &slug}, store.Page{Limit: 1})
				if err != nil || total != want {
					t.Fatalf("%s: source %s counts %d (%v), want %d", when, slug, total, err, want)
				}
			}
		}
		check("after inserts")
		if err := st.DeleteConnection(ctx, store.Scope{All: true}, conns[0].ID, nil); err != nil {
			t.Fatal(err)
		}
		check("after a delete")
		if _, err := st.UpdateConnection(ctx, store.Scope{All: true}, conns[1].ID, func(c *store.Connection) error {
			c.SourceID = sources[3].ID // to the empty source
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check("after a move to another source")
		if err := st.DeleteSource(ctx, "m", nil); err != nil {
			t.Fatal(err)
		}
		sources = append(sources[:0], sources[1:]...)
		check("after deleting a source")
		if err := st.DeleteUser(ctx, users[2].ID, nil); err != nil {
			t.Fatal(err)
		}
		check("after deleting a user")
		if err := st.DB().Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&store.Connection{UserID: users[3].ID, SourceID: sources[2].ID, Identifier: "rolled-back"}).Error; err != nil {
				return err
			}
			return fmt.Errorf("roll back")
		}); err == nil {
			t.Fatal("no rollback")
		}
		check("after a rolled-back insert")
	})
}

func join(fields []string) string {
	out := ""
	for i, f := range fields {
		if i > 0 {
			out += ","
		}
		out += f
	}
	return out
}

// Search finds the same connections on every backend and path (SQLite's
// FTS5 trigram index for terms of three characters or more, its scan for
// shorter ones and in builds without FTS5, PostgreSQL's LIKE): a
// connection matches when its identifier, lower-cased, contains the term
// lower-cased, every letter folded.
func TestSearchFoldsCaseAlike(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		if scans := len(st.Notices()) > 0; backend == store.SQLite && scans == ftsBuild {
			t.Fatalf("built with FTS5: %v; the store says %q", ftsBuild, st.Notices())
		}
		ctx := context.Background()
		src := newSource(t, st, "src")
		identifiers := []string{"Élodie-GitHub", "ÅNGSTRÖM_42", "straße", "plain-abc", "x\"quote\"y", "100%_sure", "ÉLO", "mixedCASE-Ünï"}
		for i, id := range identifiers {
			u := newUser(t, st, fmt.Sprintf("u%d", i))
			if err := st.CreateConnection(ctx, &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: id}); err != nil {
				t.Fatal(err)
			}
		}
		for _, term := range []string{"élo", "ÉLO", "él", "É", "github", "GitHub", "ångström", "STRASSE", "straße", "ß", "\"quote\"", "%_", "100%",
			"ünï", "CASE-Ü", "abc", "a", "-", strings.Repeat("x", 300)} {
			var want []string
			for _, id := range identifiers {
				if strings.Contains(strings.ToLower(id), strings.ToLower(term)) {
					want = append(want, id)
				}
			}
			rows, total, err := st.ListConnections(ctx, store.ConnectionFilter{Scope: store.Scope{All: true}, Search: term, Ordering: []string{"identifier"}}, store.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.Identifier)
			}
			sort.Strings(want)
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(want) || total != int64(len(want)) {
				t.Errorf("search %q found %q (count %d), want %q", term, got, total, want)
			}
			past, total, err := st.ListConnections(ctx, store.ConnectionFilter{Scope: store.Scope{All: true}, Search: term}, store.Page{Offset: len(want) + 3, Limit: 2})
			if err != nil || len(past) != 0 || total != int64(len(want)) {
				t.Errorf("search %q past the end: %d rows, count %d (%v), want 0 rows of %d", term, len(past), total, err, len(want))
			}
		}
	})
}

// A change to a source made through another store on the same database
// (another replica) shows in the next connection read: the cache of
// sources is checked against the version each read joins in.
func TestSourceChangesSeenAtOnce(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		url := testenv.DatabaseURL(t, backend)
		open := func() *store.Store {
			st, err := store.Open(url, store.Options{Keyring: testenv.Keyring(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		}
		a, b := open(), open()
		ctx := context.Background()
		src := newSource(t, a, "gh")
		u := newUser(t, a, "u")
		c := &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: "x"}
		if err := a.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		all := store.Scope{All: true}
		for i, name := range []string{"first", "second", "third"} {
			if _, err := b.UpdateSource(ctx, "gh", func(s *store.OAuthSource) error { s.Name = name; return nil }); err != nil {
				t.Fatal(err)
			}
			got, err := a.GetConnection(ctx, all, c.ID)
			if err != nil || got.Source.Name != name || got.Source.Version != int64(i+2) {
				t.Fatalf("after renaming to %q elsewhere: %+v %v", name, got.Source, err)
			}
			rows, _, err := a.ListConnections(ctx, store.ConnectionFilter{Scope: all}, store.Page{Limit: 10})
			if err != nil || len(rows) != 1 || rows[0].Source.Name != name {
				t.Fatalf("list after renaming to %q elsewhere: %v %v", name, rows, err)
			}
		}
	})
}
