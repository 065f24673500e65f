package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// A database that is away, full or locked is ErrUnavailable, as the
// drivers report it; an operation the database refuses is not.
func TestUnavailableErrors(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "full.db")
	full, err := sql.Open(sqliteDriver, "file:"+path+"?_journal_mode=WAL&_txlock=immediate&_busy_timeout=50")
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	full.SetMaxOpenConns(1) // max_page_count holds for one connection
	for _, q := range []string{"CREATE TABLE t (v BLOB)", "PRAGMA max_page_count = 8"} {
		if _, err := full.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, diskFull := full.Exec("INSERT INTO t VALUES (zeroblob(100000))")

	locker, err := sql.Open(sqliteDriver, "file:"+path+"?_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	lock, err := locker.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	_, busy := full.Exec("INSERT INTO t VALUES (1)")
	_ = lock.Rollback()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	away, err := sql.Open("pgx", "postgres://postgres@"+closedPort+"/x?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer away.Close()
	refused := away.PingContext(ctx)

	_, unique := full.Exec("CREATE TABLE u (v INTEGER UNIQUE); INSERT INTO u VALUES (1); INSERT INTO u VALUES (1)")

	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLITE_FULL", diskFull, true},
		{"SQLITE_BUSY past the busy timeout", busy, true},
		{"SQLITE_IOERR_WRITE", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrWrite}, true},
		{"connection refused", refused, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"disk full", &pgconn.PgError{Code: "53100"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"query canceled", &pgconn.PgError{Code: "57014"}, false},
		{"SQLite unique", unique, false},
		{"canceled", context.Canceled, false},
		{"other", errors.New("boom"), false},
	} {
		if c.err == nil {
			t.Errorf("%s: the driver reported no error", c.name)
			continue
		}
		got := translate(fmt.Errorf("wrapped: %w", c.err))
		if errors.Is(got, ErrUnavailable) != c.want {
			t.Errorf("%s (%v): translated to %v, unavailable should be %v", c.name, c.err, got, c.want)
		}
		if c.want && (!errors.Is(translate(got), ErrUnavailable) || strings.Count(translate(got).Error(), ErrUnavailable.Error()) != 1) {
			t.Errorf("%s: translated twice: %v", c.name, translate(got))
		}
	}
}
