package pgtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestURLWithoutPostgresSkipsUnlessRequired runs a test that asks for
// PostgreSQL where there is none, in a child process: it is skipped with
// the way to provide one, and fails instead under AKCONN_REQUIRE_POSTGRES=1.
func TestURLWithoutPostgresSkipsUnlessRequired(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		URL(t)
		return
	}
	for _, c := range []struct {
		require    string
		fails      bool
		wantOutput string
	}{
		{"", false, "--- SKIP"},
		{"0", false, "--- SKIP"},
		{"1", true, "--- FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestURLWithoutPostgresSkipsUnlessRequired$", "-test.v")
		cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", URLEnv+"=", RequireEnv+"="+c.require)
		out, err := cmd.CombinedOutput()
		if (err != nil) != c.fails {
			t.Errorf("%s=%q: exit %v, want failure %v\n%s", RequireEnv, c.require, err, c.fails, out)
		}
		for _, want := range []string{c.wantOutput, "set " + URLEnv} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s=%q: output lacks %q:\n%s", RequireEnv, c.require, want, out)
			}
		}
	}
}
