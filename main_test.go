package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"-addr", "-database", "-response-validation", "-bootstrap-token", "DATABASE_URL"} {
		if !strings.Contains(errOut.String(), flag) {
			t.Errorf("help lacks %s:\n%s", flag, errOut.String())
		}
	}
}

func TestBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"serve", "--response-validation", "maybe"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if code := run([]string{"--no-such-flag"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d", code)
	}
}

func TestUnusableDatabase(t *testing.T) {
	var out, errOut bytes.Buffer
	path := t.TempDir() + "/file"
	if code := run([]string{"--database", path + "/\x00/db"}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d", code)
	}
}

func TestUsersCreate(t *testing.T) {
	db := t.TempDir() + "/db.sqlite"
	var out, errOut bytes.Buffer
	code := run([]string{"users", "create", "--database", db, "--username", "root2", "--superuser", "--with-token"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `created user "root2"`) || !strings.Contains(out.String(), "superuser: true") || !strings.Contains(out.String(), " key: ") {
		t.Fatalf("output %s", out.String())
	}
	// The same username twice is refused.
	if code := run([]string{"users", "create", "--database", db, "--username", "root2"}, &out, &errOut); code != 1 {
		t.Fatalf("duplicate: exit %d", code)
	}
	if code := run([]string{"users", "create", "--database", db}, &out, &errOut); code != 2 {
		t.Fatalf("missing username: exit %d", code)
	}
	if code := run([]string{"users"}, &out, &errOut); code != 2 {
		t.Fatalf("no subcommand: exit %d", code)
	}
}
