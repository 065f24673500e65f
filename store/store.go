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
	"gorm.io/gorm/logger"

	"akconn/seal"
)

// Store is the database handle shared by every request. Its fields are
// what every backend has; each backend's writer owns its own.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	opts    Options
	// keys seals and opens secrets.
	keys *seal.Keyring
	// writeStmts are the statements of write transactions (txPool).
	writeStmts *stmtCache
	// sources caches OAuth sources for connection reads.
	sources sourceCache
	// byID holds GetConnection's prepared statements.
	byID byIDStatements
	// search says how connection search runs on this backend.
	search  searchState
	notices []string
	// stats counts the batches the writer ran and the writes they carried.
	stats batchStats
	// sqlite is SQLite's single writer (nil on PostgreSQL); postgres
	// batches PostgreSQL's connection creates (nil on SQLite).
	sqlite   *sqliteWriter
	postgres *postgresCreates
	// closed is closed by Close.
	closed    chan struct{}
	closeOnce sync.Once
}

// batchStats counts a writer's batches and the writes they carried.
type batchStats struct {
	commits, writes atomic.Int64
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
	s := &Store{db: db, sqlDB: sqlDB, dialect: dialect, opts: opts, keys: opts.Keyring, closed: make(chan struct{}),
		writeStmts: &stmtCache{db: sqlDB, stmts: map[string]*sql.Stmt{}, preparing: map[string]bool{}}}
	if dialect == SQLite {
		s.sqlite = startSQLiteWriter(s)
	} else {
		s.postgres = startPostgresCreates(s)
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
// two autovacuum runs) makes PostgreSQL compile a query for far longer
// than it runs.
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

// Closed is closed once Close has been called.
func (s *Store) Closed() <-chan struct{} { return s.closed }

// Close finishes the writes under way and releases the database
// connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	if s.sqlite != nil {
		s.sqlite.stop()
	}
	if s.postgres != nil {
		s.postgres.stop()
	}
	s.writeStmts.close()
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// GroupCommits reports how many SQLite commits the writer has made and
// how many writes they carried; on PostgreSQL, how many batch statements
// of connection creates ran and how many creates they inserted.
func (s *Store) GroupCommits() (commits, writes int64) {
	return s.stats.commits.Load(), s.stats.writes.Load()
}

// WriterBusy reports how long SQLite's writer has spent on its batches,
// from the first write taken to the last one answered (0 on PostgreSQL,
// which has no such writer). Every write waits for the writer: when this
// grows nearly as fast as the clock, writes queue behind it.
func (s *Store) WriterBusy() time.Duration {
	if s.sqlite == nil {
		return 0
	}
	return time.Duration(s.sqlite.busy.Load())
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
