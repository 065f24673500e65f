package store

import (
	"reflect"
	"testing"
	"time"
)

// TestEventArraysAreEventArgsByColumn checks that the typed arrays of a
// PostgreSQL batch hold, column by column, the values eventArgs gives the
// other inserts, in eventColumns' order.
func TestEventArraysAreEventArgsByColumn(t *testing.T) {
	pk, ip := int64(7), "192.0.2.1"
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	events := []*Event{
		{UUID: "u1", UserPK: &pk, Username: "alice", User: JSON(`{"pk":7}`), Action: ActionModelCreated, App: "a1",
			Context: JSON(`{"c":1}`), ClientIP: &ip, Created: now, Expires: now.Add(time.Hour), Brand: JSON(`{}`),
			ModelApp: "ma", ModelName: "mn", ModelPK: "42", AuthorizedApp: "aa", BrandName: "bn"},
		{UUID: "u2", Username: "bob", User: JSON(`{"pk":8}`), Action: ActionModelDeleted, App: "a2", Context: JSON(`{}`),
			Created: now.Add(time.Second), Expires: now.Add(2 * time.Hour), Brand: JSON(`{"name":"b"}`)},
	}
	args, columns := eventArgs(events), eventArrays(events)
	if len(columns) != len(eventColumns) {
		t.Fatalf("eventArrays gives %d columns, want %d", len(columns), len(eventColumns))
	}
	for k, column := range columns {
		values := reflect.ValueOf(column)
		if values.Len() != len(events) {
			t.Fatalf("column %d holds %d values, want %d", k, values.Len(), len(events))
		}
		for i := range events {
			if got, want := values.Index(i).Interface(), args[i*len(eventColumns)+k]; !reflect.DeepEqual(got, want) {
				t.Errorf("column %d, event %d: %#v, want %#v", k, i, got, want)
			}
		}
	}
}
