package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Verdicts of a goal.
const (
	met         = "MET"
	notMet      = "NOT MET"
	notMeasured = "NOT MEASURED"
	info        = "INFO"
)

// verdict is a goal checked on the results.
type verdict struct {
	Goal           goal
	Status, Detail string
}

// median returns the median over the rounds of f.
func (m *measurement) median(f func(result) float64) float64 {
	if len(m.Rounds) == 0 {
		return 0
	}
	v := make([]float64, len(m.Rounds))
	for i, r := range m.Rounds {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// RPS is the median of req/s over the rounds.
func (m *measurement) RPS() float64 { return m.median(result.RPS) }

// Steal is the median over the rounds of the CPU steal share (-1 when a
// round's is unknown).
func (m *measurement) Steal() float64 {
	if slices.ContainsFunc(m.Rounds, func(r result) bool { return r.Steal < 0 }) {
		return -1
	}
	return m.median(func(r result) float64 { return r.Steal })
}

// P50 is the median over the rounds of the median latency.
func (m *measurement) P50() time.Duration {
	return time.Duration(m.median(func(r result) float64 { return float64(r.P50) }))
}

// P99 is the median over the rounds of the 99th-percentile latency.
func (m *measurement) P99() time.Duration {
	return time.Duration(m.median(func(r result) float64 { return float64(r.P99) }))
}

// Errors counts the errors of every round.
func (m *measurement) Errors() (n int64, first string) {
	for _, r := range m.Rounds {
		n += r.Errors
		if first == "" {
			first = r.FirstError
		}
	}
	return n, first
}

// Exhausted says a round ran out of requests before its time was up.
func (m *measurement) Exhausted() bool {
	return slices.ContainsFunc(m.Rounds, func(r result) bool { return r.Exhausted })
}

// find returns the measurements (profiled runs aside) of a scenario's
// variant on a backend, in probe order.
func (h *harness) find(scenario, variant, probe, backend string) []*measurement {
	var out []*measurement
	for _, m := range h.results {
		if m.Scenario == scenario && m.Variant == variant && m.Backend == backend && !m.Profiled && len(m.Rounds) > 0 &&
			(probe == "" || m.Probe == probe) {
			out = append(out, m)
		}
	}
	return out
}

// evaluate checks every goal.
func evaluate(h *harness, goals []goal) []verdict {
	var out []verdict
	for _, g := range goals {
		if g.Scenario != "" && len(h.cfg.only) > 0 && !slices.Contains(h.cfg.only, g.Scenario) {
			continue // not asked for
		}
		var v verdict
		switch g.Kind {
		case "rss":
			v = h.rssGoal(g)
		case "errors":
			v = h.errorGoal(g)
		default:
			v = h.scenarioGoal(g)
		}
		v.Goal = g
		if g.Info && v.Status != notMeasured {
			v.Status = info
		}
		out = append(out, v)
	}
	return out
}

func (h *harness) scenarioGoal(g goal) verdict {
	backends := g.Backends
	if backends == nil {
		backends = h.cfg.backends
	}
	var parts, missing []string
	failed := false
	for _, b := range backends {
		ms := h.find(g.Scenario, g.Variant, g.Probe, b)
		if len(ms) == 0 {
			missing = append(missing, b)
			parts = append(parts, b+": not measured")
			continue
		}
		if g.Versus != "" || g.VersusScenario != "" || g.VersusProbe != "" {
			versus, versusScenario := g.Versus, g.VersusScenario
			if versus == "" {
				versus = g.Variant
			}
			if versusScenario == "" {
				versusScenario = g.Scenario
			}
			others := h.find(versusScenario, versus, g.VersusProbe, b)
			if len(others) != len(ms) {
				missing = append(missing, b)
				parts = append(parts, fmt.Sprintf("%s: %q not measured", b, g.Versus))
				continue
			}
			var rs []string
			for i, m := range ms {
				ratio := m.RPS() / others[i].RPS()
				under := g.MinRatio > 0 && ratio < g.MinRatio
				slow := g.MinRPS > 0 && m.RPS() < g.MinRPS
				failed = failed || under || slow
				r := fmt.Sprintf("%s× (%s vs %s req/s; CPU steal %s vs %s%s)", ratioText(ratio, g.MinRatio), num(m.RPS()),
					num(others[i].RPS()), stealText(m.Steal()), stealText(others[i].Steal()), roundRatios(m, others[i]))
				if under {
					r += fmt.Sprintf(", under %.2f×", g.MinRatio)
				}
				if slow {
					r += fmt.Sprintf(", under %s/s", num(g.MinRPS))
				}
				rs = append(rs, r)
			}
			parts = append(parts, b+": "+strings.Join(rs, ", "))
			continue
		}
		var worst *measurement
		over := 0
		for _, m := range ms {
			errs, _ := m.Errors()
			bad := (g.MaxP99 > 0 && m.P99() > g.MaxP99) || (g.MinRPS > 0 && m.RPS() < g.MinRPS) || (g.NoErrors && errs > 0)
			if bad {
				over++
			}
			if worst == nil || (g.MaxP99 > 0 && m.P99() > worst.P99()) || (g.MaxP99 == 0 && m.RPS() < worst.RPS()) {
				worst = m
			}
		}
		failed = failed || over > 0
		errs, _ := worst.Errors()
		var s string
		switch {
		case g.MaxP99 > 0:
			s = fmt.Sprintf("worst p99 %s ms (%s)", ms2(worst.P99()), worst.Probe)
		default:
			s = fmt.Sprintf("%s/s, %d errors", num(worst.RPS()), errs)
		}
		if len(ms) > 1 {
			s += fmt.Sprintf(", %d of %d over", over, len(ms))
		}
		parts = append(parts, b+": "+s)
	}
	return verdict{Status: status(failed, missing), Detail: strings.Join(parts, "; ")}
}

func (h *harness) rssGoal(g goal) verdict {
	peak, seen := 0.0, map[string]bool{}
	var where string
	var parts []string
	failed := false
	for _, m := range h.results {
		if m.Baseline || m.Profiled || m.RSSMB == 0 {
			continue
		}
		if m.RSSMB > peak {
			peak, where = m.RSSMB, fmt.Sprintf("%s, %s, %s", m.Backend, m.Scenario, m.Variant)
		}
		if m.RSSMB > g.MaxRSSMB {
			failed = true
			key := fmt.Sprintf("%s/%s/%s", m.Backend, m.Scenario, m.Variant)
			if !seen[key] {
				seen[key] = true
				parts = append(parts, fmt.Sprintf("%s: %.0f MB", key, m.RSSMB))
			}
		}
	}
	if peak == 0 {
		return verdict{Status: notMeasured, Detail: "no server measured"}
	}
	detail := fmt.Sprintf("highest %.0f MB (%s)", peak, where)
	if len(parts) > 0 {
		detail += "; over: " + strings.Join(parts, ", ")
	}
	return verdict{Status: status(failed, nil), Detail: detail}
}

func (h *harness) errorGoal(goal) verdict {
	var total, runs int64
	var first string
	for _, m := range h.results {
		n, f := m.Errors()
		total += n
		runs += int64(len(m.Rounds))
		if first == "" && f != "" {
			first = fmt.Sprintf("%s, %s, %s: %s", m.Backend, m.Scenario, m.Variant, f)
		}
	}
	if runs == 0 {
		return verdict{Status: notMeasured, Detail: "nothing measured"}
	}
	detail := fmt.Sprintf("%d errors in %d runs", total, runs)
	if first != "" {
		detail += "; first: " + first
	}
	if len(h.failures) > 0 {
		detail += fmt.Sprintf("; %d scenario(s) failed to run", len(h.failures))
	}
	return verdict{Status: status(total > 0 || len(h.failures) > 0, nil), Detail: detail}
}

func status(failed bool, missing []string) string {
	switch {
	case failed:
		return notMet
	case len(missing) > 0:
		return notMeasured + " (" + strings.Join(missing, ", ") + ")"
	}
	return met
}

// num writes a rate with thousands separators.
func num(f float64) string { return group(int(f + 0.5)) }

// roundRatios is "; round by round: a / b / …", the ratio of m's req/s to
// other's in each round (the two ran one after the other), or "" unless
// both ran several rounds. The verdict stays on the ratio of the medians.
func roundRatios(m, other *measurement) string {
	if len(m.Rounds) < 2 || len(m.Rounds) != len(other.Rounds) {
		return ""
	}
	per := make([]string, len(m.Rounds))
	for i, r := range m.Rounds {
		per[i] = "?"
		if o := other.Rounds[i].RPS(); o > 0 {
			per[i] = fmt.Sprintf("%.2f", r.RPS()/o)
		}
	}
	return "; round by round: " + strings.Join(per, " / ")
}

// ratioText is ratio with two decimals, unless they would round a ratio
// under goal up to it: then with three, rounded down (0.847 against 0.85
// reads 0.847, not 0.85).
func ratioText(ratio, goal float64) string {
	if two := fmt.Sprintf("%.2f", ratio); ratio >= goal || two != fmt.Sprintf("%.2f", goal) {
		return two
	}
	return fmt.Sprintf("%.3f", math.Floor(ratio*1000)/1000)
}

func ms2(d time.Duration) string { return fmt.Sprintf("%.2f", msf(d)) }

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
