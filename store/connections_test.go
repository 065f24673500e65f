package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"akconn/store"
	"akconn/testenv"
)

// A created connection comes back with its source as a read of that
// source gives it, also after the source changed around the store.
func TestCreateConnectionLoadsItsSource(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		src := &store.OAuthSource{ID: uuid.NewString(), Name: "Src", Slug: "src", ProviderType: "openidconnect", Enabled: true,
			UserPropertyMappings: []string{uuid.NewString()}, GroupPropertyMappings: []string{}, ConsumerSecret: "s3cret",
			OIDCJWKS: map[string]any{"keys": []any{map[string]any{"kty": "RSA"}}}, PolicyEngineMode: "all"}
		if err := st.CreateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		u := newUser(t, st, "owner")
		c := &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: "ext-1"}
		if err := st.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		read, err := st.GetSourceByID(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", c.Source) != fmt.Sprintf("%+v", *read) || c.Version != 1 {
			t.Errorf("created with source %+v (version %d); the source reads %+v", c.Source, c.Version, *read)
		}
		// Changed around this store (another replica): the next create shows
		// the source as it is now.
		if err := st.DB().Exec("UPDATE oauth_sources SET name = 'Renamed', version = version + 1 WHERE id = ?", src.ID).Error; err != nil {
			t.Fatal(err)
		}
		other := newUser(t, st, "other")
		c = &store.Connection{UserID: other.ID, SourceID: src.ID, Identifier: "ext-3"}
		if err := st.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.Source.Name != "Renamed" || c.Source.Version != read.Version+1 {
			t.Errorf("created with source %q version %d, want the renamed one", c.Source.Name, c.Source.Version)
		}
		missing := &store.Connection{UserID: u.ID, SourceID: uuid.NewString(), Identifier: "ext-2"}
		if err := st.CreateConnection(ctx, missing); !errors.Is(err, store.ErrReference) {
			t.Errorf("create with an unknown source: %v, want ErrReference", err)
		}
		// Removed around this store after a create cached it: gone for the
		// next create too.
		if err := st.DB().Exec("DELETE FROM connections WHERE source_id = ?", src.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.DB().Exec("DELETE FROM oauth_sources WHERE id = ?", src.ID).Error; err != nil {
			t.Fatal(err)
		}
		gone := &store.Connection{UserID: u.ID, SourceID: src.ID, Identifier: "ext-4"}
		if err := st.CreateConnection(ctx, gone); !errors.Is(err, store.ErrReference) {
			t.Errorf("create with a source removed since it was cached: %v, want ErrReference", err)
		}
	})
}
