// Package store keeps users, tokens, OAuth sources and their user connections
// in a SQL database through GORM.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"akconn/seal"
)

// Store is the database handle shared by every request.
type Store struct {
	db    *gorm.DB
	sqlDB *sql.DB
	// writeStmts are the statements of write transactions (txPool).
	writeStmts *stmtCache
	dialect    string
	opts       Options
	// keys seals and opens secrets.
	keys *seal.Keyring
	// sources caches OAuth sources for connection reads.
	sources sourceCache
	// byID holds GetConnection's prepared statements.
	byID byIDStatements
	// connectionIDs are connection ids reserved on PostgreSQL.
	connectionIDs idBlock
	// sample holds identifiers PostgreSQL's search weighs a term's words
	// by (rarePart).
	sample identifierSample
	// fts says whether SQLite has FTS5, which serves connection search.
	fts     bool
	notices []string
	// writes feeds SQLite's group-committing writer (nil on PostgreSQL).
	writes     chan *writeJob
	writerDone chan struct{}
	writerMu   sync.RWMutex
	// creates batches PostgreSQL's connection creates (nil on SQLite).
	creates *createBatcher
	// groupCommits and groupedWrites count the writer's commits and the
	// writes they carried.
	groupCommits, groupedWrites atomic.Int64
	// writerBusy is how long, in nanoseconds, SQLite's writer has spent on
	// its batches.
	writerBusy atomic.Int64
}

// Options tune the connection pool and start-up.
type Options struct {
	// MaxOpenConns caps open connections (0: 2×CPU+2 for SQLite, 25 for PostgreSQL).
	MaxOpenConns int
	// MaxIdleConns caps idle connections (0: MaxOpenConns).
	MaxIdleConns int
	// ConnMaxLifetime recycles connections (0: 30 minutes).
	ConnMaxLifetime time.Duration
	// SkipMigrations leaves the schema as it is; by default Open applies
	// pending migrations.
	SkipMigrations bool
	// SQLiteSynchronous is SQLite's synchronous mode: FULL (default: every
	// commit is fsynced) or NORMAL (faster; safe against a killed process,
	// but a power loss may roll back the last commits).
	SQLiteSynchronous string
	// Keyring seals and opens the secrets the store keeps (required): its
	// first key seals new values, every key opens old ones.
	Keyring *seal.Keyring
}

// Dialect names a database backend.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Open connects to the database named by url and, unless told not to,
// applies pending migrations. postgres:// and postgresql:// URLs select
// PostgreSQL (through pgx); anything else is a SQLite file path, optionally
// prefixed with sqlite: or file: (the default backend).
func Open(url string, opts Options) (*Store, error) {
	if opts.Keyring == nil {
		return nil, errors.New("open store: no secret keys (Options.Keyring)")
	}
	var (
		dialector gorm.Dialector
		dialect   string
	)
	switch {
	case IsPostgres(url):
		dialector, dialect = postgres.New(postgres.Config{DSN: withoutJIT(url)}), Postgres
		if opts.MaxOpenConns == 0 {
			opts.MaxOpenConns = 25
		}
	default:
		path := SQLitePath(url)
		if err := createOwnerOnly(path); err != nil {
			return nil, err
		}
		// WAL lets readers run beside the one writer; BEGIN IMMEDIATE takes the
		// write lock up front so concurrent writers queue on busy_timeout
		// instead of failing with "database is locked"; synchronous=FULL makes
		// every acknowledged commit durable (docs/DURABILITY.md).
		opts.SQLiteSynchronous = strings.ToUpper(opts.SQLiteSynchronous)
		switch opts.SQLiteSynchronous {
		case "":
			opts.SQLiteSynchronous = "FULL"
		case "FULL", "NORMAL":
		default:
			return nil, fmt.Errorf("SQLite synchronous mode %q: want FULL or NORMAL", opts.SQLiteSynchronous)
		}
		dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=30000&_synchronous=" + opts.SQLiteSynchronous + "&_txlock=immediate&_secure_delete=on"
		dialector, dialect = sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: dsn}), SQLite
		if opts.MaxOpenConns == 0 {
			opts.MaxOpenConns = 2*runtime.NumCPU() + 2
		}
	}
	if opts.MaxIdleConns == 0 {
		opts.MaxIdleConns = opts.MaxOpenConns
	}
	if opts.ConnMaxLifetime == 0 {
		opts.ConnMaxLifetime = 30 * time.Minute
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            true,
		// Clients shape some statements (IN lists, orderings), so the cache of
		// prepared statements is bounded.
		PrepareStmtMaxSize: 500,
		PrepareStmtTTL:     10 * time.Minute,
		NowFunc:            func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err == nil {
		err = classifyStatements(db)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(opts.ConnMaxLifetime)
	s := &Store{db: db, sqlDB: sqlDB, dialect: dialect, opts: opts, keys: opts.Keyring,
		writeStmts: &stmtCache{db: sqlDB, stmts: map[string]*sql.Stmt{}, preparing: map[string]bool{}}}
	if dialect == SQLite {
		s.startWriter()
	} else {
		s.startCreates()
	}
	if opts.SkipMigrations {
		err = s.ready(context.Background())
	} else {
		_, err = s.Migrate(context.Background(), MigrateUp) // ends with ready
	}
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// ready prepares what the schema holds, in this order: it refuses keys
// that cannot open the sealed values (ErrWrongKey) before anything is
// written, seals what an earlier release left in plaintext, prepares the
// connection read statements, and readies SQLite's search index. A step
// whose tables an older schema lacks is skipped (until `migrate up`).
func (s *Store) ready(ctx context.Context) error {
	m := s.db.Migrator()
	if m.HasTable(&SecretKey{}) {
		if err := s.checkKeys(ctx); err != nil {
			return err
		}
		if err := s.sealPlaintext(ctx, nil); err != nil {
			return err
		}
	}
	if !m.HasTable(&Connection{}) {
		return nil
	}
	if s.byID.all == nil {
		sqlDB, err := s.db.DB()
		if err != nil {
			return err
		}
		if err := s.prepareByID(sqlDB); err != nil {
			return err
		}
	}
	notice, err := s.prepareSearch()
	if err != nil {
		return err
	}
	if notice != "" && len(s.notices) == 0 {
		s.notices = append(s.notices, notice)
	}
	return nil
}

// withoutJIT turns PostgreSQL's JIT compilation off for the server's
// sessions unless the URL says otherwise (jit=on): every query here reads
// a page, and a cost estimate inflated by dead rows (the counters between
// two autovacuum runs) can make PostgreSQL compile such a read, which
// takes far longer than the read.
func withoutJIT(dsn string) string {
	u, err := neturl.Parse(dsn)
	if err != nil || u.Query().Has("jit") {
		return dsn
	}
	q := u.Query()
	q.Set("jit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// SQLitePath is the file a SQLite database URL names.
func SQLitePath(url string) string {
	return strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
}

// createOwnerOnly creates a new SQLite database file, and the directories
// above it, readable by their owner only (0600 and 0700): SQLite gives its
// -wal and -shm files the database file's mode. An existing file keeps its
// mode.
func createOwnerOnly(path string) error {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	return f.Close()
}

// Notices returns what the store has to tell an operator about how it
// runs (e.g. that search scans without FTS5), for the log at start.
func (s *Store) Notices() []string { return s.notices }

// Options returns the options the store runs with, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// Dialect returns SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// Close finishes the writes under way and releases the database
// connections.
func (s *Store) Close() error {
	s.stopWriter()
	s.stopCreates()
	s.writeStmts.close()
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers; ErrUnavailable says it is away.
func (s *Store) Ping(ctx context.Context) error {
	return translate(s.sqlDB.PingContext(ctx))
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

// searchAny keeps the rows of q where any of columns contains term.
func (s *Store) searchAny(q *gorm.DB, term string, columns ...string) *gorm.DB {
	conds := make([]string, len(columns))
	args := make([]any, len(columns))
	for i, c := range columns {
		conds[i], args[i] = s.contains(c, term)
	}
	return q.Where(strings.Join(conds, " OR "), args...)
}

// likePattern escapes s for a LIKE 'contains' match with ESCAPE '\'.
func likePattern(s string) string {
	return "%" + escapeLike(strings.ToLower(s)) + "%"
}

// valuesRow is one row of an INSERT's VALUES with n parameters: "(?, ?, …)".
func valuesRow(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// escapeLike escapes LIKE wildcards in s for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// orderBy builds an ORDER BY from API ordering fields ("-name", ...):
// unknown and repeated fields are ignored, defaults apply when no field is
// known, and tie (a unique field) always ends the list, so that pages are
// stable; it runs the same way as the first key, so that one index can
// serve the whole ORDER BY.
func orderBy(fields []string, columns map[string]clause.Column, defaults []string, tie string) clause.OrderBy {
	var cols []clause.OrderByColumn
	seen := map[string]bool{}
	add := func(fields []string) {
		for _, f := range fields {
			f = strings.TrimSpace(f)
			name := strings.TrimPrefix(f, "-")
			col, ok := columns[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			cols = append(cols, clause.OrderByColumn{Column: col, Desc: strings.HasPrefix(f, "-")})
		}
	}
	add(fields)
	if len(cols) == 0 {
		add(defaults)
	}
	if !seen[tie] {
		if len(cols) > 0 && cols[0].Desc {
			tie = "-" + tie
		}
		add([]string{tie})
	}
	return clause.OrderBy{Columns: cols}
}

// listPage counts the rows of count and, unless the page lies past the
// end, fetches the page of rows with read. Every list of the API goes
// through it.
func listPage[T any](what string, count *gorm.DB, read func(*gorm.DB) ([]T, error), rows *gorm.DB, p Page) ([]T, int64, error) {
	var total int64
	if err := count.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", what, translate(err))
	}
	if total == 0 || p.Offset >= int(total) {
		return []T{}, total, nil
	}
	out, err := read(rows.Offset(p.Offset).Limit(p.Limit))
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, translate(err))
	}
	return out, total, nil
}

// find reads rows with GORM.
func find[T any](q *gorm.DB) ([]T, error) {
	var out []T
	return out, q.Find(&out).Error
}

// eq pairs a column with a filter's field: a *string, *bool or *time.Time,
// nil when the filter does not use it.
type eq struct {
	column string
	value  any
}

// equalities returns a condition for each field that is set, in the order
// given, so that the same filter always makes the same SQL.
func equalities(table string, fields ...eq) []clause.Eq {
	var out []clause.Eq
	for _, f := range fields {
		var v any
		switch p := f.value.(type) {
		case *string:
			if p != nil {
				v = *p
			}
		case *bool:
			if p != nil {
				v = *p
			}
		case *time.Time:
			if p != nil {
				v = p.UTC()
			}
		}
		if v != nil {
			out = append(out, clause.Eq{Column: clause.Column{Table: table, Name: f.column}, Value: v})
		}
	}
	return out
}
