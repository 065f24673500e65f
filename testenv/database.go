package testenv

import (
	"path/filepath"
	"testing"

	"akconn/seal"
	"akconn/store"
	"akconn/testenv/pgtest"
)

// Environment variables that point the tests at PostgreSQL (see pgtest).
const (
	// BackendEnv selects the backend every test store uses: "sqlite"
	// (default) or "postgres".
	BackendEnv = pgtest.BackendEnv
	// PostgresURLEnv is a PostgreSQL URL the tests may create schemas in.
	PostgresURLEnv = pgtest.URLEnv
)

// Backend is the backend test stores use.
func Backend() string {
	if pgtest.Selected() {
		return store.Postgres
	}
	return store.SQLite
}

// PostgresURL returns the test PostgreSQL URL, or skips the test with a
// message saying how to run it (fails it when AKCONN_REQUIRE_POSTGRES=1).
func PostgresURL(t testing.TB) string {
	t.Helper()
	return pgtest.URL(t)
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
	return pgtest.NewSchema(t)
}
