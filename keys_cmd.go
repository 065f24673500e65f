package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"akconn/seal"
	"akconn/store"
)

const keysUsage = `Usage: akconn keys status|rotate|retire KEYID|compact|generate [flags]

Manages the keys that seal the stored secrets (access tokens, client
secrets, API token keys). The first line of the key file seals new values;
every line opens old ones.

  status    how many values each key id seals, and which keys the database knows
  rotate    re-seal every value under the first key, in batches, while servers
            keep serving; run it again after an interruption to finish
  retire    forget a key that seals nothing any more, so that servers start
            without it (then remove its line from the key file)
  compact   rewrite the tables so that no overwritten value survives in free
            space (PostgreSQL: VACUUM FULL, which locks the tables meanwhile)
  generate  print a new random key, for a new first line of the key file

Rotation, step by step, is in docs/SECURITY.md.
`

// runKeys serves the "keys" subcommand.
func runKeys(args []string, stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	fs := newFlagSet("akconn keys", keysUsage, stderr)
	cfg.databaseFlags(fs)
	action, rest := "", args
	if len(args) > 0 {
		action, rest = args[0], args[1:]
	}
	keyID, batch := "", 0
	fs.IntVar(&batch, "batch", "KEYS_BATCH", 500, "rotate: values re-sealed per transaction")
	if action == "retire" && len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		keyID, rest = rest[0], rest[1:]
	}
	if err := fs.parse(rest); err != nil {
		return exitCode(err)
	}
	switch action {
	case "generate":
		fmt.Fprintln(stdout, seal.NewSecret())
		return 0
	case "status", "rotate", "compact":
	case "retire":
		if keyID == "" {
			fmt.Fprintln(stderr, "keys retire: which key id? (akconn keys status lists them)")
			return 2
		}
	default:
		fs.Usage()
		return 2
	}
	db, err := cfg.openStore(func(msg string) { fmt.Fprintln(stderr, msg) })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	ctx := context.Background()
	switch action {
	case "status":
		err = keyStatus(ctx, db, stdout)
	case "rotate":
		bar := newProgress(stderr)
		var n int64
		n, err = db.RotateKeys(ctx, batch, bar.update)
		bar.finish()
		if err == nil {
			fmt.Fprintf(stdout, "re-sealed %d values under key %s\n", n, db.SealingKeyID())
		}
	case "retire":
		if err = db.RetireKey(ctx, keyID); err == nil {
			fmt.Fprintf(stdout, "retired key %s: remove its line from the key file\n", keyID)
		}
	case "compact":
		if err = db.Compact(ctx); err == nil {
			fmt.Fprintln(stdout, "compacted")
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// keyStatus prints, per key id, the values it seals in each column.
func keyStatus(ctx context.Context, db *store.Store, w io.Writer) error {
	uses, known, err := db.KeyStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "key sealing new values: %s\nkeys the database knows: %v\n\n", db.SealingKeyID(), known)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tCOLUMN\tVALUES")
	for _, u := range uses {
		id := u.KeyID
		if id == "" {
			id = "(not sealed)"
		}
		fmt.Fprintf(tw, "%s\t%s.%s\t%d\n", id, u.Table, u.Column, u.Values)
	}
	return tw.Flush()
}
