// Command akconn serves authentik's OAuth user-connection API.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"akconn/server"
	"akconn/store"
)

//go:embed openapi.yaml
var spec []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: akconn [serve] [flags]
       akconn migrate up|down|status [--database URL]
       akconn users create --username NAME [--superuser] [--with-token]
       akconn seed --connections N [--users N] [--sources N]

Serves authentik's OAuth user-connection API (/api/v3/) from openapi.yaml.
` + "`akconn users create --help`" + ` tells how to create users (and superusers)
from the command line.

Flags (each may also be set by the environment variable shown):
`

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "users":
			return runUsers(args[1:], stdout, stderr)
		case "migrate":
			return runMigrate(args[1:], stdout, stderr)
		case "seed":
			return runSeed(args[1:], stdout, stderr)
		}
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("akconn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("ADDR", "127.0.0.1:9000"), "listen address (ADDR)")
	database := fs.String("database", envOr("DATABASE_URL", defaultDatabase), "database: a SQLite file path, or a postgres:// URL (DATABASE_URL)")
	pool := poolFlags(fs)
	noMigrate := fs.Bool("no-migrate", envBool("NO_MIGRATE"), "do not apply pending migrations at start (NO_MIGRATE=true)")
	respValidation := fs.String("response-validation", envOr("RESPONSE_VALIDATION", "enforce"),
		"what to do with a response that breaks the spec: enforce (500), log, or off (RESPONSE_VALIDATION)")
	authCacheTTL := fs.Duration("auth-cache-ttl", 5*time.Second, "remember verified API tokens this long; revocation through another replica takes effect within it (0: off)")
	pprofAddr := fs.String("pprof-addr", "", "serve net/http/pprof on this address, e.g. 127.0.0.1:6060 (off by default)")
	bootstrapToken := fs.String("bootstrap-token", os.Getenv("BOOTSTRAP_TOKEN"), "create superuser akadmin with this API token key (BOOTSTRAP_TOKEN)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	mode := server.ResponseValidation(*respValidation)
	switch mode {
	case server.ResponseEnforce, server.ResponseLog, server.ResponseOff:
	default:
		fmt.Fprintf(stderr, "invalid -response-validation %q: want enforce, log or off\n", *respValidation)
		return 2
	}

	opts := pool.options()
	opts.SkipMigrations = *noMigrate
	db, err := store.Open(*database, opts)
	if err != nil {
		log.Error("open database", "error", err.Error())
		return 1
	}
	defer db.Close()
	if *bootstrapToken != "" {
		if err := db.Bootstrap(context.Background(), *bootstrapToken); err != nil {
			log.Error("bootstrap", "error", err.Error())
			return 1
		}
	}
	e, err := server.New(server.Config{Store: db, Spec: spec, Logger: log, ResponseValidation: mode, AuthCacheTTL: *authCacheTTL})
	if err != nil {
		log.Error("build server", "error", err.Error())
		return 1
	}
	if *pprofAddr != "" {
		go servePprof(*pprofAddr, log)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "error", err.Error())
		return 1
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("serving", "addr", ln.Addr().String(), "database", redacted(*database), "response_validation", string(mode))
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "error", err.Error())
		return 1
	}
	<-drained // in-flight requests finish before the database closes
	log.Info("stopped")
	return 0
}

// servePprof exposes the profiler on its own listener, never on the API's.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("pprof", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof", "error", err.Error())
	}
}

// redacted hides a password in a database URL, for logs.
func redacted(database string) string {
	if u, err := url.Parse(database); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return database
}

// defaultDatabase is the SQLite file used when no database is named.
const defaultDatabase = "data/akconn.db"

// pool holds the connection-pool flags.
type pool struct {
	maxOpen, maxIdle *int
	lifetime         *time.Duration
	sync             *string
}

func poolFlags(fs *flag.FlagSet) pool {
	return pool{
		maxOpen:  fs.Int("db-max-open-conns", envInt("DB_MAX_OPEN_CONNS", 0), "most open database connections; 0: 2×CPU+2 for SQLite, 25 for PostgreSQL (DB_MAX_OPEN_CONNS)"),
		maxIdle:  fs.Int("db-max-idle-conns", envInt("DB_MAX_IDLE_CONNS", 0), "most idle database connections; 0: as many as open (DB_MAX_IDLE_CONNS)"),
		lifetime: fs.Duration("db-conn-max-lifetime", 30*time.Minute, "recycle database connections after this long"),
		sync:     fs.String("sqlite-synchronous", envOr("SQLITE_SYNCHRONOUS", "FULL"), "SQLite: FULL fsyncs every commit; NORMAL is faster but a power loss may roll back the last commits (SQLITE_SYNCHRONOUS)"),
	}
}

func (p pool) options() store.Options {
	return store.Options{MaxOpenConns: *p.maxOpen, MaxIdleConns: *p.maxIdle, ConnMaxLifetime: *p.lifetime, SQLiteSynchronous: *p.sync}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
