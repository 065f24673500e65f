package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"akconn/store"
)

const seedUsage = `Usage: akconn seed --connections N [--users N] [--sources N] [--events N] [flags]

Loads scale data fast (batched, one transaction per batch): the connections,
and the users (default: one per ten connections) and OAuth sources (default 10)
they belong to, for benchmarks and query-plan checks. Connection i belongs to
user i mod users and source (i div users) mod sources.
`

// runSeed serves the "seed" subcommand.
func runSeed(args []string, stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	o := store.SeedOptions{Connections: 1000, Sources: 10, Batch: 5000, Prefix: "seed"}
	fs := newFlagSet("akconn seed", seedUsage, stderr)
	cfg.databaseFlags(fs)
	fs.IntVar(&o.Connections, "connections", "SEED_CONNECTIONS", o.Connections, "connections to create")
	fs.IntVar(&o.Users, "users", "SEED_USERS", o.Users, "users to create (0: connections/10, at least 1)")
	fs.IntVar(&o.Sources, "sources", "SEED_SOURCES", o.Sources, "OAuth sources to create")
	fs.IntVar(&o.Events, "events", "SEED_EVENTS", o.Events, "audit events to create (connections' created/updated/deleted, evenly over the last 300 days)")
	fs.BoolVar(&o.Tokens, "tokens", "SEED_TOKENS", o.Tokens, "give each user an API token with a known key (benchmarks only)")
	fs.IntVar(&o.Batch, "batch", "SEED_BATCH", o.Batch, "rows per transaction")
	fs.StringVar(&o.Prefix, "prefix", "SEED_PREFIX", o.Prefix, "name prefix, to seed the same database again")
	if err := fs.parse(args); err != nil {
		return exitCode(err)
	}
	if o.Users == 0 {
		o.Users = max(1, (o.Connections+9)/10)
	}
	db, err := cfg.openStore(func(msg string) { fmt.Fprintln(stderr, msg) })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	start := time.Now()
	bar := newProgress(stderr)
	o.Progress = bar.update
	err = db.Seed(context.Background(), o)
	bar.finish()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d users, %d sources, %d connections, %d events in %s\n", o.Users, o.Sources, o.Connections, o.Events,
		time.Since(start).Round(time.Millisecond))
	return 0
}
