//go:build sqlite_fts5

package store_test

// ftsBuild says whether this test binary has SQLite's FTS5 (make test
// builds with the tag sqlite_fts5).
const ftsBuild = true
