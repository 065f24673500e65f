package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"akconn/store"
	"akconn/testenv"
)

// Both backends classify driver errors by code into the same sentinels:
// every unique rule by name, and foreign-key failures.
func TestErrorTranslation(t *testing.T) {
	for _, backend := range []string{store.SQLite, store.Postgres} {
		t.Run(backend, func(t *testing.T) {
			st := testenv.OpenStoreOn(t, backend)
			ctx := context.Background()
			u := newUser(t, st, "owner")
			managed := "goauthentik.io/test"
			src := &store.OAuthSource{ID: uuid.NewString(), Name: "s", Slug: "s", ProviderType: "github", Managed: &managed,
				UserPropertyMappings: []string{}, GroupPropertyMappings: []string{}, OIDCJWKS: map[string]any{}}
			if err := st.CreateSource(ctx, src); err != nil {
				t.Fatal(err)
			}
			tok := &store.Token{Identifier: "t", Key: "key-1", Intent: store.IntentAPI, UserID: u.ID, Managed: &managed}
			if err := st.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			conn := &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: "ext"}
			if err := st.CreateConnection(ctx, conn); err != nil {
				t.Fatal(err)
			}
			other := newUser(t, st, "other")

			cases := []struct {
				rule  store.UniqueRule
				write func() error
			}{
				{store.UniqueUserUsername, func() error { return st.CreateUser(ctx, store.NewUser("owner", false)) }},
				{store.UniqueUserUUID, func() error { v := store.NewUser("x", false); v.UUID = u.UUID; return st.CreateUser(ctx, v) }},
				{store.UniqueSourceSlug, func() error { v := *src; v.ID, v.Managed = uuid.NewString(), nil; return st.CreateSource(ctx, &v) }},
				{store.UniqueSourceManaged, func() error { v := *src; v.ID, v.Slug = uuid.NewString(), "s2"; return st.CreateSource(ctx, &v) }},
				{store.UniqueTokenIdentifier, func() error {
					return st.CreateToken(ctx, &store.Token{Identifier: "t", Key: "key-2", Intent: store.IntentAPI, UserID: u.ID})
				}},
				{store.UniqueTokenKey, func() error {
					return st.CreateToken(ctx, &store.Token{Identifier: "t2", Key: "key-1", Intent: store.IntentAPI, UserID: u.ID})
				}},
				{store.UniqueTokenManaged, func() error {
					return st.CreateToken(ctx, &store.Token{Identifier: "t3", Key: "key-3", Intent: store.IntentAPI, UserID: u.ID, Managed: &managed})
				}},
				{store.UniqueConnectionUserSource, func() error {
					return st.CreateConnection(ctx, &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: "ext-2"})
				}},
				{store.UniqueConnectionSourceIdentifier, func() error {
					return st.CreateConnection(ctx, &store.Connection{UserID: other.ID, SourceID: src.ID, Identifier: "ext"})
				}},
			}
			for _, c := range cases {
				var conflict *store.ConflictError
				if err := c.write(); !errors.As(err, &conflict) || conflict.Rule != c.rule || !errors.Is(err, store.ErrConflict) {
					t.Errorf("%s: got %v, want a conflict on it", c.rule, err)
				}
			}

			missingSource := &store.Connection{UserID: u.ID, SourceID: "00000000-0000-4000-8000-000000000000", Identifier: "x"}
			if err := st.CreateConnection(ctx, missingSource); !errors.Is(err, store.ErrReference) {
				t.Errorf("unknown source: %v", err)
			}
			missingUser := &store.Token{Identifier: "orphan", Key: "key-4", Intent: store.IntentAPI, UserID: 987654}
			if err := st.CreateToken(ctx, missingUser); !errors.Is(err, store.ErrReference) {
				t.Errorf("unknown user: %v", err)
			}
			if _, err := st.GetConnection(ctx, store.Scope{All: true}, 12345); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("missing connection: %v", err)
			}
			if _, err := st.GetUser(ctx, 12345); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("missing user: %v", err)
			}
		})
	}
}

// PostgreSQL sessions run without JIT compilation unless the URL asks for
// it: a cost estimate inflated by dead counter rows made PostgreSQL spend
// 100 ms compiling a one-page read.
func TestPostgresSessionsRunWithoutJIT(t *testing.T) {
	st := testenv.OpenStore(t)
	if st.Dialect() != store.Postgres {
		t.Skip("PostgreSQL only (AKCONN_TEST_BACKEND=postgres)")
	}
	var jit string
	if err := st.DB().Raw("SHOW jit").Scan(&jit).Error; err != nil || jit != "off" {
		t.Fatalf("jit = %q (%v), want off", jit, err)
	}
}
