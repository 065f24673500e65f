package store_test

import (
	"context"
	"errors"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// Both backends translate driver errors to the same sentinels.
func TestErrorTranslation(t *testing.T) {
	for _, backend := range []string{store.SQLite, store.Postgres} {
		t.Run(backend, func(t *testing.T) {
			st := testenv.OpenStoreOn(t, backend)
			ctx := context.Background()
			u := store.NewUser("owner", false)
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			var conflict *store.ConflictError
			if err := st.CreateUser(ctx, store.NewUser("owner", false)); !errors.As(err, &conflict) || conflict.Fields[0] != "username" {
				t.Fatalf("duplicate username: %v", err)
			}
			c := &store.Connection{UserID: u.ID, SourceID: "00000000-0000-4000-8000-000000000000", Identifier: "x"}
			if err := st.CreateConnection(ctx, c); !errors.Is(err, store.ErrReference) {
				t.Fatalf("unknown source: %v", err)
			}
			if _, err := st.GetConnection(ctx, store.Scope{All: true}, 12345); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("missing connection: %v", err)
			}
			if _, err := st.GetUser(ctx, 12345); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("missing user: %v", err)
			}
		})
	}
}
