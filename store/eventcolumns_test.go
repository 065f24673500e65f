package store_test

import (
	"slices"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// TestEventColumnsAreTheMigratedOnes fails when the table of event
// columns every insert of events is built from and the migrations of
// either backend disagree: a column added to one and not the other.
// SQLite's seq (the rowid, migration 00013) is written by SQLite itself.
func TestEventColumnsAreTheMigratedOnes(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		cols, err := st.DB().Migrator().ColumnTypes("events")
		if err != nil {
			t.Fatal(err)
		}
		var migrated []string
		for _, c := range cols {
			if !(backend == store.SQLite && c.Name() == "seq") {
				migrated = append(migrated, c.Name())
			}
		}
		written := store.EventColumnNames()
		slices.Sort(migrated)
		slices.Sort(written)
		if !slices.Equal(migrated, written) {
			t.Errorf("events columns: migrations have %v, the inserts write %v", migrated, written)
		}
	})
}
