package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"akconn/store"
)

const usersUsage = `Usage: akconn users create --username NAME [--name NAME] [--email EMAIL] [--superuser] [--with-token] [--database URL]

Creates a user directly in the database. This is the only way, besides
BOOTSTRAP_TOKEN, to make a superuser: is_superuser is read-only over the API,
as in authentik. --with-token also creates a non-expiring API token and prints
its key once.

Flags:
`

// runUsers serves the "users" subcommand.
func runUsers(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, usersUsage)
		return 2
	}
	fs := flag.NewFlagSet("akconn users create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	database := fs.String("database", envOr("DATABASE_URL", defaultDatabase), "database (DATABASE_URL)")
	username := fs.String("username", "", "username (required, at most 150 characters)")
	name := fs.String("name", "", "display name (default: the username)")
	email := fs.String("email", "", "email address")
	superuser := fs.Bool("superuser", false, "make the user a superuser")
	withToken := fs.Bool("with-token", false, "also create a non-expiring API token and print its key")
	fs.Usage = func() {
		fmt.Fprint(stderr, usersUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *username == "" || len(*username) > 150 {
		fmt.Fprintln(stderr, "--username is required (at most 150 characters)")
		return 2
	}
	db, err := store.Open(*database, store.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "open database:", err)
		return 1
	}
	defer db.Close()
	ctx := context.Background()
	u := store.NewUser(*username, *superuser)
	if *name != "" {
		u.Name = *name
	}
	u.Email = *email
	if err := db.CreateUser(ctx, u); err != nil {
		fmt.Fprintln(stderr, "create user:", err)
		return 1
	}
	fmt.Fprintf(stdout, "created user %q with pk %d (superuser: %v)\n", u.Username, u.ID, u.IsSuperuser)
	if *withToken {
		t := &store.Token{Identifier: "cli-" + u.UUID, Key: store.NewKey(), Intent: store.IntentAPI, UserID: u.ID,
			Description: "Created by akconn users create"}
		if err := db.CreateToken(ctx, t); err != nil {
			fmt.Fprintln(stderr, "create token:", err)
			return 1
		}
		fmt.Fprintf(stdout, "token %s key: %s\n", t.Identifier, t.Key)
	}
	return 0
}
