package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"akconn/store"
)

// TestMigrationRenamesAzureAD: migration 00016 sets provider_type to
// entraid where it was azuread, and changes nothing else of any source
// (version included); rolled back, every entraid source is azuread, and
// nothing else changes either.
func TestMigrationRenamesAzureAD(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		st := storeAtVersion(t, backend, 15)
		for i, src := range []struct{ slug, typ string }{{"az", "azuread"}, {"gh", "github"}, {"oidc", "openidconnect"}, {"az2", "azuread"}} {
			err := st.DB().Exec(`INSERT INTO oauth_sources (id, name, slug, enabled, user_property_mappings, group_property_mappings,
				policy_engine_mode, user_matching_mode, group_matching_mode, user_path_template, provider_type, consumer_key,
				consumer_secret, additional_scopes, oidc_well_known_url, oidc_jwks_url, oidc_jwks, created_at, updated_at, version)
				VALUES (?, ?, ?, true, '[]', '[]', 'any', 'identifier', 'identifier', 'goauthentik.io/sources/%(slug)s', ?,
				'k', 's', '', '', '', '{}', '2025-01-02 03:04:05', '2025-01-02 03:04:05', 3)`,
				fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), "Source "+src.slug, src.slug, src.typ).Error
			if err != nil {
				t.Fatal(err)
			}
		}
		rows := func() map[string]map[string]any {
			t.Helper()
			var list []map[string]any
			if err := st.DB().Raw("SELECT * FROM oauth_sources").Scan(&list).Error; err != nil {
				t.Fatal(err)
			}
			out := map[string]map[string]any{}
			for _, r := range list {
				out[string(text(r["slug"]))] = r
			}
			return out
		}
		before := rows()
		if err := st.MigrateTo(ctx, 16); err != nil {
			t.Fatal(err)
		}
		checkTypes(t, "after the migration", before, rows(),
			map[string]string{"az": "entraid", "gh": "github", "oidc": "openidconnect", "az2": "entraid"})

		// A source created as entraid since goes back as azuread too.
		if err := st.DB().Exec("UPDATE oauth_sources SET provider_type = 'entraid' WHERE slug = 'oidc'").Error; err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx, store.MigrateDown); err != nil {
			t.Fatal(err)
		}
		checkTypes(t, "rolled back", before, rows(),
			map[string]string{"az": "azuread", "gh": "github", "oidc": "azuread", "az2": "azuread"})
	})
}

// checkTypes fails unless each source of after has the provider_type want
// names for its slug and is otherwise the row of before.
func checkTypes(t *testing.T, when string, before, after map[string]map[string]any, want map[string]string) {
	t.Helper()
	if len(after) != len(before) {
		t.Fatalf("%s: %d sources, want %d", when, len(after), len(before))
	}
	for slug, row := range after {
		if got := string(text(row["provider_type"])); got != want[slug] {
			t.Errorf("%s: source %s has provider_type %q, want %q", when, slug, got, want[slug])
		}
		was, now := map[string]any{}, map[string]any{}
		for k, v := range before[slug] {
			if k != "provider_type" {
				was[k] = v
			}
		}
		for k, v := range row {
			if k != "provider_type" {
				now[k] = v
			}
		}
		if !reflect.DeepEqual(was, now) {
			t.Errorf("%s: source %s changed beyond provider_type:\n was %v\n now %v", when, slug, was, now)
		}
	}
}

// text is a scanned text column as bytes (drivers give string or []byte).
func text(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	return nil
}
