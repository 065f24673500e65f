package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// Sentinel errors returned (wrapped) by the store. The HTTP layer maps them
// to responses in one place.
var (
	// ErrNotFound means the object does not exist or is not visible to the caller.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique rule would be broken; see ConflictError.
	ErrConflict = errors.New("conflict")
	// ErrReference means a write names an object that does not exist (a
	// foreign key failed, e.g. a source deleted meanwhile).
	ErrReference = errors.New("referenced object does not exist")
	// ErrUnavailable means the database cannot serve the operation now
	// but may later: it is away (connection refused or reset), shutting
	// down or starting up, out of disk, or locked past the busy timeout.
	// The operation did not happen, unless the connection was lost while
	// PostgreSQL committed it: sent again, a create may then meet itself.
	ErrUnavailable = errors.New("database unavailable")
)

// UniqueRule names a unique rule of the schema.
type UniqueRule string

// The unique rules, each backed by a unique index.
const (
	// UniqueUnknown is a unique rule the store does not name (a primary key).
	UniqueUnknown UniqueRule = ""
	// UniqueConnectionUserSource: a user links to a source at most once.
	UniqueConnectionUserSource UniqueRule = "connection (user, source)"
	// UniqueConnectionSourceIdentifier: an external account belongs to one user.
	UniqueConnectionSourceIdentifier UniqueRule = "connection (source, identifier)"
	UniqueSourceSlug                 UniqueRule = "source slug"
	UniqueSourceManaged              UniqueRule = "source managed"
	UniqueTokenIdentifier            UniqueRule = "token identifier"
	UniqueTokenKey                   UniqueRule = "token key"
	UniqueTokenManaged               UniqueRule = "token managed"
	UniqueUserUsername               UniqueRule = "user username"
	UniqueUserUUID                   UniqueRule = "user uuid"
)

// uniqueIndexes maps each rule's index to the rule, as PostgreSQL names
// it (constraint name), and as SQLite does (its table.column list).
var uniqueIndexes = []struct {
	rule    UniqueRule
	index   string
	columns string
}{
	{UniqueConnectionUserSource, "uq_connection_user_source", "connections.user_id, connections.source_id"},
	{UniqueConnectionSourceIdentifier, "uq_connection_source_identifier", "connections.source_id, connections.identifier"},
	{UniqueSourceSlug, "idx_oauth_sources_slug", "oauth_sources.slug"},
	{UniqueSourceManaged, "idx_oauth_sources_managed", "oauth_sources.managed"},
	{UniqueTokenIdentifier, "idx_tokens_identifier", "tokens.identifier"},
	{UniqueTokenKey, "idx_tokens_key_hash", "tokens.key_hash"},
	{UniqueTokenManaged, "idx_tokens_managed", "tokens.managed"},
	{UniqueUserUsername, "idx_users_username", "users.username"},
	{UniqueUserUUID, "idx_users_uuid", "users.uuid"},
}

// ConflictError names the unique rule a write would have broken.
type ConflictError struct {
	Rule UniqueRule
}

func (e *ConflictError) Error() string {
	if e.Rule == UniqueUnknown {
		return "a unique rule was broken"
	}
	return "unique rule on " + string(e.Rule) + " broken"
}

// Unwrap lets errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// translate turns driver errors into the store's sentinel errors,
// recognising them by their codes: PostgreSQL's SQLSTATE and constraint
// name, SQLite's extended result code, and for a database that is away
// (classify) also the network's. Only SQLite's column list, which it
// reports nowhere else, is read from the message.
func translate(err error) error {
	if err = classify(err); err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%w", ErrNotFound)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505": // unique_violation
			return &ConflictError{Rule: ruleOf(func(i int) bool { return uniqueIndexes[i].index == pg.ConstraintName })}
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w", ErrReference)
		}
		return err
	}
	var lite sqlite3.Error
	if errors.As(err, &lite) {
		switch lite.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			_, columns, _ := strings.Cut(lite.Error(), "constraint failed: ")
			return &ConflictError{Rule: ruleOf(func(i int) bool { return uniqueIndexes[i].columns == columns })}
		case sqlite3.ErrConstraintForeignKey:
			return fmt.Errorf("%w", ErrReference)
		}
	}
	return err
}

// classify returns err wrapped in ErrUnavailable when it says the database
// is unavailable (unavailable), and err as it is otherwise.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Unavailable reports whether err says the database is unavailable:
// ErrUnavailable, or a driver's error of that kind that left the store on
// a path without translate.
func Unavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || unavailable(err)
}

// unavailable reports whether err says the database is away or cannot
// write for now, rather than that the operation is wrong: a connection
// that cannot be made or was lost; PostgreSQL shutting down, starting up,
// in recovery, read-only (a standby), or short of disk, memory or
// connections; SQLite out of disk (SQLITE_FULL), failing to read or write
// its files (SQLITE_IOERR, every extended code), or still locked when its
// busy timeout ran out (SQLITE_BUSY).
func unavailable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"), // connection_exception
			strings.HasPrefix(pg.Code, "53"),                           // insufficient_resources: disk full, out of memory, too many connections
			pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03", // admin or crash shutdown, cannot connect now
			pg.Code == "25006": // read_only_sql_transaction: a standby, e.g. during a failover
			return true
		}
		return false // the server answered: whatever else it says is about the operation
	}
	var lite sqlite3.Error
	if errors.As(err, &lite) {
		return lite.Code == sqlite3.ErrFull || lite.Code == sqlite3.ErrIoErr || lite.Code == sqlite3.ErrBusy
	}
	var connect *pgconn.ConnectError
	var netErr *net.OpError
	return errors.As(err, &connect) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func ruleOf(match func(i int) bool) UniqueRule {
	for i := range uniqueIndexes {
		if match(i) {
			return uniqueIndexes[i].rule
		}
	}
	return UniqueUnknown
}
