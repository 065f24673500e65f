package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"akconn/store"
)

func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"-addr", "-database", "-response-validation", "-bootstrap-token", "DATABASE_URL", "AUTH_CACHE_TTL", "DB_CONN_MAX_LIFETIME"} {
		if !strings.Contains(errOut.String(), flag) {
			t.Errorf("help lacks %s:\n%s", flag, errOut.String())
		}
	}
	out.Reset()
	if code := run([]string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "Commands:") {
		t.Fatalf("help: exit %d: %s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "akconn ") {
		t.Fatalf("version: exit %d: %s", code, out.String())
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
	t.Setenv("DB_MAX_OPEN_CONNS", "many")
	errOut.Reset()
	if code := run([]string{"seed", "--database", filepath.Join(t.TempDir(), "db")}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "DB_MAX_OPEN_CONNS") {
		t.Fatalf("bad environment value: exit %d: %s", code, errOut.String())
	}
}

// A mistyped command or a stray argument prints the usage, exits 2, and
// neither serves nor creates a database.
func TestUnknownCommandStartsNothing(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"frobnicate"},
		{"migrat", "up"},
		{"serve", "extra"},
		{"--addr", "127.0.0.1:0", "stray"},
		{"seed", "--connections", "1", "extra"},
		{"users", "delete", "--username", "x"},
		{"migrate", "sideways"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d", args, code)
		}
		if !strings.Contains(errOut.String(), "Usage: akconn") {
			t.Errorf("%q: no usage in %q", args, errOut.String())
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Fatalf("a wrong command created %v", entries)
	}
}

func TestUnusableDatabase(t *testing.T) {
	var out, errOut bytes.Buffer
	path := t.TempDir() + "/file"
	if code := run([]string{"--database", path + "/\x00/db"}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d", code)
	}
	// The log is buffered; what it holds is written out before run returns.
	if !strings.Contains(out.String(), `"msg":"open database"`) {
		t.Errorf("stdout lacks the error's log line: %q", out.String())
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

// observeStores records, for every store a command opens, the options it
// runs with and SQLite's synchronous mode as the database reports it.
func observeStores(t *testing.T) *[]string {
	t.Helper()
	var seen []string
	old := storeOpened
	storeOpened = func(st *store.Store) {
		var sync int
		if err := st.DB().Raw("PRAGMA synchronous").Scan(&sync).Error; err != nil {
			t.Errorf("PRAGMA synchronous: %v", err)
		}
		sqlDB, _ := st.DB().DB()
		o := st.Options()
		seen = append(seen, strings.Join([]string{
			"sync=" + map[int]string{1: "NORMAL", 2: "FULL"}[sync],
			"open=" + strconv.Itoa(sqlDB.Stats().MaxOpenConnections),
			"idle=" + strconv.Itoa(o.MaxIdleConns),
			"lifetime=" + o.ConnMaxLifetime.String(),
		}, " "))
	}
	t.Cleanup(func() { storeOpened = old })
	return &seen
}

// seed and users create honour the pool and durability settings, from
// flags and from the environment alike.
func TestSubcommandsApplyStoreOptions(t *testing.T) {
	seen := observeStores(t)
	db := filepath.Join(t.TempDir(), "db.sqlite")
	run := func(args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut.String())
		}
	}
	run("seed", "--database", db, "--connections", "10", "--sqlite-synchronous", "NORMAL", "--db-max-open-conns", "3", "--db-max-idle-conns", "2", "--db-conn-max-lifetime", "7m")
	run("users", "create", "--database", db, "--username", "u1", "--sqlite-synchronous", "normal", "--db-max-open-conns", "5", "--db-max-idle-conns", "1", "--db-conn-max-lifetime", "9m")
	t.Setenv("SQLITE_SYNCHRONOUS", "NORMAL")
	t.Setenv("DB_MAX_OPEN_CONNS", "4")
	t.Setenv("DB_MAX_IDLE_CONNS", "3")
	t.Setenv("DB_CONN_MAX_LIFETIME", "5m")
	t.Setenv("DATABASE_URL", db)
	run("seed", "--connections", "10", "--prefix", "again")
	run("users", "create", "--username", "u2")
	run("migrate", "status")
	want := []string{
		"sync=NORMAL open=3 idle=2 lifetime=7m0s",
		"sync=NORMAL open=5 idle=1 lifetime=9m0s",
		"sync=NORMAL open=4 idle=3 lifetime=5m0s",
		"sync=NORMAL open=4 idle=3 lifetime=5m0s",
		"sync=NORMAL open=4 idle=3 lifetime=5m0s",
	}
	if strings.Join(*seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stores opened with\n%s\nwant\n%s", strings.Join(*seen, "\n"), strings.Join(want, "\n"))
	}
}

// Every flag of every command has an environment variable, and the
// README's configuration table lists both.
func TestREADMEListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, register := range map[string]func(fs *flagSet){
		"serve":   func(fs *flagSet) { c := DefaultConfig(); c.databaseFlags(fs); c.serveFlags(fs) },
		"migrate": func(fs *flagSet) { c := DefaultConfig(); c.databaseFlags(fs) },
	} {
		fs := newFlagSet(name, "", io.Discard)
		register(fs)
		fs.VisitAll(func(f *flag.Flag) {
			env := fs.env[f.Name]
			if env == "" {
				t.Errorf("%s --%s has no environment variable", name, f.Name)
			}
			row := regexp.MustCompile("(?m)^\\| `--" + regexp.QuoteMeta(f.Name) + "` \\| `" + regexp.QuoteMeta(env) + "` \\|")
			if !row.Match(readme) {
				t.Errorf("README's configuration table lacks the row for --%s (%s)", f.Name, env)
			}
		})
	}
}
