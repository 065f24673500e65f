package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// render writes the report: header, goals, protocol, one table per
// scenario, errors, and the CPU profile.
func render(h *harness, scenarios []scenario, goals []goal) string {
	var b strings.Builder
	cfg := h.cfg
	mode := "Full run"
	if cfg.quick {
		mode = "**Quick run** (`-quick`: development numbers, not the goals' conditions)"
	}
	if len(cfg.only) > 0 {
		mode += ", scenarios " + strings.Join(cfg.only, ", ") + " only"
	}
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (`go run ./bench`, bench/) on %s; %s, %s in all.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), mode, time.Since(h.started).Round(time.Second))
	fmt.Fprintf(&b, "- Machine: %s\n- Go: %s\n- Commit: %s\n", machine(), goVersion(), commit())
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min) at the start: %s; at the end: %s (other work on the machine competes with the run)\n",
		h.loadAtStart, loadAverage())
	if v := postgresVersion(cfg); v != "" {
		fmt.Fprintf(&b, "- PostgreSQL: %s\n", v)
	}
	for _, n := range append(append([]string{}, h.notes...), h.failures...) {
		fmt.Fprintf(&b, "- %s\n", n)
	}

	b.WriteString("\n## Goals\n\n| # | goal | measured | verdict |\n|---|---|---|---|\n")
	for _, v := range evaluate(h, goals) {
		fmt.Fprintf(&b, "| %s | %s | %s | **%s** |\n", v.Goal.ID, v.Goal.Text, cellText(v.Detail), v.Status)
	}

	b.WriteString("\n## Protocol\n\n")
	fmt.Fprintf(&b, "Every scenario starts from a fresh database (a new SQLite file, or a new PostgreSQL schema) seeded with "+
		"`akconn seed` (on PostgreSQL, a `CHECKPOINT` then writes out what the seeding and earlier scenarios left in "+
		"memory, so that no measurement shares the disk with an earlier one's writes), and runs on both backends. "+
		"The server is built with `-tags=sqlite_fts5`; it, the baselines and the load generator are separate processes "+
		"on the same machine, talking over loopback. The generator is closed-loop (bench/load.go): each client holds one "+
		"keep-alive HTTP/1.1 connection (bench/client.go: prepared request bytes, only the status and framing headers of "+
		"an answer read, as wrk does) and sends its next request when the previous answer has arrived; %s of warm-up (answers checked, not timed), then the "+
		"measured time. Any non-2xx answer or transport error is an error. "+
		"Latencies are per request, p50 and p99 over the measured time; with several rounds, the tables give medians "+
		"over the rounds. CPU steal is the share of the machine's CPU time that the hypervisor ran other guests on during "+
		"the measured time (/proc/stat; median over the rounds): on a shared virtual machine it is what moves the throughput "+
		"of identical runs. Peak RSS is the VmHWM of the process that served the row, read at the end of its scenario.\n\n",
		cfg.warmup)
	b.WriteString("Variants:\n\n")
	for _, v := range variantTable {
		fmt.Fprintf(&b, "- `%s`: %s\n", v.Name, v.Note)
	}
	b.WriteString("\nScenarios:\n\n")
	for _, sc := range scenarios {
		if len(cfg.only) > 0 && !slices.Contains(cfg.only, sc.Name) {
			continue
		}
		rounds := ""
		if n := h.rounds(sc); n > 1 {
			rounds = fmt.Sprintf(", %d alternating rounds (medians reported)", n)
		}
		fresh := ""
		if sc.Fresh {
			fresh = " (a fresh one per variant)"
		}
		fmt.Fprintf(&b, "- **%s**: database%s seeded with %s; %d clients, %s measured%s; variants %s. %s\n",
			sc.Title, fresh, sc.Data, sc.Clients, h.duration(sc), rounds, strings.Join(quoted(sc.Variants), ", "), sc.Protocol)
	}
	if len(h.seeds) > 0 {
		fmt.Fprintf(&b, "\nSeeding took: %s.\n", strings.Join(h.seeds, "; "))
	}

	b.WriteString("\n## Results\n")
	for _, sc := range scenarios {
		renderTable(&b, h, sc)
	}
	renderErrors(&b, h)
	if p := h.profile; p != nil {
		fmt.Fprintf(&b, "\n## CPU profile of the server: %s, SQLite, variant `%s`\n\n"+
			"An extra %d s run after the rounds (%s req/s under the profiler), profiled through `--pprof-addr`; "+
			"the profile is kept in `bench-cpu-retrieve.prof` (`go tool pprof -http :8080 bench-cpu-retrieve.prof`).\n\n"+
			"Top functions by own time:\n\n```\n%s\n```\n\nBy cumulative time:\n\n```\n%s\n```\n",
			p.Title, p.Variant, p.Seconds, num(p.Run.RPS()), p.Flat, p.Cum)
	}
	return b.String()
}

// renderTable writes a scenario's measurements.
func renderTable(b *strings.Builder, h *harness, sc scenario) {
	var ms []*measurement
	for _, m := range h.results {
		if m.Scenario == sc.Name && !m.Profiled && len(m.Rounds) > 0 {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return
	}
	rounds := h.rounds(sc) > 1
	ratio := len(sc.Variants) > 1
	fmt.Fprintf(b, "\n### %s\n\nDatabase seeded with %s; %d clients; %s measured per run.\n\n| backend | request | variant | req/s |",
		sc.Title, sc.Data, sc.Clients, h.duration(sc))
	sep := "|---|---|---|---:|"
	if rounds {
		b.WriteString(" req/s per round |")
		sep += "---|"
	}
	if ratio {
		fmt.Fprintf(b, " ÷ `%s` |", sc.Variants[0])
		sep += "---:|"
	}
	b.WriteString(" p50 ms | p99 ms | CPU steal | errors | peak RSS MB |\n" + sep + "---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		errs, _ := m.Errors()
		rps := num(m.RPS())
		if m.Exhausted() {
			rps += " (ran out of requests)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |", m.Backend, m.Probe, m.Variant, rps)
		if rounds {
			var per []string
			for _, r := range m.Rounds {
				per = append(per, num(r.RPS()))
			}
			fmt.Fprintf(b, " %s |", strings.Join(per, " / "))
		}
		if ratio {
			s := ""
			for _, ref := range h.find(sc.Name, sc.Variants[0], m.Probe, m.Backend) {
				if ref.RPS() > 0 {
					s = fmt.Sprintf("%.2f×", m.RPS()/ref.RPS())
				}
			}
			fmt.Fprintf(b, " %s |", s)
		}
		fmt.Fprintf(b, " %s | %s | %s | %d | %.0f |\n", ms2(m.P50()), ms2(m.P99()), stealText(m.Steal()), errs, m.RSSMB)
	}
}

// renderErrors lists the first error of every measurement that had one.
func renderErrors(b *strings.Builder, h *harness) {
	first := true
	for _, m := range h.results {
		n, e := m.Errors()
		if n == 0 {
			continue
		}
		if first {
			b.WriteString("\n## Errors\n\nThe first error of each run that had any:\n\n")
			first = false
		}
		fmt.Fprintf(b, "- %s, %s, %s, %s: %d errors; first: `%s`\n", m.Backend, m.Scenario, m.Probe, m.Variant, n, strings.ReplaceAll(e, "`", "'"))
	}
}

func cellText(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}

func machine() string {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(strings.Split(string(raw), "\n")[0], "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.1f GiB memory", float64(kb)/(1<<20))
		}
	}
	nproc := fmt.Sprint(runtime.NumCPU())
	if out, err := exec.Command("nproc").Output(); err == nil {
		nproc = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("nproc %s (%s)%s, %s/%s", nproc, cpu, mem, runtime.GOOS, runtime.GOARCH)
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func goVersion() string {
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return runtime.Version()
}

// commit is `git rev-parse --short HEAD`, marked when files other than the
// report differ from it.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if dirty, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/BENCHMARKS.md").Output(); err == nil && len(dirty) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

func postgresVersion(cfg *config) string {
	if cfg.postgresURL == "" || !slices.Contains(cfg.backends, "postgres") {
		return ""
	}
	db, err := sql.Open("pgx", cfg.postgresURL)
	if err != nil {
		return ""
	}
	defer db.Close()
	var v string
	if db.QueryRow("SHOW server_version").Scan(&v) != nil {
		return ""
	}
	return v
}
