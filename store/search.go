package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
// (SQLite's LIKE refuses patterns over 50,000 bytes) and scans. A NULL
// (an event's client_ip) matches no term: akconn_fold takes text only, and
// mattn's driver fails the whole statement on a NULL argument, so NULL is
// read as the empty string.
func (s *Store) contains(column, term string) (string, any) {
	if s.dialect == SQLite {
		return "instr(akconn_fold(COALESCE(" + column + ", '')), ?) > 0", fold(term)
	}
	return "LOWER(" + column + `) LIKE ? ESCAPE '\'`, likePattern(term)
}

// maxIdentifierLength is the longest connection identifier the API
// accepts: a longer term cannot match one.
const maxIdentifierLength = 255

// identifierMatch returns the condition that a connection's identifier
// contains term, and its arguments. On SQLite built with FTS5 (the build
// tag sqlite_fts5, which the Makefile sets) a term of three characters or
// more is looked up in the trigram index connection_search, which folds
// case as akconn_fold does; shorter terms, and SQLite without FTS5, scan.
// On PostgreSQL the trigram index looks up the term, or only its rare
// part when it has one (rarePart), and the whole term is checked on what
// that finds.
func (s *Store) identifierMatch(ctx context.Context, term string) (string, []any) {
	n := utf8.RuneCountInString(term)
	switch {
	case n > maxIdentifierLength:
		return "1 = ?", []any{0}
	case s.dialect == SQLite && s.search.fts && n >= 3:
		return "connections.id IN (SELECT rowid FROM connection_search WHERE connection_search MATCH ?)",
			[]any{`"` + strings.ReplaceAll(term, `"`, `""`) + `"`}
	case s.dialect == Postgres:
		folded := fold(term)
		if part := rarePart(folded, func() []string { return s.identifiersSampled(ctx) }); part != folded {
			return `(LOWER(connections.identifier) LIKE ? ESCAPE '\' AND strpos(LOWER(connections.identifier), ?) > 0)`,
				[]any{likePattern(part), folded}
		}
	}
	cond, arg := s.contains("connections.identifier", term)
	return cond, []any{arg}
}

// searchIndexTable is connection_search: an FTS5 trigram index of the
// connections' identifiers, by id. It keeps no copy of them, and removes
// an entry by its id alone (contentless_delete, SQLite 3.43): a
// connection the index lacks (inserted around the store, by hand) is
// missed by search and nothing worse. Earlier releases indexed the
// connections table as external content, whose removals must name what
// was indexed: removing a row the index lacked corrupted it.
const searchIndexTable = `CREATE VIRTUAL TABLE connection_search USING fts5(identifier, content='', contentless_delete=1, ` +
	`tokenize='trigram case_sensitive 0')`

// searchIndexTriggers keep connection_search in step with the changes and
// removals of connections. Inserts add their own entries
// (indexConnection), most of them in a group commit's one statement.
var searchIndexTriggers = map[string]string{
	"connection_search_delete": `CREATE TRIGGER connection_search_delete AFTER DELETE ON connections BEGIN
		DELETE FROM connection_search WHERE rowid = OLD.id; END`,
	"connection_search_update": `CREATE TRIGGER connection_search_update AFTER UPDATE OF identifier ON connections BEGIN
		DELETE FROM connection_search WHERE rowid = OLD.id;
		INSERT INTO connection_search (rowid, identifier) VALUES (NEW.id, NEW.identifier); END`,
}

// obsoleteSearchTrigger added every inserted connection to the index until
// inserts did so themselves: one entry per savepoint, which FTS5 writes to
// disk at the savepoint's end (deferred).
const obsoleteSearchTrigger = "connection_search_insert"

// prepareSearch readies SQLite's search index. Built with FTS5, the
// store (re)builds connection_search from the connections table when it
// is missing, of an earlier release's kind, or lacks a trigger: a
// database written meanwhile by a build without FTS5 (which drops the
// triggers, so that its writes work) is caught up this way. Without FTS5
// it drops the triggers, whose index it cannot write, and reports that
// search scans.
func (s *Store) prepareSearch() (notice string, err error) {
	if s.dialect != SQLite {
		return "", nil
	}
	var used int
	if err := s.db.Raw("SELECT sqlite_compileoption_used('ENABLE_FTS5')").Scan(&used).Error; err != nil {
		return "", fmt.Errorf("check SQLite options: %w", err)
	}
	s.search.fts = used == 1
	var have []string
	if err := s.db.Raw("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'connection\\_search\\_%' ESCAPE '\\'").Scan(&have).Error; err != nil {
		return "", fmt.Errorf("read search triggers: %w", err)
	}
	if !s.search.fts {
		for _, name := range have {
			if err := s.db.Exec("DROP TRIGGER " + name).Error; err != nil {
				return "", fmt.Errorf("drop search trigger: %w", err)
			}
		}
		return "SQLite without FTS5: substring search on connections scans the table; build with `make build` (go build -tags sqlite_fts5) for an index", nil
	}
	var table []string
	if err := s.db.Raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'connection_search'").Scan(&table).Error; err != nil {
		return "", fmt.Errorf("read the search index: %w", err)
	}
	current := len(table) == 1 && table[0] == searchIndexTable
	whole := current
	for name := range searchIndexTriggers {
		whole = whole && slices.Contains(have, name)
	}
	if whole && !slices.Contains(have, obsoleteSearchTrigger) {
		return "", nil
	}
	return "", s.db.Transaction(func(tx *gorm.DB) error {
		var stmts []string
		for _, name := range append(slices.Sorted(maps.Keys(searchIndexTriggers)), obsoleteSearchTrigger) {
			stmts = append(stmts, "DROP TRIGGER IF EXISTS "+name)
		}
		if !current {
			stmts = append(stmts, "DROP TABLE IF EXISTS connection_search", searchIndexTable)
		}
		for _, name := range slices.Sorted(maps.Keys(searchIndexTriggers)) {
			stmts = append(stmts, searchIndexTriggers[name])
		}
		for _, stmt := range stmts {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("build the search index: %w", err)
			}
		}
		if whole {
			return nil
		}
		return s.rebuildSearch(tx)
	})
}

// rebuildSearch fills SQLite's search index from the connections table
// again, in tx.
func (s *Store) rebuildSearch(tx *gorm.DB) error {
	if s.dialect != SQLite || !s.search.fts {
		return nil
	}
	for _, stmt := range []string{
		"INSERT INTO connection_search (connection_search) VALUES ('delete-all')",
		"INSERT INTO connection_search (rowid, identifier) SELECT id, identifier FROM connections",
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("build the search index: %w", err)
		}
	}
	return nil
}

// searchState is how connection search runs: on SQLite through FTS5
// when the build has it (fts), on PostgreSQL weighing a term's words by a
// sample of the identifiers (rarePart).
type searchState struct {
	fts    bool
	sample identifierSample
}

// searchEntry is a connection's entry in the search index.
type searchEntry struct {
	id         int64
	identifier string
}

// indexConnections adds entries to SQLite's search index with one
// statement, whatever their number. The entries travel as one JSON
// array: read back from the connections table by id instead, SQLite's
// planner scans the table when its statistics are older than its rows.
func (s *Store) indexConnections(tx *gorm.DB, entries []searchEntry) error {
	if s.dialect != SQLite || !s.search.fts || len(entries) == 0 {
		return nil
	}
	list := make([]byte, 0, 32*len(entries))
	list = append(list, '[')
	for i, e := range entries {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, '[')
		list = strconv.AppendInt(list, e.id, 10)
		list = append(list, ',')
		identifier, err := json.Marshal(e.identifier)
		if err != nil {
			return err
		}
		list = append(list, identifier...)
		list = append(list, ']')
	}
	list = append(list, ']')
	return tx.Exec("INSERT INTO connection_search (rowid, identifier) SELECT value ->> 0, value ->> 1 FROM json_each(?)", string(list)).Error
}
