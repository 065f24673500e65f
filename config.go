package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"akconn/seal"
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

	// SecretKeyFile names a file of keys, one per line, the first sealing
	// (SECRET_KEY_FILE). SECRET_KEY, from the environment only, is one key.
	SecretKeyFile string
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
// takes: where the database is, its pool and durability, and the keys that
// seal its secrets.
func (c *Config) databaseFlags(fs *flagSet) {
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", "SECRET_KEY_FILE", c.SecretKeyFile,
		"file of keys sealing the stored secrets, one per line, the first sealing new values "+
			"(or SECRET_KEY, one key; default for SQLite: DATABASE.key, created if missing)")
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

// openStore opens the configured database with the configured options and
// keys. notify hears, once, that a key file was created (to be logged).
func (c *Config) openStore(notify func(msg string)) (*store.Store, error) {
	keys, err := c.keyring(notify)
	if err != nil {
		return nil, err
	}
	opts := c.Store
	opts.Keyring = keys
	st, err := store.Open(c.Database, opts)
	if err != nil {
		return nil, err
	}
	storeOpened(st)
	return st, nil
}

// keyring finds the keys that seal the stored secrets: SECRET_KEY (one
// key, at least 32 characters), or the key file. Without either, a SQLite
// database gets a key file beside it (DATABASE.key, owner-only), created
// with a random key the first time; PostgreSQL, whose replicas must share
// one key, needs one of them set.
func (c *Config) keyring(notify func(msg string)) (*seal.Keyring, error) {
	secret := os.Getenv("SECRET_KEY")
	switch {
	case secret != "" && c.SecretKeyFile != "":
		return nil, errors.New("set SECRET_KEY or SECRET_KEY_FILE (--secret-key-file), not both")
	case secret != "":
		k, err := seal.New(secret)
		if err != nil {
			return nil, fmt.Errorf("SECRET_KEY: %w", err)
		}
		return k, nil
	case c.SecretKeyFile != "":
		return seal.LoadKeyFile(c.SecretKeyFile)
	case store.IsPostgres(c.Database):
		return nil, errors.New("PostgreSQL needs the key that seals its secrets, shared by every replica: " +
			"set SECRET_KEY (at least 32 random characters, e.g. `openssl rand -base64 32`) or SECRET_KEY_FILE (--secret-key-file)")
	}
	path := store.SQLitePath(c.Database) + ".key"
	k, created, err := seal.LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	if created && notify != nil {
		notify(fmt.Sprintf("created the key that seals the stored secrets: %s; back it up with the database (without it the secrets are lost)", path))
	}
	return k, nil
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
