package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"akconn/seal"
	"akconn/server"
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
	// APIVersion is the contract /api/v3/ speaks (every served contract is
	// also at /compat/<version>/api/v3/).
	APIVersion string
	// AuthCacheTTL is how long verified API tokens are remembered.
	AuthCacheTTL time.Duration
	// PprofAddr serves net/http/pprof when set.
	PprofAddr string
	// MetricsAddr gives the metrics a listener of their own; when empty
	// they are served on the main one, at /-/metrics/.
	MetricsAddr string
	// BootstrapToken creates superuser akadmin with this token key.
	BootstrapToken string
	// EventRetention is how long events are kept (authentik's
	// events.retention: days=365).
	EventRetention retention
	// EventSweepInterval is how often expired events are deleted.
	EventSweepInterval time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies prefixList
	// Audit records an event for every change (off only to measure its
	// cost).
	Audit bool

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
		APIVersion:         server.CurrentVersion,
		AuthCacheTTL:       5 * time.Second,
		EventRetention:     retention(server.DefaultEventRetention),
		EventSweepInterval: time.Hour,
		Audit:              true,
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
	fs.StringVar(&c.APIVersion, "api-version", "API_VERSION", c.APIVersion,
		"the contract /api/v3/ speaks: "+strings.Join(server.Versions(server.Registry), " or ")+"; each is also at /compat/VERSION/api/v3/")
	fs.DurationVar(&c.AuthCacheTTL, "auth-cache-ttl", "AUTH_CACHE_TTL", c.AuthCacheTTL,
		"remember verified API tokens this long; revocation through another replica takes effect within it (0: off)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "PPROF_ADDR", c.PprofAddr,
		"serve net/http/pprof on this address, e.g. 127.0.0.1:6060 (off when empty)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "METRICS_ADDR", c.MetricsAddr,
		"serve the Prometheus metrics (/-/metrics/) on this address instead of the main listener, e.g. 0.0.0.0:9300")
	fs.StringVar(&c.BootstrapToken, "bootstrap-token", "BOOTSTRAP_TOKEN", c.BootstrapToken,
		"create superuser akadmin with this API token key")
	fs.Var(&c.EventRetention, "event-retention", "EVENT_RETENTION",
		"keep events this long: a duration (8760h), days (365d) or authentik's form (days=365;hours=12)")
	fs.DurationVar(&c.EventSweepInterval, "event-sweep-interval", "EVENT_SWEEP_INTERVAL", c.EventSweepInterval,
		"delete expired events this often, in small batches (safe with several replicas)")
	fs.BoolVar(&c.Audit, "audit", "AUDIT", c.Audit,
		"record an event for every change and every key revealed (the audit trail); false only to measure what it costs")
	fs.Var(&c.TrustedProxies, "trusted-proxies", "TRUSTED_PROXIES",
		"comma-separated CIDRs of proxies whose X-Forwarded-For names the client (authentik: listen.trusted_proxy_cidrs); none by default")
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

// Var defines a flag of a custom type with an environment variable.
func (fs *flagSet) Var(v flag.Value, name, env, usage string) {
	fs.FlagSet.Var(v, name, usage+fs.register(name, env))
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

// retention is a duration written as Go writes durations (8760h), in
// days (365d), or as authentik's timedelta settings (days=365;hours=12).
type retention time.Duration

func (r *retention) String() string {
	d := time.Duration(*r)
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (r *retention) Set(text string) error {
	d, err := parseRetention(text)
	if err != nil {
		return err
	}
	if d <= 0 {
		return errors.New("must be positive")
	}
	*r = retention(d)
	return nil
}

// timedeltaUnits are the units of authentik's timedelta settings.
var timedeltaUnits = map[string]time.Duration{
	"weeks": 7 * 24 * time.Hour, "days": 24 * time.Hour, "hours": time.Hour, "minutes": time.Minute,
	"seconds": time.Second, "milliseconds": time.Millisecond, "microseconds": time.Microsecond,
}

func parseRetention(text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	if days, ok := strings.CutSuffix(text, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n > 1e5 {
			return 0, fmt.Errorf("invalid days %q", text)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	if !strings.Contains(text, "=") {
		return time.ParseDuration(text)
	}
	var total time.Duration
	for _, part := range strings.Split(text, ";") {
		unit, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		scale, ok := timedeltaUnits[strings.TrimSpace(unit)]
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if !ok || err != nil || n < 0 || n > 1e9 {
			return 0, fmt.Errorf("invalid part %q (want e.g. days=365;hours=12)", part)
		}
		total += time.Duration(n * float64(scale))
	}
	return total, nil
}

// prefixList is a comma-separated list of CIDRs (a bare address is one
// address).
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	parts := make([]string, len(*p))
	for i, prefix := range *p {
		parts[i] = prefix.String()
	}
	return strings.Join(parts, ",")
}

func (p *prefixList) Set(text string) error {
	var out prefixList
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(part)
		if err != nil {
			addr, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return fmt.Errorf("invalid CIDR %q", part)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, prefix.Masked())
	}
	*p = out
	return nil
}
