package store

import (
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// sqliteDriver is the SQLite driver the store opens: mattn's, with the
// function akconn_fold (Unicode lower case, as Go's strings.ToLower) on
// every connection, so that search folds case as PostgreSQL's LOWER does
// (SQLite's own LOWER folds ASCII only).
const sqliteDriver = "akconn_sqlite3"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		return conn.RegisterFunc("akconn_fold", strings.ToLower, true)
	}})
}

// fold is what a search term becomes before it is matched: the term of
// akconn_fold and of PostgreSQL's LOWER.
func fold(term string) string { return strings.ToLower(term) }

// contains returns a condition that column holds term, ignoring case, and
// its argument. Both backends fold every letter: PostgreSQL matches
// LOWER(column) LIKE '%term%', which its trigram indexes serve; SQLite
// uses instr on akconn_fold, which has no limit on the term's length
// (SQLite's LIKE refuses patterns over 50,000 bytes) and scans.
func (s *Store) contains(column, term string) (string, any) {
	if s.dialect == SQLite {
		return "instr(akconn_fold(" + column + "), ?) > 0", fold(term)
	}
	return "LOWER(" + column + `) LIKE ? ESCAPE '\'`, likePattern(term)
}

// maxIdentifierLength is the longest connection identifier the API
// accepts: a longer term cannot match one.
const maxIdentifierLength = 255

// identifierMatch returns the condition that a connection's identifier
// contains term, and its argument. On SQLite built with FTS5 (the build
// tag sqlite_fts5, which the Makefile sets) a term of three characters or
// more is looked up in the trigram index connection_search, which folds
// case as akconn_fold does; shorter terms, and SQLite without FTS5, scan.
func (s *Store) identifierMatch(term string) (string, any) {
	n := utf8.RuneCountInString(term)
	switch {
	case n > maxIdentifierLength:
		return "1 = ?", 0
	case s.dialect == SQLite && s.fts && n >= 3:
		return "connections.id IN (SELECT rowid FROM connection_search WHERE connection_search MATCH ?)",
			`"` + strings.ReplaceAll(term, `"`, `""`) + `"`
	}
	return s.contains("connections.identifier", term)
}

// searchIndexTriggers keep connection_search (an FTS5 index of the
// identifiers whose content is the connections table) in step with every
// write to connections.
var searchIndexTriggers = map[string]string{
	"connection_search_insert": `CREATE TRIGGER connection_search_insert AFTER INSERT ON connections BEGIN
		INSERT INTO connection_search (rowid, identifier) VALUES (NEW.id, NEW.identifier); END`,
	"connection_search_delete": `CREATE TRIGGER connection_search_delete AFTER DELETE ON connections BEGIN
		INSERT INTO connection_search (connection_search, rowid, identifier) VALUES ('delete', OLD.id, OLD.identifier); END`,
	"connection_search_update": `CREATE TRIGGER connection_search_update AFTER UPDATE OF identifier ON connections BEGIN
		INSERT INTO connection_search (connection_search, rowid, identifier) VALUES ('delete', OLD.id, OLD.identifier);
		INSERT INTO connection_search (rowid, identifier) VALUES (NEW.id, NEW.identifier); END`,
}

// prepareSearch readies SQLite's search index. Built with FTS5, the
// store creates connection_search and its triggers when they are missing
// and rebuilds the index from the connections table then: a database
// written meanwhile by a build without FTS5 (which drops the triggers, so
// that its writes work) is caught up this way. Without FTS5 it drops the
// triggers, whose index it cannot write, and reports that search scans.
func (s *Store) prepareSearch() (notice string, err error) {
	if s.dialect != SQLite {
		return "", nil
	}
	var used int
	if err := s.db.Raw("SELECT sqlite_compileoption_used('ENABLE_FTS5')").Scan(&used).Error; err != nil {
		return "", fmt.Errorf("check SQLite options: %w", err)
	}
	s.fts = used == 1
	var have []string
	if err := s.db.Raw("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'connection\\_search\\_%' ESCAPE '\\'").Scan(&have).Error; err != nil {
		return "", fmt.Errorf("read search triggers: %w", err)
	}
	if !s.fts {
		for _, name := range have {
			if err := s.db.Exec("DROP TRIGGER " + name).Error; err != nil {
				return "", fmt.Errorf("drop search trigger: %w", err)
			}
		}
		return "SQLite without FTS5: substring search on connections scans the table; build with `make build` (go build -tags sqlite_fts5) for an index", nil
	}
	if len(have) == len(searchIndexTriggers) {
		return "", nil
	}
	return "", s.db.Transaction(func(tx *gorm.DB) error {
		stmts := []string{
			`CREATE VIRTUAL TABLE IF NOT EXISTS connection_search USING fts5(identifier, content='connections', content_rowid='id', tokenize='trigram case_sensitive 0')`,
			`INSERT INTO connection_search (connection_search) VALUES ('rebuild')`,
		}
		for name, create := range searchIndexTriggers {
			stmts = append(stmts, "DROP TRIGGER IF EXISTS "+name, create)
		}
		for _, stmt := range stmts {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("build the search index: %w", err)
			}
		}
		return nil
	})
}
