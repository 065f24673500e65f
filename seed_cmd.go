package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"akconn/store"
)

const seedUsage = `Usage: akconn seed --connections N [--users N] [--sources N] [--database URL]

Loads scale data fast (batched, one transaction per batch): the connections,
and the users (default: one per ten connections) and OAuth sources (default 10)
they belong to, for benchmarks and query-plan checks. Connection i belongs to
user i mod users and source (i div users) mod sources.

Flags:
`

// runSeed serves the "seed" subcommand.
func runSeed(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("akconn seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	database := fs.String("database", envOr("DATABASE_URL", defaultDatabase), "database (DATABASE_URL)")
	conns := fs.Int("connections", 1000, "connections to create")
	users := fs.Int("users", 0, "users to create (0: connections/10, at least 1)")
	sources := fs.Int("sources", 10, "OAuth sources to create")
	batch := fs.Int("batch", 5000, "rows per transaction")
	prefix := fs.String("prefix", "seed", "name prefix, to seed the same database again")
	fs.Usage = func() {
		fmt.Fprint(stderr, seedUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *users == 0 {
		*users = max(1, (*conns+9)/10)
	}
	db, err := store.Open(*database, store.Options{})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	start := time.Now()
	err = db.Seed(context.Background(), store.SeedOptions{Users: *users, Sources: *sources, Connections: *conns, Batch: *batch, Prefix: *prefix})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d users, %d sources, %d connections in %s\n", *users, *sources, *conns, time.Since(start).Round(time.Millisecond))
	return 0
}
