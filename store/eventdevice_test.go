package store_test

import (
	"context"
	"testing"
	"time"

	"akconn/store"
	"akconn/testenv"
)

// TestEventContextDeviceFilter: context_device matches the context's
// device.pk exactly, a UUID with or without its dashes, an integer by its
// decimal text; events without a device, or with the pk elsewhere, never.
func TestEventContextDeviceFilter(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		t0 := time.Now().UTC().Truncate(time.Microsecond)
		dev := "0b7a5f4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
		byUUID := putEvent(t, st, t0, "login", pk(1), map[string]any{"device": map[string]any{"pk": dev, "name": "phone"}})
		byInt := putEvent(t, st, t0.Add(time.Second), "login", pk(1), map[string]any{"device": map[string]any{"pk": float64(7)}}) // as decoded from JSON
		putEvent(t, st, t0.Add(2*time.Second), "login", pk(1), map[string]any{"model": map[string]any{"pk": dev}})
		putEvent(t, st, t0.Add(3*time.Second), "login", pk(1), map[string]any{"device": dev})
		for _, c := range []struct {
			value string
			want  []string
		}{
			{dev, []string{byUUID.UUID}},
			{"0b7a5f4e1c2d4e3f8a9b0c1d2e3f4a5b", []string{byUUID.UUID}},
			{"7", []string{byInt.UUID}},
			{"8", nil},
			{"phone", nil},
		} {
			ids, _ := listed(t, st, store.EventFilter{Scope: all, ContextDevice: &c.value})
			if len(ids) != len(c.want) || len(ids) == 1 && ids[0] != c.want[0] {
				t.Errorf("context_device=%s: %v, want %v", c.value, ids, c.want)
			}
		}
	})
}

// storeAtVersion opens a fresh store on backend migrated up to version
// and no further, as an older release left it.
func storeAtVersion(t *testing.T, backend string, version int64) *store.Store {
	t.Helper()
	st, err := store.Open(testenv.DatabaseURL(t, backend), store.Options{SkipMigrations: true, Keyring: testenv.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.MigrateTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMigrationCopiesEventDevices: migration 00015 gives each event stored
// before it the device_pk its context names, as the store fills it for new
// events: a string without its dashes, a number's integer part, ” for
// anything else.
func TestMigrationCopiesEventDevices(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		st := storeAtVersion(t, backend, 14)
		contexts := map[string]string{
			"e1": `{"device": {"pk": "0b7a5f4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"}}`,
			"e2": `{"device": {"pk": 7}}`,
			"e3": `{"device": {"pk": 7.9}}`,
			"e4": `{"device": "7"}`,
			"e5": `{"model": {"pk": 7}, "note": "device"}`,
			"e6": `"device"`,
			"e7": `{"device": {"pk": true}}`,
		}
		want := map[string]string{"e1": "0b7a5f4e1c2d4e3f8a9b0c1d2e3f4a5b", "e2": "7", "e3": "7", "e4": "", "e5": "", "e6": "", "e7": ""}
		for id, c := range contexts {
			err := st.DB().Exec(`INSERT INTO events (event_uuid, username, "user", action, app, context, created, expires, brand,
				model_app, model_name, model_pk, authorized_app, brand_name) VALUES (?, '', 'null', 'login', '', ?, ?, ?, '{}', '', '', '', '', '')`,
				id, c, time.Now().UTC(), time.Now().UTC().Add(time.Hour)).Error
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.Migrate(ctx, store.MigrateUp); err != nil {
			t.Fatal(err)
		}
		var rows []struct{ EventUUID, DevicePK string }
		if err := st.DB().Raw("SELECT event_uuid, device_pk FROM events").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want) {
			t.Fatalf("events after the migration: %v", rows)
		}
		for _, r := range rows {
			if r.DevicePK != want[r.EventUUID] {
				t.Errorf("event %s (context %s): device_pk %q, want %q", r.EventUUID, contexts[r.EventUUID], r.DevicePK, want[r.EventUUID])
			}
		}
	})
}

// TestEventAuthorizedAppFilter: context_authorized_app matches the
// context's authorized_application.pk as it was written, a UUID also
// without its dashes: the filter's value is read as the index keeps it
// (pkText drops the dashes of a string pk).
func TestEventAuthorizedAppFilter(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		t0 := time.Now().UTC().Truncate(time.Microsecond)
		app := "0b7a5f4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
		byUUID := putEvent(t, st, t0, "authorize_application", pk(1), map[string]any{"authorized_application": map[string]any{"pk": app, "name": "a"}})
		bySlug := putEvent(t, st, t0.Add(time.Second), "authorize_application", pk(1), map[string]any{"authorized_application": map[string]any{"pk": "ts-app-1"}})
		putEvent(t, st, t0.Add(2*time.Second), "authorize_application", pk(1), map[string]any{"model": map[string]any{"pk": app}})
		for _, c := range []struct {
			value string
			want  []string
		}{
			{app, []string{byUUID.UUID}},
			{"0b7a5f4e1c2d4e3f8a9b0c1d2e3f4a5b", []string{byUUID.UUID}},
			{"ts-app-1", []string{bySlug.UUID}},
			{"ts-app-2", nil},
			{"a", nil},
		} {
			ids, _ := listed(t, st, store.EventFilter{Scope: all, AuthorizedApp: &c.value})
			if len(ids) != len(c.want) || len(ids) == 1 && ids[0] != c.want[0] {
				t.Errorf("context_authorized_app=%s: %v, want %v", c.value, ids, c.want)
			}
		}
	})
}
