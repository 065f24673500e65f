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
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
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
		if Unavailable(fmt.Errorf("untranslated: %w", c.err)) != c.want {
			t.Errorf("%s (%v): Unavailable should be %v", c.name, c.err, c.want)
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

// fullSQLite opens, through GORM as Open does, a SQLite database whose
// one connection may not grow it past 8 pages: a real SQLITE_FULL.
func fullSQLite(t *testing.T) (*gorm.DB, *sql.DB) {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "full.db") + "?_journal_mode=WAL&_txlock=immediate"
	db, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: dsn}), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })
	sqlDB.SetMaxOpenConns(1)
	for _, q := range []string{"CREATE TABLE t (v BLOB)", "PRAGMA max_page_count = 8"} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	return db, sqlDB
}

// A transaction one of whose statements found the database unavailable
// fails as ErrUnavailable, even when what fails last is another error (a
// savepoint SQLite's rollback of the whole transaction took away).
func TestTransactionReportsUnavailable(t *testing.T) {
	db, sqlDB := fullSQLite(t)
	s := &Store{db: db, sqlDB: sqlDB, writeStmts: &stmtCache{db: sqlDB, stmts: map[string]*sql.Stmt{}, preparing: map[string]bool{}}}
	defer s.writeStmts.close()
	err := s.transaction(context.Background(), func(tx *gorm.DB) error {
		_ = tx.Exec("INSERT INTO t VALUES (zeroblob(100000))").Error
		return errors.New("no such savepoint: job")
	})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no such savepoint") {
		t.Errorf("transaction: %v", err)
	}
	err = s.transaction(context.Background(), func(tx *gorm.DB) error { return errors.New("refused") })
	if err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("a transaction refused for its own reason: %v", err)
	}
}
