// Command akconn serves authentik's OAuth user-connection API.
package main

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

//go:embed openapi.yaml
var spec []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: akconn [command] [flags]

Serves authentik's OAuth user-connection API (/api/v3/) from openapi.yaml.

Commands:
  serve     serve the API (the default when no command is given)
  migrate   apply, roll back or list database migrations
  users     create users (and superusers) from the command line
  seed      load scale data for benchmarks
  keys      show, rotate and retire the keys that seal the stored secrets
  version   print the version
  help      print this text

"akconn COMMAND --help" lists a command's flags; each flag may also be set
by the environment variable it names.
`

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	command, rest := "serve", args
	if len(args) > 0 && (len(args[0]) == 0 || args[0][0] != '-') {
		command, rest = args[0], args[1:]
	}
	switch command {
	case "serve":
		return runServe(rest, stdout, stderr)
	case "migrate":
		return runMigrate(rest, stdout, stderr)
	case "users":
		return runUsers(rest, stdout, stderr)
	case "seed":
		return runSeed(rest, stdout, stderr)
	case "keys":
		return runKeys(rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "akconn: unknown command %q\n\n%s", command, usage)
	return 2
}

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

// commit returns the VCS revision the binary was built from ("unknown"
// without one), marked "-dirty" when the tree had changes.
func commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func versionLine() string {
	return fmt.Sprintf("akconn %s (commit %s, %s)", version, commit(), runtime.Version())
}
