package main

import (
	"context"
	"fmt"
	"io"

	"akconn/store"
)

const usersUsage = `Usage: akconn users create --username NAME [--name NAME] [--email EMAIL] [--superuser] [--with-token] [flags]

Creates a user directly in the database. This is the only way, besides
BOOTSTRAP_TOKEN, to make a superuser: is_superuser is read-only over the API,
as in authentik. --with-token also creates a non-expiring API token and prints
its key once.
`

// newUser is what "users create" is asked to create.
type newUser struct {
	username, name, email string
	superuser, withToken  bool
}

// runUsers serves the "users" subcommand.
func runUsers(args []string, stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	var nu newUser
	fs := newFlagSet("akconn users create", usersUsage, stderr)
	cfg.databaseFlags(fs)
	fs.StringVar(&nu.username, "username", "USERS_CREATE_USERNAME", "", "username (required, at most 150 characters)")
	fs.StringVar(&nu.name, "name", "USERS_CREATE_NAME", "", "display name (default: the username)")
	fs.StringVar(&nu.email, "email", "USERS_CREATE_EMAIL", "", "email address")
	fs.BoolVar(&nu.superuser, "superuser", "USERS_CREATE_SUPERUSER", false, "make the user a superuser")
	fs.BoolVar(&nu.withToken, "with-token", "USERS_CREATE_WITH_TOKEN", false, "also create a non-expiring API token and print its key")
	if len(args) == 0 || args[0] != "create" {
		if err := fs.parse(args); err != nil {
			return exitCode(err)
		}
		fs.Usage()
		return 2
	}
	if err := fs.parse(args[1:]); err != nil {
		return exitCode(err)
	}
	if nu.username == "" || len(nu.username) > 150 {
		fmt.Fprintln(stderr, "--username is required (at most 150 characters)")
		return 2
	}
	db, err := cfg.openStore(func(msg string) { fmt.Fprintln(stderr, msg) })
	if err != nil {
		fmt.Fprintln(stderr, "open database:", err)
		return 1
	}
	defer db.Close()
	ctx := context.Background()
	u := store.NewUser(nu.username, nu.superuser)
	if nu.name != "" {
		u.Name = nu.name
	}
	u.Email = nu.email
	if err := db.CreateUser(ctx, u); err != nil {
		fmt.Fprintln(stderr, "create user:", err)
		return 1
	}
	fmt.Fprintf(stdout, "created user %q with pk %d (superuser: %v)\n", u.Username, u.ID, u.IsSuperuser)
	if nu.withToken {
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
