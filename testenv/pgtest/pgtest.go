// Package pgtest gives a test a PostgreSQL schema of its own, and decides
// what a test does when there is no PostgreSQL: it skips with a message,
// unless AKCONN_REQUIRE_POSTGRES=1 (CI sets it), when it fails. It imports
// nothing of the server's, so that the store's own tests can use it.
package pgtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Environment variables that point the tests at PostgreSQL.
const (
	// BackendEnv selects the backend every test store uses: "sqlite"
	// (default) or "postgres".
	BackendEnv = "AKCONN_TEST_BACKEND"
	// URLEnv is a PostgreSQL URL the tests may create schemas in.
	URLEnv = "AKCONN_TEST_POSTGRES_URL"
	// RequireEnv, set to 1, turns every skip for want of PostgreSQL into
	// a failure: CI sets it, so that a green run has run them all.
	RequireEnv = "AKCONN_REQUIRE_POSTGRES"
)

// Selected says whether the tests run on PostgreSQL (AKCONN_TEST_BACKEND).
func Selected() bool { return os.Getenv(BackendEnv) == "postgres" }

// Required says whether a missing PostgreSQL fails the tests.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing ends a test that cannot run for want of PostgreSQL (or one of
// its tools): a skip with the reason, or a failure when Required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s; %s=1 requires PostgreSQL", reason, RequireEnv)
	}
	t.Skip(reason)
}

// URL returns the test PostgreSQL URL, or ends the test (Missing) with a
// message saying how to provide one.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(URLEnv)
	if u == "" {
		Missing(t, "PostgreSQL not configured: set %s (make test does when PostgreSQL answers on 127.0.0.1:5432)", URLEnv)
	}
	return u
}

// NewSchema creates an empty schema of its own for the test, dropped at
// its end, and returns URL with search_path set to it, so tests can run in
// parallel, from several checkouts at once.
func NewSchema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "akconn_test_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error
		if db, err := admin.DB(); err == nil {
			_ = db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", URLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
