// Command bench is the benchmark harness behind `make bench`: it runs the
// real server (both validators on, then response validation off) and two
// baselines as separate processes, drives each over loopback with a
// closed-loop load generator, and writes the table to docs/BENCHMARKS.md.
// It is a benchmark, not a test: nothing here asserts a time.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type config struct {
	duration, warmup  time.Duration
	readers, listers  int
	writers           int
	sizes             []int
	backends          []string
	postgresURL       string
	out, work, server string
	profile           bool
}

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "baseline-") {
		os.Exit(runBaseline(os.Args[1:]))
	}
	var cfg config
	var sizes, backends string
	flag.DurationVar(&cfg.duration, "duration", 4*time.Second, "measured time per scenario")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "warm-up per scenario")
	flag.IntVar(&cfg.readers, "readers", 32, "concurrent clients for reads")
	flag.IntVar(&cfg.listers, "listers", 4, "concurrent clients for lists")
	flag.IntVar(&cfg.writers, "writers", 64, "concurrent clients for writes")
	flag.StringVar(&sizes, "sizes", "1000,1000000", "connections in the database, comma-separated")
	flag.StringVar(&backends, "backends", "sqlite,postgres", "backends, comma-separated")
	flag.StringVar(&cfg.postgresURL, "postgres", os.Getenv("AKCONN_BENCH_POSTGRES_URL"), "PostgreSQL URL (empty: PostgreSQL is skipped)")
	flag.StringVar(&cfg.out, "out", "docs/BENCHMARKS.md", "report file")
	flag.BoolVar(&cfg.profile, "profile", true, "save a CPU profile of the server during the retrieve scenario")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -sizes:", err)
			os.Exit(2)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	cfg.backends = strings.Split(backends, ",")
	if err := run(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg *config) error {
	var err error
	if cfg.work, err = os.MkdirTemp("", "akconn-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(cfg.work)
	cfg.server = filepath.Join(cfg.work, "akconn")
	say("building the server")
	if out, err := exec.Command("go", "build", "-o", cfg.server, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	benchBin := filepath.Join(cfg.work, "bench")
	if out, err := exec.Command("go", "build", "-o", benchBin, "./bench").CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./bench: %v\n%s", err, out)
	}
	var rows []row
	var notes []string
	for _, backend := range cfg.backends {
		if backend == "postgres" && cfg.postgresURL == "" {
			notes = append(notes, "PostgreSQL skipped: no PostgreSQL URL (AKCONN_BENCH_POSTGRES_URL).")
			continue
		}
		for _, size := range cfg.sizes {
			r, err := benchDatabase(cfg, benchBin, backend, size)
			if err != nil {
				return fmt.Errorf("%s, %d connections: %w", backend, size, err)
			}
			rows = append(rows, r...)
		}
	}
	report := render(cfg, rows, notes)
	fmt.Println(report)
	return os.WriteFile(cfg.out, []byte(report), 0o644)
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
