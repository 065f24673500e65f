package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"

	"akconn/seal"
)

// openSQLite opens a store on a new SQLite file, closed at the test's end.
func openSQLite(t *testing.T) *Store {
	t.Helper()
	keys, err := seal.New("sqlite-writer-test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(t.TempDir(), "test.db"), Options{Keyring: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// One group commit whose writes create connections (their events and
// index entries deferred), fail after writing, and rename and remove
// connections created earlier in the same batch: the commit holds exactly
// the events and index entries of the writes that succeeded, and the
// index has one entry per connection, as it names it now.
func TestGroupCommitDefersEventsAndIndexEntries(t *testing.T) {
	s := openSQLite(t)
	pk := int64(1)
	ctx := WithAudit(context.Background(), &Audit{User: map[string]any{"pk": 1}, UserPK: &pk, Username: "t"})
	src := &OAuthSource{ID: uuid.NewString(), Name: "src", Slug: "src", ProviderType: "github",
		UserPropertyMappings: []string{}, GroupPropertyMappings: []string{}, OIDCJWKS: map[string]any{}}
	if err := s.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	var users []*User
	for i := 0; i < 5; i++ {
		u := NewUser(fmt.Sprintf("user-%d", i), false)
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	conns := make([]*Connection, len(users))
	audit := auditOf(ctx)
	create := func(i int, fail bool) writeJob {
		return writeJob{audit: audit, leavesConnections: true, fn: func(tx *writeTx) error {
			conns[i] = &Connection{UserID: users[i].ID, SourceID: src.ID, Identifier: fmt.Sprintf("ext-%d", i)}
			if err := tx.db.Create(conns[i]).Error; err != nil {
				return err
			}
			if err := tx.addConnection(conns[i]); err != nil {
				return err
			}
			if err := tx.record(ActionModelCreated, conns[i], nil); err != nil {
				return err
			}
			if fail {
				return errors.New("fails after writing")
			}
			return nil
		}}
	}
	change := func(stmt string, i int) writeJob {
		return writeJob{audit: audit, fn: func(tx *writeTx) error {
			return tx.db.Exec(stmt, conns[i].ID).Error
		}}
	}
	batch := []writeJob{
		create(0, false),
		create(1, false),
		create(2, true),
		change("UPDATE connections SET identifier = 'renamed' WHERE id = ?", 0),
		change("DELETE FROM connections WHERE id = ?", 1),
		create(3, false),
		create(4, false),
		change("DELETE FROM connections WHERE id = ?", 4),
	}
	// A writer of its own: the store's own may run its queue meanwhile.
	w := &sqliteWriter{s: s, conn: writerConn{db: s.sqlDB}}
	defer w.conn.close()
	errs, err := w.commit(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if (err != nil) != (i == 2) {
			t.Errorf("write %d: %v", i, err)
		}
	}

	var indexed []int64
	if err := s.db.Raw("SELECT rowid FROM connection_search ORDER BY rowid").Scan(&indexed).Error; err != nil {
		t.Fatal(err)
	}
	if want := []int64{conns[0].ID, conns[3].ID}; s.search.fts && !slices.Equal(indexed, want) {
		t.Errorf("index entries %v, want %v (connections 0 and 3)", indexed, want)
	}
	for term, want := range map[string][]int64{"renamed": {conns[0].ID}, "ext-": {conns[3].ID}, "ext-1": nil} {
		rows, _, err := s.ListConnections(context.Background(), ConnectionFilter{Scope: Scope{All: true}, Search: term}, Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rows {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q: %v, want %v", term, got, want)
		}
	}
	var created []string
	if err := s.db.Model(&Event{}).Where("action = ? AND model_name = ?", ActionModelCreated, "useroauthsourceconnection").
		Order("model_pk").Pluck("model_pk", &created).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprint(conns[0].ID), fmt.Sprint(conns[1].ID), fmt.Sprint(conns[3].ID), fmt.Sprint(conns[4].ID)}
	slices.Sort(want)
	if !slices.Equal(created, want) {
		t.Errorf("model_created events of connections %v, want %v (not the failed write's)", created, want)
	}
	var counted, stored int64
	if err := s.db.Raw("SELECT n FROM event_counts WHERE scope = ''").Scan(&counted).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.db.Model(&Event{}).Count(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if counted != stored {
		t.Errorf("%d events counted, %d stored", counted, stored)
	}
}

// A group commit one of whose writes finds the disk full fails as
// ErrUnavailable for every write of the batch, also when SQLite rolled the
// whole transaction back and what fails next is the write's savepoint:
// the INSERT … RETURNING every SQLite connection create runs reports its
// error through its row, which the transaction's pool never sees.
func TestGroupCommitOnAFullDiskIsUnavailable(t *testing.T) {
	s := openSQLite(t)
	if err := s.db.Exec("CREATE TABLE blobs (v BLOB)").Error; err != nil {
		t.Fatal(err)
	}
	insert := func(size int) writeJob {
		return writeJob{leavesConnections: true, fn: func(tx *writeTx) error {
			var id int64
			return tx.db.Raw("INSERT INTO blobs VALUES (zeroblob(?)) RETURNING rowid", size).Row().Scan(&id)
		}}
	}
	full := writeJob{leavesConnections: true, fn: func(tx *writeTx) error {
		var pages int64
		if err := tx.db.Raw("PRAGMA page_count").Row().Scan(&pages); err != nil {
			return err
		}
		if err := tx.db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)).Error; err != nil {
			return err
		}
		err := insert(1 << 20).fn(tx)
		if !Unavailable(err) {
			return fmt.Errorf("the disk did not fill: %v", err)
		}
		// What SQLite may do on SQLITE_FULL: roll back the transaction.
		if rerr := tx.db.Exec("ROLLBACK").Error; rerr != nil {
			return rerr
		}
		return err
	}}
	w := &sqliteWriter{s: s, conn: writerConn{db: s.sqlDB}}
	defer w.conn.close()
	errs, err := w.commit([]writeJob{insert(10), full, insert(10)})
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if !Unavailable(err) { // what translate makes ErrUnavailable
			t.Errorf("write %d: %v, want the database unavailable", i, err)
		}
	}
	var stored int64
	if err := s.db.Raw("SELECT COUNT(*) FROM blobs").Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Errorf("%d rows stored by a batch that failed", stored)
	}
}
