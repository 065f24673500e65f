package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"akconn/seal"
	"akconn/store"
)

// Environment variables that point the tests at PostgreSQL.
const (
	// BackendEnv selects the backend every test store uses: "sqlite"
	// (default) or "postgres".
	BackendEnv = "AKCONN_TEST_BACKEND"
	// PostgresURLEnv is a PostgreSQL URL the tests may create schemas in.
	PostgresURLEnv = "AKCONN_TEST_POSTGRES_URL"
)

// Backend is the backend test stores use.
func Backend() string {
	if os.Getenv(BackendEnv) == store.Postgres {
		return store.Postgres
	}
	return store.SQLite
}

// PostgresURL returns the test PostgreSQL URL, or skips the test with a
// message saying how to run it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresURLEnv)
	if u == "" {
		t.Skipf("PostgreSQL not configured: set %s (make test does when PostgreSQL answers on 127.0.0.1:5432)", PostgresURLEnv)
	}
	return u
}

// OpenStore opens a fresh, migrated store on the selected backend: a
// SQLite file in t.TempDir(), or a PostgreSQL schema of its own (dropped
// at the end of the test), so tests can run in parallel.
func OpenStore(t testing.TB) *store.Store {
	t.Helper()
	return OpenStoreOn(t, Backend())
}

// OpenStoreOn is OpenStore on a named backend.
func OpenStoreOn(t testing.TB, backend string) *store.Store {
	t.Helper()
	st, err := store.Open(DatabaseURL(t, backend), store.Options{MaxOpenConns: 8, Keyring: Keyring(t)})
	if err != nil {
		t.Fatalf("open %s store: %v", backend, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// SecretKey is the key test stores seal their secrets with.
const SecretKey = "akconn-test-secret-key-0123456789abcdef"

// Keyring returns a keyring holding SecretKey.
func Keyring(t testing.TB) *seal.Keyring {
	t.Helper()
	k, err := seal.New(SecretKey)
	if err != nil {
		t.Fatalf("test keyring: %v", err)
	}
	return k
}

// DatabaseURL returns a URL for a fresh, empty database on backend.
func DatabaseURL(t testing.TB, backend string) string {
	t.Helper()
	if backend != store.Postgres {
		return filepath.Join(t.TempDir(), "test.db")
	}
	base := PostgresURL(t)
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
		t.Fatalf("parse %s: %v", PostgresURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
