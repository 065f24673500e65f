package main

import (
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

//go:embed analysis.md
var analysis string

// profiles holds `go tool pprof -top` text captured during runs.
var profiles []string

// captureProfile records a CPU profile of srv while the next scenario
// runs, and sends its top functions (or "" on failure).
func captureProfile(cfg *config, srv *process) chan string {
	out := make(chan string, 1)
	go func() {
		secs := int(cfg.duration.Seconds())
		resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", srv.pprof, max(1, secs)))
		if err != nil {
			out <- ""
			return
		}
		defer resp.Body.Close()
		file := filepath.Join(cfg.work, "cpu-retrieve.prof")
		raw, _ := io.ReadAll(resp.Body)
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			out <- ""
			return
		}
		_ = os.WriteFile("bench-cpu-retrieve.prof", raw, 0o644)
		top, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=25", cfg.server, file).CombinedOutput()
		if err != nil {
			out <- ""
			return
		}
		out <- string(top)
	}()
	time.Sleep(100 * time.Millisecond) // let the profile start before the load
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
		mem = strings.TrimSpace(strings.SplitN(strings.Split(string(raw), "\n")[0], ":", 2)[1])
	}
	return fmt.Sprintf("%d CPUs (%s), %s memory, %s %s/%s", runtime.NumCPU(), cpu, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func ratio(r float64) string {
	if r == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", r)
}

// render writes the report: the machine, the table, and the targets.
func render(cfg *config, rows []row, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (bench/) on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %s. The load generator runs on the same machine, over loopback: "+
		"closed loop, %d clients for retrieve, %d for lists (a latency measurement, not saturation), %d for writes, %s of warm-up then %s measured per scenario. "+
		"The server, the baselines and the generator are separate processes; `static` is a bare echo handler "+
		"answering the retrieve response from memory, `raw SQL` the same handler doing one database/sql point "+
		"select on the same SQLite file plus encoding/json. Ratios are to those baselines, measured in the same run. "+
		"Peak RSS is the server's VmHWM over both of its runs on that database.\n\n",
		machine(), cfg.readers, cfg.listers, cfg.writers, cfg.warmup, cfg.duration)
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\n| backend | connections | scenario | server | req/s | p50 ms | p99 ms | errors | ×static | ×raw SQL | peak RSS MB |\n")
	b.WriteString("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %.0f | %s | %s | %d | %s | %s | %.0f |\n", r.Backend, r.Size, r.Scenario, r.Mode,
			r.Result.RPS(), ms(r.Result.P50), ms(r.Result.P99), r.Result.Errors, ratio(r.VsStatic), ratio(r.VsSQL), r.RSSMB)
	}
	b.WriteString("\n## Targets (SQLite)\n\n")
	for _, line := range targets(rows) {
		fmt.Fprintf(&b, "- %s\n", line)
	}
	b.WriteString(analysis)
	for _, p := range profiles {
		b.WriteString("\n## CPU profile of the server during the retrieve scenario (largest SQLite database)\n\n```\n")
		b.WriteString(p)
		b.WriteString("```\n")
	}
	return b.String()
}

func find(rows []row, backend string, size int, scenario, mode string) (row, bool) {
	for _, r := range rows {
		if r.Backend == backend && r.Size == size && r.Scenario == scenario && r.Mode == mode {
			return r, true
		}
	}
	return row{}, false
}

// targets evaluates issue 6's targets on the SQLite rows.
func targets(rows []row) []string {
	var out []string
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	sizes := map[int]bool{}
	for _, r := range rows {
		if r.Backend == "sqlite" {
			sizes[r.Size] = true
		}
	}
	small, large := 0, 0
	for s := range sizes {
		if small == 0 || s < small {
			small = s
		}
		if s > large {
			large = s
		}
	}
	bounds := []int{small}
	if large != small {
		bounds = append(bounds, large)
	}
	for _, size := range bounds {
		if r, ok := find(rows, "sqlite", size, "retrieve", "validated"); ok {
			out = append(out, fmt.Sprintf("retrieve, both validators, %d rows: %.2f× raw SQL (target ≥ 0.5×): %s", size, r.VsSQL, verdict(r.VsSQL >= 0.5)))
		}
		if r, ok := find(rows, "sqlite", size, "retrieve", "resp. off"); ok {
			out = append(out, fmt.Sprintf("retrieve, response validation off, %d rows: %.2f× raw SQL (target ≥ 0.7×): %s", size, r.VsSQL, verdict(r.VsSQL >= 0.7)))
		}
	}
	for _, sc := range []string{"retrieve", "list (default order)", "list ?user=", "list ?source__slug=", "list ?search="} {
		a, ok1 := find(rows, "sqlite", small, sc, "validated")
		z, ok2 := find(rows, "sqlite", large, sc, "validated")
		if ok1 && ok2 && small != large {
			f := float64(z.Result.P99) / float64(a.Result.P99)
			out = append(out, fmt.Sprintf("%s p99 at %d vs %d rows: %s vs %s ms = %.2f× (target ≤ 1.5×): %s", sc, large, small, ms(z.Result.P99), ms(a.Result.P99), f, verdict(f <= 1.5)))
		}
		if strings.HasPrefix(sc, "list") && ok2 {
			out = append(out, fmt.Sprintf("%s p99 at %d rows: %s ms (target ≤ 25 ms): %s", sc, large, ms(z.Result.P99), verdict(z.Result.P99 <= 25*time.Millisecond)))
		}
	}
	for _, size := range bounds {
		for _, mode := range []string{"validated", "sync=NORMAL"} {
			if r, ok := find(rows, "sqlite", size, "create", mode); ok {
				out = append(out, fmt.Sprintf("create (%s), %d rows: %.0f/s with %d errors (target ≥ 2000/s, no errors): %s", mode, size, r.Result.RPS(), r.Result.Errors, verdict(r.Result.RPS() >= 2000 && r.Result.Errors == 0)))
			}
		}
	}
	peak := 0.0
	for _, r := range rows {
		if r.Backend == "sqlite" && !strings.HasPrefix(r.Mode, "baseline") && r.RSSMB > peak {
			peak = r.RSSMB
		}
	}
	out = append(out, fmt.Sprintf("server peak RSS: %.0f MB (target ≤ 150 MB): %s", peak, verdict(peak > 0 && peak <= 150)))
	return out
}
