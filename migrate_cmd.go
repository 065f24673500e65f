package main

import (
	"context"
	"fmt"
	"io"

	"akconn/store"
)

const migrateUsage = `Usage: akconn migrate up|down|status [flags]

Applies every pending migration (up), rolls back the latest one (down), or
lists each migration and whether it is applied (status). The SQL lives in
store/migrations/<dialect>/ and is embedded in the binary. "serve" applies
pending migrations at start unless given --no-migrate.
`

// runMigrate serves the "migrate" subcommand.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	fs := newFlagSet("akconn migrate", migrateUsage, stderr)
	cfg.databaseFlags(fs)
	if len(args) == 0 || (args[0] != store.MigrateUp && args[0] != store.MigrateDown && args[0] != store.MigrateStatus) {
		if err := fs.parse(args); err != nil {
			return exitCode(err)
		}
		fs.Usage()
		return 2
	}
	if err := fs.parse(args[1:]); err != nil {
		return exitCode(err)
	}
	cfg.Store.SkipMigrations = true
	db, err := cfg.openStore(func(msg string) { fmt.Fprintln(stderr, msg) })
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
