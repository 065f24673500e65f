// Package store keeps users, tokens, OAuth sources and their user connections
// in a SQL database through GORM.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Sentinel errors returned (wrapped) by the store. The HTTP layer maps them
// to responses in one place.
var (
	// ErrNotFound means the object does not exist or is not visible to the caller.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique rule would be broken; see ConflictError.
	ErrConflict = errors.New("conflict")
)

// ConflictError names the unique rule a write would have broken.
type ConflictError struct {
	// Fields are the API field names of the unique rule, in order.
	Fields []string
}

func (e *ConflictError) Error() string {
	return "unique rule on " + strings.Join(e.Fields, ", ") + " broken"
}

// Unwrap lets errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Store is the database handle shared by every request.
type Store struct {
	db      *gorm.DB
	dialect string
}

// Open connects to the database named by url and brings its schema up to
// date. A url of the form sqlite:PATH, file:PATH or a bare path selects
// SQLite (the default).
func Open(url string) (*Store, error) {
	var (
		dialector gorm.Dialector
		dialect   string
	)
	switch {
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=NORMAL&_txlock=immediate"
		dialector, dialect = sqlite.Open(dsn), "sqlite"
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &Store{db: db, dialect: dialect}
	if err := s.migrate(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate() error {
	if err := s.db.AutoMigrate(&User{}, &Token{}, &OAuthSource{}, &Connection{}); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

// Close releases the database connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// DB exposes the GORM handle for tests and tooling.
func (s *Store) DB() *gorm.DB { return s.db }

// Scope limits what a caller may see: everything for a superuser, otherwise
// only objects owned by UserID.
type Scope struct {
	UserID int64
	All    bool
}

// Page selects a window of a list.
type Page struct {
	Offset int
	Limit  int
}

// translate turns driver errors into the store's sentinel errors.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%w", ErrNotFound)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "duplicate key value"), strings.Contains(msg, "SQLSTATE 23505"):
		return &ConflictError{Fields: conflictFields(msg)}
	}
	return err
}

// conflictFields names the API fields of the unique rule in a driver message.
func conflictFields(msg string) []string {
	switch {
	case strings.Contains(msg, "connections.identifier"), strings.Contains(msg, "uq_connection_source_identifier"):
		return []string{"source", "identifier"}
	case strings.Contains(msg, "connections.user_id"), strings.Contains(msg, "uq_connection_user_source"):
		return []string{"user", "source"}
	case strings.Contains(msg, "oauth_sources.slug"), strings.Contains(msg, "idx_oauth_sources_slug"):
		return []string{"slug"}
	case strings.Contains(msg, "tokens.identifier"), strings.Contains(msg, "idx_tokens_identifier"):
		return []string{"identifier"}
	case strings.Contains(msg, "users.username"), strings.Contains(msg, "idx_users_username"):
		return []string{"username"}
	}
	return nil
}

// likePattern escapes s for a LIKE 'contains' match with ESCAPE '\'.
func likePattern(s string) string {
	return "%" + escapeLike(strings.ToLower(s)) + "%"
}

// escapeLike escapes LIKE wildcards in s for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// orderBy builds an ORDER BY from API ordering fields ("-name", ...):
// unknown fields are ignored, def applies when none is known, and tie
// (a unique column) always ends the list so that pages are stable.
func orderBy(fields []string, columns map[string]string, def, tie string) clause.OrderBy {
	var cols []clause.OrderByColumn
	seen := map[string]bool{}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		col, ok := columns[strings.TrimPrefix(f, "-")]
		if !ok || seen[col] {
			continue
		}
		seen[col] = true
		cols = append(cols, clause.OrderByColumn{Column: clause.Column{Name: col}, Desc: strings.HasPrefix(f, "-")})
	}
	if len(cols) == 0 && def != "" {
		seen[def] = true
		cols = append(cols, clause.OrderByColumn{Column: clause.Column{Name: def}})
	}
	if !seen[tie] {
		cols = append(cols, clause.OrderByColumn{Column: clause.Column{Name: tie}})
	}
	return clause.OrderBy{Columns: cols}
}
