package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"akconn/store"
)

const migrateUsage = `Usage: akconn migrate up|down|status [--database URL]

Applies every pending migration (up), rolls back the latest one (down), or
lists each migration and whether it is applied (status). The SQL lives in
store/migrations/<dialect>/ and is embedded in the binary. "serve" applies
pending migrations at start unless given --no-migrate.

Flags:
`

// runMigrate serves the "migrate" subcommand.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != store.MigrateUp && args[0] != store.MigrateDown && args[0] != store.MigrateStatus) {
		fmt.Fprint(stderr, migrateUsage)
		return 2
	}
	fs := flag.NewFlagSet("akconn migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	database := fs.String("database", envOr("DATABASE_URL", defaultDatabase), "database (DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprint(stderr, migrateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	db, err := store.Open(*database, store.Options{SkipMigrations: true})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	lines, err := db.Migrate(context.Background(), args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if len(lines) == 0 {
		fmt.Fprintln(stdout, "nothing to do")
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return 0
}
