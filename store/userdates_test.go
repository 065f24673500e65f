package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"akconn/store"
	"akconn/testenv"
)

// TestUserDatesOnCreateAndUpdate: a user is created with date_joined,
// last_updated and password_change_date one instant (from NewUser, or
// filled by CreateUser and Bootstrap when missing); every update moves
// last_updated on and leaves the other two; each is what is stored.
func TestUserDatesOnCreateAndUpdate(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		stored := func(id int64) *store.User {
			t.Helper()
			u, err := st.GetUser(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		sameInstant := func(what string, u *store.User) {
			t.Helper()
			if u.DateJoined.IsZero() || !u.LastUpdated.Equal(u.DateJoined) || !u.PasswordChangeDate.Equal(u.DateJoined) {
				t.Errorf("%s: date_joined %v, last_updated %v, password_change_date %v: want one instant",
					what, u.DateJoined, u.LastUpdated, u.PasswordChangeDate)
			}
		}

		alice := store.NewUser("alice", false)
		if err := st.CreateUser(ctx, alice); err != nil {
			t.Fatal(err)
		}
		sameInstant("NewUser", stored(alice.ID))
		before := time.Now().Add(-time.Second)
		bare := &store.User{UUID: "6b1f7c1e-5d1c-4f0e-9c55-4d1b2f7b0001", Username: "bare", Attributes: map[string]any{}}
		if err := st.CreateUser(ctx, bare); err != nil {
			t.Fatal(err)
		}
		got := stored(bare.ID)
		sameInstant("a user without dates", got)
		if got.DateJoined.Before(before) {
			t.Errorf("a user without dates joined at %v, before its create (%v)", got.DateJoined, before)
		}
		if err := st.Bootstrap(ctx, "bootstrap-key-0123456789"); err != nil {
			t.Fatal(err)
		}
		var admin store.User
		if err := st.DB().Where("username = ?", "akadmin").Take(&admin).Error; err != nil {
			t.Fatal(err)
		}
		sameInstant("akadmin", &admin)

		joined := stored(alice.ID)
		for i, name := range []string{"Alice", "Alice L."} {
			time.Sleep(2 * time.Millisecond)
			prev := stored(alice.ID).LastUpdated
			updated, err := st.UpdateUser(ctx, alice.ID, func(u *store.User) error {
				u.Name = name
				// A change may not move these (the store keeps them).
				u.DateJoined, u.PasswordChangeDate = time.Unix(0, 0), time.Unix(0, 0)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got := stored(alice.ID)
			if !got.LastUpdated.After(prev) || !got.LastUpdated.Equal(updated.LastUpdated) {
				t.Errorf("update %d: last_updated %v (answered %v), want after %v", i+1, got.LastUpdated, updated.LastUpdated, prev)
			}
			if !got.DateJoined.Equal(joined.DateJoined) || !got.PasswordChangeDate.Equal(joined.PasswordChangeDate) {
				t.Errorf("update %d: date_joined %v, password_change_date %v: want both kept (%v)",
					i+1, got.DateJoined, got.PasswordChangeDate, joined.DateJoined)
			}
		}
		refused := errors.New("refused")
		prev := stored(alice.ID).LastUpdated
		if _, err := st.UpdateUser(ctx, alice.ID, func(*store.User) error { return refused }); !errors.Is(err, refused) {
			t.Fatalf("refused update: %v", err)
		}
		if got := stored(alice.ID).LastUpdated; !got.Equal(prev) {
			t.Errorf("a refused update moved last_updated from %v to %v", prev, got)
		}
	})
}

// TestMigrationBackfillsAuthentik2026Data: migration 14 on rows an older
// schema holds gives each user password_change_date = date_joined and
// last_updated = the migration's time, and each source authentik's
// defaults (pkce none, basic_auth, not promoted, no icon; and, by
// migration 16, entraid for azuread); on PostgreSQL the columns 2026.8
// leaves unbounded become text.
func TestMigrationBackfillsAuthentik2026Data(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		st := storeAtVersion(t, backend, 13)
		joined := "2025-01-02 03:04:05"
		for _, stmt := range []string{
			`INSERT INTO users (id, uuid, username, name, email, is_active, is_superuser, path, type, attributes, date_joined)
			VALUES (7, '00000000-0000-4000-8000-000000000007', 'old', 'Old', '', true, false, 'users', 'internal', '{}', '` + joined + `')`,
			`INSERT INTO oauth_sources (id, name, slug, enabled, user_property_mappings, group_property_mappings, policy_engine_mode,
			user_matching_mode, group_matching_mode, user_path_template, provider_type, consumer_key, consumer_secret,
			additional_scopes, oidc_well_known_url, oidc_jwks_url, oidc_jwks, created_at, updated_at)
			VALUES ('00000000-0000-4000-8000-000000000003', 'Old', 'old', true, '[]', '[]', 'any', 'identifier', 'identifier',
			'goauthentik.io/sources/%(slug)s', 'azuread', 'k', 's', '', '', '', '{}', '` + joined + `', '` + joined + `')`,
		} {
			if err := st.DB().Exec(stmt).Error; err != nil {
				t.Fatal(err)
			}
		}
		before := time.Now().Add(-time.Second)
		if _, err := st.Migrate(ctx, store.MigrateUp); err != nil {
			t.Fatal(err)
		}
		after := time.Now().Add(time.Second)
		u, err := st.GetUser(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		wantJoined := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		if !u.DateJoined.Equal(wantJoined) || !u.PasswordChangeDate.Equal(wantJoined) {
			t.Errorf("date_joined %v, password_change_date %v: want both %v", u.DateJoined, u.PasswordChangeDate, wantJoined)
		}
		if u.LastUpdated.Before(before) || u.LastUpdated.After(after) {
			t.Errorf("last_updated %v: want the migration's time, in [%v, %v]", u.LastUpdated, before, after)
		}
		// The backfilled text compares equal to the same instant as the store
		// writes it (on SQLite a time is text: "05.1", not "05.100").
		at := u.LastUpdated
		found, _, err := st.ListUsers(ctx, store.UserFilter{Scope: store.Scope{All: true}, UserDates: store.UserDates{LastUpdated: &at}}, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].ID != 7 {
			t.Errorf("last_updated = its own backfilled value (%v) finds %d users, want the backfilled one", at, len(found))
		}
		src, err := st.GetSourceBySlug(ctx, "old")
		if err != nil {
			t.Fatal(err)
		}
		if src.PKCE != "none" || src.AuthorizationCodeAuthMethod != "basic_auth" || src.Promoted || src.Icon != "" || src.ProviderType != "entraid" {
			t.Errorf("source after the migration: pkce %q, authorization_code_auth_method %q, promoted %v, icon %q, provider_type %q",
				src.PKCE, src.AuthorizationCodeAuthMethod, src.Promoted, src.Icon, src.ProviderType)
		}
		if backend != store.Postgres {
			return
		}
		var types []struct{ TableName, ColumnName, DataType string }
		if err := st.DB().Raw(`SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND (table_name, column_name) IN (('oauth_sources', 'slug'),
			('oauth_sources', 'request_token_url'), ('oauth_sources', 'authorization_url'), ('oauth_sources', 'access_token_url'),
			('oauth_sources', 'profile_url'), ('connections', 'identifier'))`).Scan(&types).Error; err != nil {
			t.Fatal(err)
		}
		if len(types) != 6 {
			t.Fatalf("columns: %v", types)
		}
		for _, c := range types {
			if c.DataType != "text" {
				t.Errorf("%s.%s is %s, want text", c.TableName, c.ColumnName, c.DataType)
			}
		}
	})
}
