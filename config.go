package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"akconn/store"
)

// Config is the configuration of every subcommand. Each setting is a flag
// with an environment variable, registered by one of the groups below
// (databaseFlags, serveFlags), so that a setting added to a group reaches
// every command that registers it.
type Config struct {
	// Database is a SQLite file path or a postgres:// URL.
	Database string
	// Store tunes the connection pool and SQLite's durability.
	Store store.Options

	// Addr is the listen address of serve.
	Addr string
	// ResponseValidation is enforce, log or off.
	ResponseValidation string
	// AuthCacheTTL is how long verified API tokens are remembered.
	AuthCacheTTL time.Duration
	// PprofAddr serves net/http/pprof when set.
	PprofAddr string
	// BootstrapToken creates superuser akadmin with this token key.
	BootstrapToken string
}

// defaultDatabase is the SQLite file used when no database is named.
const defaultDatabase = "data/akconn.db"

// DefaultConfig returns the settings used when neither a flag nor its
// environment variable says otherwise.
func DefaultConfig() Config {
	return Config{
		Database:           defaultDatabase,
		Store:              store.Options{ConnMaxLifetime: 30 * time.Minute, SQLiteSynchronous: "FULL"},
		Addr:               "127.0.0.1:9000",
		ResponseValidation: "enforce",
		AuthCacheTTL:       5 * time.Second,
	}
}

// databaseFlags registers the database settings, which every subcommand
// takes.
func (c *Config) databaseFlags(fs *flagSet) {
	fs.StringVar(&c.Database, "database", "DATABASE_URL", c.Database,
		"database: a SQLite file path, or a postgres:// URL")
	fs.IntVar(&c.Store.MaxOpenConns, "db-max-open-conns", "DB_MAX_OPEN_CONNS", c.Store.MaxOpenConns,
		"most open database connections; 0: 2×CPU+2 for SQLite, 25 for PostgreSQL")
	fs.IntVar(&c.Store.MaxIdleConns, "db-max-idle-conns", "DB_MAX_IDLE_CONNS", c.Store.MaxIdleConns,
		"most idle database connections; 0: as many as open")
	fs.DurationVar(&c.Store.ConnMaxLifetime, "db-conn-max-lifetime", "DB_CONN_MAX_LIFETIME", c.Store.ConnMaxLifetime,
		"recycle database connections after this long")
	fs.StringVar(&c.Store.SQLiteSynchronous, "sqlite-synchronous", "SQLITE_SYNCHRONOUS", c.Store.SQLiteSynchronous,
		"SQLite: FULL fsyncs every commit; NORMAL is faster but a power loss may roll back the last commits")
}

// serveFlags registers the settings of the server itself.
func (c *Config) serveFlags(fs *flagSet) {
	fs.StringVar(&c.Addr, "addr", "ADDR", c.Addr, "listen address")
	fs.BoolVar(&c.Store.SkipMigrations, "no-migrate", "NO_MIGRATE", c.Store.SkipMigrations,
		"do not apply pending migrations at start")
	fs.StringVar(&c.ResponseValidation, "response-validation", "RESPONSE_VALIDATION", c.ResponseValidation,
		"what to do with a response that breaks the spec: enforce (500), log, or off")
	fs.DurationVar(&c.AuthCacheTTL, "auth-cache-ttl", "AUTH_CACHE_TTL", c.AuthCacheTTL,
		"remember verified API tokens this long; revocation through another replica takes effect within it (0: off)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "PPROF_ADDR", c.PprofAddr,
		"serve net/http/pprof on this address, e.g. 127.0.0.1:6060 (off when empty)")
	fs.StringVar(&c.BootstrapToken, "bootstrap-token", "BOOTSTRAP_TOKEN", c.BootstrapToken,
		"create superuser akadmin with this API token key")
}

// storeOpened is called with every store a subcommand opens; tests use it
// to look at the settings the store really runs with.
var storeOpened = func(*store.Store) {}

// openStore opens the configured database with the configured options.
func (c *Config) openStore() (*store.Store, error) {
	st, err := store.Open(c.Database, c.Store)
	if err != nil {
		return nil, err
	}
	storeOpened(st)
	return st, nil
}

// flagSet is a flag.FlagSet in which every flag has an environment
// variable: a flag not given on the command line takes the variable's
// value when it is set. It takes no positional arguments.
type flagSet struct {
	*flag.FlagSet
	env map[string]string // flag name → environment variable
}

// newFlagSet returns an empty flag set for command, whose usage text is
// usage followed by the flags.
func newFlagSet(command, usage string, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(command, flag.ContinueOnError), env: map[string]string{}}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		if fs.hasFlags() {
			fmt.Fprint(stderr, "\nFlags (each may also be set by the environment variable shown):\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func (fs *flagSet) hasFlags() bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func (fs *flagSet) register(name, env string) string {
	fs.env[name] = env
	return " (" + env + ")"
}

// StringVar defines a string flag with an environment variable.
func (fs *flagSet) StringVar(p *string, name, env, def, usage string) {
	fs.FlagSet.StringVar(p, name, def, usage+fs.register(name, env))
}

// IntVar defines an int flag with an environment variable.
func (fs *flagSet) IntVar(p *int, name, env string, def int, usage string) {
	fs.FlagSet.IntVar(p, name, def, usage+fs.register(name, env))
}

// BoolVar defines a bool flag with an environment variable (true/false).
func (fs *flagSet) BoolVar(p *bool, name, env string, def bool, usage string) {
	fs.FlagSet.BoolVar(p, name, def, usage+fs.register(name, env))
}

// DurationVar defines a duration flag with an environment variable.
func (fs *flagSet) DurationVar(p *time.Duration, name, env string, def time.Duration, usage string) {
	fs.FlagSet.DurationVar(p, name, def, usage+fs.register(name, env))
}

// errUsage means the command line was wrong and the usage was printed.
var errUsage = errors.New("usage")

// parse reads args, then the environment variables of the flags args did
// not give. It returns flag.ErrHelp for -h, and errUsage (having printed
// why and the usage) for a bad flag, a bad environment value or a
// positional argument.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	names := make([]string, 0, len(fs.env))
	for name := range fs.env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, ok := os.LookupEnv(fs.env[name])
		if given[name] || !ok || v == "" {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			fmt.Fprintf(fs.Output(), "invalid value %q for %s: %v\n", v, fs.env[name], err)
			return errUsage
		}
	}
	return nil
}

// exitCode is the exit status for an error of parse: 0 after -h, else 2.
func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
