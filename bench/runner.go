package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// profile is the CPU profile taken during a scenario.
type profile struct {
	Title, Variant string
	Seconds        int
	Run            result
	Flat, Cum      string
}

// runScenario runs sc on backend: every variant that applies, on one
// database, or on one database each when sc is Fresh.
func (h *harness) runScenario(sc scenario, backend string) error {
	vs := sc.variantsFor(backend)
	if len(vs) == 0 {
		return nil
	}
	return h.runOn(sc, backend, vs)
}

// cell is one probe on one variant: its request source and measurement.
type cell struct {
	next request
	m    *measurement
}

// runOn seeds a fresh database (one per variant when sc is Fresh), starts
// a process per variant on it, and runs the rounds: in each, every variant
// in turn, every probe in turn, both in reverse order every other round
// (A B, B A, A B, …), so that no probe always runs after another on a
// database the other has just grown, and no variant always runs right
// after another's writes (PostgreSQL writing out its dirty pages,
// autovacuum) or always earlier in a drift of the machine's speed.
func (h *harness) runOn(sc scenario, backend string, vs []variant) error {
	say("== %s on %s", sc.Title, backend)
	dbs := make([]string, len(vs))
	for i := range vs {
		if i > 0 && !sc.Fresh {
			dbs[i] = dbs[0]
			continue
		}
		db, drop, err := h.freshDatabase(backend, sc.Data)
		if err != nil {
			return err
		}
		defer drop()
		dbs[i] = db
	}
	var procs []*process
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i, v := range vs {
		p, err := h.startVariant(v, dbs[i], procs)
		if err != nil {
			return fmt.Errorf("start %q: %w", v.Name, err)
		}
		procs = append(procs, p)
	}
	cells := make([][]cell, len(vs))
	for i, v := range vs {
		for _, pr := range sc.probesFor(v.Name) {
			next, err := pr.Build(procs[i])
			if err != nil {
				return fmt.Errorf("prepare %s on %q: %w", pr.Name, v.Name, err)
			}
			m := &measurement{Scenario: sc.Name, Probe: pr.Name, Variant: v.Name, Backend: backend, Baseline: v.Baseline != ""}
			h.results = append(h.results, m)
			cells[i] = append(cells[i], cell{next, m})
		}
	}
	rounds := h.rounds(sc)
	for round := 1; round <= rounds; round++ {
		turns := make([]int, len(vs))
		for i := range turns {
			turns[i] = i
		}
		if round%2 == 0 {
			slices.Reverse(turns)
		}
		for _, i := range turns {
			v := vs[i]
			order := slices.Clone(cells[i])
			if round%2 == 0 {
				slices.Reverse(order)
			}
			for _, c := range order {
				r := load(procs[i].base, adminKey, sc.Clients, h.cfg.warmup, h.duration(sc), c.next)
				c.m.Rounds = append(c.m.Rounds, r)
				say("%-8s %-9s %-30s %-9s round %d/%d: %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  steal %4s  errors %d %s", backend, sc.Name,
					c.m.Probe, v.Name, round, rounds, r.RPS(), msf(r.P50), msf(r.P99), stealText(r.Steal), r.Errors, r.FirstError)
			}
		}
	}
	if sc.Profile && h.cfg.profile && backend == "sqlite" && h.profile == nil {
		if err := h.takeProfile(sc, backend, vs[0], procs[0], cells[0][0].next); err != nil {
			h.notes = append(h.notes, "CPU profile not taken: "+err.Error())
		}
	}
	for i := range vs {
		rss := procs[i].peakRSS()
		for _, c := range cells[i] {
			c.m.RSSMB = rss
		}
	}
	return nil
}

// takeProfile runs the probe once more on p while its profiler records,
// keeps the profile in bench-cpu-SCENARIO.prof and its top functions for
// the report.
func (h *harness) takeProfile(sc scenario, backend string, v variant, p *process, next request) error {
	secs := max(1, int(h.duration(sc).Seconds()))
	got := make(chan []byte, 1)
	failed := make(chan error, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.pprof, secs))
		if err != nil {
			failed <- err
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			failed <- fmt.Errorf("profile: %d %v", resp.StatusCode, err)
			return
		}
		got <- raw
	}()
	time.Sleep(100 * time.Millisecond) // the profile starts before the load
	r := load(p.base, adminKey, sc.Clients, 0, time.Duration(secs)*time.Second, next)
	h.results = append(h.results, &measurement{Scenario: sc.Name, Probe: sc.Probes[0].Name, Variant: v.Name,
		Backend: backend, Profiled: true, Rounds: []result{r}})
	var raw []byte
	select {
	case raw = <-got:
	case err := <-failed:
		return err
	}
	file := "bench-cpu-" + sc.Name + ".prof"
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		file = filepath.Join(h.work, "cpu.prof")
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			return err
		}
	}
	top := func(extra ...string) (string, error) {
		args := append(append([]string{"tool", "pprof", "-top", "-nodecount=20"}, extra...), h.server, file)
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go tool pprof: %v: %s", err, out)
		}
		var keep []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.HasPrefix(line, "File:") && !strings.HasPrefix(line, "Build ID:") && !strings.HasPrefix(line, "Time:") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "\n"), nil
	}
	flat, err := top()
	if err != nil {
		return err
	}
	cum, err := top("-cum")
	if err != nil {
		return err
	}
	h.profile = &profile{Title: sc.Title, Variant: v.Name, Seconds: secs, Run: r, Flat: flat, Cum: cum}
	say("CPU profile saved in %s", file)
	return nil
}
