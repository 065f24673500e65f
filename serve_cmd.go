package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"akconn/server"
	"akconn/store"
)

const serveUsage = `Usage: akconn [serve] [flags]

Serves authentik's OAuth user-connection API (/api/v3/) from openapi.yaml,
applying pending database migrations first (unless --no-migrate).
`

// runServe serves the "serve" subcommand, the default.
func runServe(args []string, stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	fs := newFlagSet("akconn serve", serveUsage, stderr)
	cfg.databaseFlags(fs)
	cfg.serveFlags(fs)
	if err := fs.parse(args); err != nil {
		return exitCode(err)
	}
	mode := server.ResponseValidation(cfg.ResponseValidation)
	switch mode {
	case server.ResponseEnforce, server.ResponseLog, server.ResponseOff:
	default:
		fmt.Fprintf(stderr, "invalid --response-validation %q: want enforce, log or off\n", cfg.ResponseValidation)
		return 2
	}
	if versions := server.Versions(server.Registry); !slices.Contains(versions, cfg.APIVersion) {
		fmt.Fprintf(stderr, "unknown --api-version %q: this server speaks %s\n", cfg.APIVersion, strings.Join(versions, ", "))
		return 2
	}
	logs := newLogBuffer(stdout, logFlushInterval)
	defer logs.Close()
	log := slog.New(warningsAtOnce{slog.NewJSONHandler(logs, nil), logs})
	tuneGC()
	db, err := cfg.openStore(func(msg string) { log.Warn(msg) })
	if err != nil {
		log.Error("open database", "error", err.Error())
		return 1
	}
	defer db.Close()
	for _, notice := range db.Notices() {
		log.Warn(notice)
	}
	if cfg.BootstrapToken != "" {
		if err := db.Bootstrap(context.Background(), cfg.BootstrapToken); err != nil {
			log.Error("bootstrap", "error", err.Error())
			return 1
		}
	}
	metrics := server.NewMetrics(db, server.Build{Version: version, Commit: commit()})
	e, err := server.New(server.Config{Store: db, Spec: spec, APIVersion: cfg.APIVersion, Logger: log, ResponseValidation: mode, AuthCacheTTL: cfg.AuthCacheTTL,
		EventRetention: time.Duration(cfg.EventRetention), TrustedProxies: cfg.TrustedProxies, NoAudit: !cfg.Audit,
		Metrics: metrics, MetricsElsewhere: cfg.MetricsAddr != ""})
	if err != nil {
		log.Error("build server", "error", err.Error())
		return 1
	}
	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, log)
	}
	if cfg.MetricsAddr != "" {
		go serveMetrics(cfg.MetricsAddr, metrics, log)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		log.Error("listen", "error", err.Error())
		return 1
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		sweepEvents(ctx, db, cfg.EventSweepInterval, log)
	}()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("serving", "addr", ln.Addr().String(), "database", redacted(cfg.Database), "response_validation", string(mode), "api_version", cfg.APIVersion, "version", version, "commit", commit())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "error", err.Error())
		return 1
	}
	stop()
	<-drained // in-flight requests finish before the database closes
	<-swept
	log.Info("stopped")
	return 0
}

// sweepEvents deletes expired events at start and then every interval,
// until ctx is done. Each batch is a short transaction of its own, so
// requests never wait on it; several replicas may sweep at once.
func sweepEvents(ctx context.Context, db *store.Store, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		n, err := db.SweepEvents(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("sweep expired events", "error", err.Error())
		case n > 0:
			log.Info("swept expired events", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Garbage collection defaults of the server, unless GOGC and GOMEMLIMIT
// set others: a request allocates some 20 KB that is garbage as soon as
// it is answered, and with Go's default (GOGC=100) collecting it took a
// seventh of a retrieve's CPU (pprof). Collecting a fourth as often, within
// a soft memory limit that keeps peak memory bounded, cut a retrieve's CPU
// from 78 to 68 µs for 14 MB more peak memory (wrk, 32 clients).
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 192 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// servePprof exposes the profiler on its own listener, never on the API's.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("pprof", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof", "error", err.Error())
	}
}

// serveMetrics serves the metrics on a listener of their own, at
// /-/metrics/ (and /metrics, Prometheus' default path).
func serveMetrics(addr string, m *server.Metrics, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle(server.MetricsPath, m.Handler())
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("metrics", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("metrics", "error", err.Error())
	}
}

// redacted hides a password in a database URL, for logs.
func redacted(database string) string {
	if u, err := url.Parse(database); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return database
}
