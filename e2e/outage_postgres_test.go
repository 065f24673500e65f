package e2e_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"akconn/testenv/pgtest"
)

// TestPostgresOutage stops PostgreSQL for three seconds under 16 writing
// clients and starts it again. It runs its own cluster: the machine's
// shared one serves other tests.
func TestPostgresOutage(t *testing.T) {
	pg := privatePostgres(t)
	p := start(t, pg.url)
	load := startOutageLoad(t, p)
	time.Sleep(time.Second)
	load.outageBegins()
	pg.ctl("-m", "fast", "stop")
	time.Sleep(3 * time.Second)
	pg.ctl("start")
	load.outageEnded(pg.url)
}

// postgresCluster is a PostgreSQL cluster of the test's own.
type postgresCluster struct {
	t        *testing.T
	bin, dir string
	port     int
	url      string
}

// privatePostgres starts a cluster in a directory of the test, run by the
// postgres OS user, on a free port. Without root or PostgreSQL's binaries
// the test is skipped, unless AKCONN_REQUIRE_POSTGRES=1 (CI) makes that a
// failure.
func privatePostgres(t *testing.T) *postgresCluster {
	t.Helper()
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		pgtest.Missing(t, "no /usr/lib/postgresql/*/bin/initdb: install PostgreSQL's server (apt-get install postgresql) to run the outage test")
	}
	if os.Geteuid() != 0 {
		pgtest.Missing(t, "the outage test runs a PostgreSQL cluster of its own as the postgres user, which takes root")
	}
	sort.Strings(initdbs)
	dir := t.TempDir()
	// The postgres user must reach its directory, under the test's own.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v %s", dir, err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c := &postgresCluster{t: t, bin: filepath.Dir(initdbs[len(initdbs)-1]), dir: dir, port: port,
		url: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
	c.ctl("start")
	t.Cleanup(func() { _ = c.command("pg_ctl", "-D", c.data(), "-m", "immediate", "stop").Run() })
	return c
}

func (c *postgresCluster) data() string { return filepath.Join(c.dir, "data") }

// ctl runs pg_ctl with args; "start" waits until the cluster accepts
// connections. fsync is off: the outage is a clean stop, which writes
// everything committed to the data files whatever fsync says, and the
// machine's disk is shared.
func (c *postgresCluster) ctl(args ...string) {
	c.t.Helper()
	args = append([]string{"-D", c.data(), "-w", "-t", "60", "-l", filepath.Join(c.dir, "log"),
		"-o", "-p " + strconv.Itoa(c.port) + " -k " + c.dir + " -c listen_addresses=127.0.0.1 -c fsync=off"}, args...)
	c.run("pg_ctl", args...)
}

func (c *postgresCluster) run(name string, args ...string) {
	c.t.Helper()
	if out, err := c.command(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.t.Fatalf("%s %v: %v\n%s\n%s", name, args, err, out, log)
	}
}

func (c *postgresCluster) command(name string, args ...string) *exec.Cmd {
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, name)}, args...)...)
}
