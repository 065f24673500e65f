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
	"os"
	"os/signal"
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
       akconn users create --username NAME [--superuser] [--with-token]

Serves authentik's OAuth user-connection API (/api/v3/) from openapi.yaml.
` + "`akconn users create --help`" + ` tells how to create users (and superusers)
from the command line.

Flags (each may also be set by the environment variable shown):
`

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "users" {
		return runUsers(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("akconn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("ADDR", "127.0.0.1:9000"), "listen address (ADDR)")
	database := fs.String("database", envOr("DATABASE_URL", "data/akconn.db"), "database: a SQLite file path (DATABASE_URL)")
	respValidation := fs.String("response-validation", envOr("RESPONSE_VALIDATION", "enforce"),
		"what to do with a response that breaks the spec: enforce (500), log, or off (RESPONSE_VALIDATION)")
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

	db, err := store.Open(*database)
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
	e, err := server.New(server.Config{Store: db, Spec: spec, Logger: log, ResponseValidation: mode})
	if err != nil {
		log.Error("build server", "error", err.Error())
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "error", err.Error())
		return 1
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
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
	log.Info("serving", "addr", ln.Addr().String(), "database", *database, "response_validation", string(mode))
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "error", err.Error())
		return 1
	}
	<-drained // in-flight requests finish before the database closes
	log.Info("stopped")
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
