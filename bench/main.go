// Command bench is the benchmark harness behind `make bench`: it builds the
// server (with the sqlite_fts5 tag), seeds fresh databases with
// `akconn seed`, runs the server — in one or more variants, each with its
// own flags — and the baselines as separate processes, drives them over
// loopback with a closed-loop load generator, checks the goals of
// bench/plan.go, and writes docs/BENCHMARKS.md. Nothing here asserts: a
// goal NOT MET is reported, not a failure of the run.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type config struct {
	quick            bool
	duration, warmup time.Duration
	rounds           int
	listConnections  int
	listEvents       int
	backends, only   []string
	postgresURL      string
	out              string
	profile          bool
	variants         []variant
}

// harness holds a run's state: where things are, and what was measured.
type harness struct {
	cfg                *config
	work, server, self string
	started            time.Time
	loadAtStart        string
	databases          int
	seeds, notes       []string
	failures           []string
	results            []*measurement
	profile            *profile
}

// measurement is what one variant did on one probe of a scenario, on one
// backend: one result per round, and the peak RSS of its process.
type measurement struct {
	Scenario, Probe, Variant, Backend string
	Baseline                          bool
	// Profiled marks the extra run under the CPU profiler: it counts for the
	// error goal, not in the tables.
	Profiled bool
	Rounds   []result
	RSSMB    float64
}

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "baseline-") {
		os.Exit(runBaseline(os.Args[1:]))
	}
	// Every server and seed this run starts seals its secrets with this
	// key (PostgreSQL needs one; SQLite would otherwise make a key file).
	if os.Getenv("SECRET_KEY") == "" {
		_ = os.Setenv("SECRET_KEY", "akconn-bench-secret-key-0123456789abcdef")
	}
	var cfg config
	var backends, only string
	flag.BoolVar(&cfg.quick, "quick", false, "development run: 100,000 rows for lists, 0.5 s warm-up, 2 s per measurement, report not written unless -out")
	flag.DurationVar(&cfg.duration, "duration", 0, "measured time of every run (0: each scenario's own, 4-5 s)")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "warm-up before every measured run")
	flag.IntVar(&cfg.rounds, "rounds", 0, "rounds of scenarios with several variants (0: each scenario's own, 3 for retrieve, else 1)")
	flag.IntVar(&cfg.listConnections, "list-connections", 1000000, "connections seeded for the list scenario")
	flag.IntVar(&cfg.listEvents, "list-events", 1000000, "events seeded for the event list scenario")
	flag.StringVar(&backends, "backends", "sqlite,postgres", "backends, comma-separated")
	flag.StringVar(&only, "scenarios", "", "run only these scenarios (comma-separated: lists, retrieve, create, events, create-audit, create-secret); the report is then not written unless -out")
	flag.StringVar(&cfg.postgresURL, "postgres", os.Getenv("AKCONN_BENCH_POSTGRES_URL"), "PostgreSQL URL (empty: PostgreSQL is skipped)")
	flag.StringVar(&cfg.out, "out", "", "report file (default docs/BENCHMARKS.md for a complete run)")
	flag.BoolVar(&cfg.profile, "profile", true, "take a CPU profile of the server during the SQLite retrieve scenario")
	flag.Func("variant", "also run every scenario against the server as NAME=ARGS (extra flags; KEY=VALUE words: environment), "+
		"e.g. -variant no-events='--events=false'; repeatable", func(s string) error {
		v, err := parseVariant(s)
		if err == nil && slices.ContainsFunc(cfg.variants, func(w variant) bool { return w.Name == v.Name }) {
			err = fmt.Errorf("variant %q given twice", v.Name)
		}
		if err == nil {
			cfg.variants = append(cfg.variants, v)
		}
		return err
	})
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick {
		if !set["list-connections"] {
			cfg.listConnections = 100000
		}
		if !set["list-events"] {
			cfg.listEvents = 100000
		}
		if !set["warmup"] {
			cfg.warmup = 500 * time.Millisecond
		}
		if !set["duration"] {
			cfg.duration = 2 * time.Second
		}
	}
	cfg.backends = split(backends)
	cfg.only = split(only)
	if cfg.out == "" && !cfg.quick && len(cfg.only) == 0 {
		cfg.out = "docs/BENCHMARKS.md"
	}
	if err := run(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg *config) error {
	h := &harness{cfg: cfg, started: time.Now(), loadAtStart: loadAverage()}
	var err error
	if h.work, err = os.MkdirTemp("", "akconn-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(h.work)
	if h.self, err = os.Executable(); err != nil {
		return err
	}
	h.server = filepath.Join(h.work, "akconn")
	say("building the server (-tags=sqlite_fts5)")
	if out, err := exec.Command("go", "build", "-tags=sqlite_fts5", "-o", h.server, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	scenarios, goals := plan(cfg)
	for _, backend := range cfg.backends {
		if backend == "postgres" && cfg.postgresURL == "" {
			h.notes = append(h.notes, "PostgreSQL skipped: no PostgreSQL URL (AKCONN_BENCH_POSTGRES_URL or -postgres); its goals are NOT MEASURED.")
			continue
		}
		for _, sc := range scenarios {
			if len(cfg.only) > 0 && !slices.Contains(cfg.only, sc.Name) {
				continue
			}
			if err := h.runScenario(sc, backend); err != nil {
				msg := fmt.Sprintf("%s on %s failed: %v", sc.Title, backend, err)
				say("%s", msg)
				h.failures = append(h.failures, msg)
			}
		}
	}
	report := render(h, scenarios, goals)
	fmt.Println(report)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(withKeptPart(report, cfg.out)), 0o644); err != nil {
			return err
		}
		say("wrote %s (%s in all)", cfg.out, time.Since(h.started).Round(time.Second))
	} else {
		say("report not written (quick or partial run; -out FILE writes it); %s in all", time.Since(h.started).Round(time.Second))
	}
	if len(h.failures) > 0 {
		return fmt.Errorf("%d scenario(s) failed", len(h.failures))
	}
	return nil
}

func (h *harness) duration(sc scenario) time.Duration {
	if h.cfg.duration > 0 {
		return h.cfg.duration
	}
	return sc.Duration
}

func (h *harness) rounds(sc scenario) int {
	if h.cfg.rounds > 0 && len(sc.Variants) > 1 {
		return h.cfg.rounds
	}
	return sc.Rounds
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
