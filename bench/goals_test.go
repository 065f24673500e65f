package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRatioTextNeverRoundsOntoTheGoal(t *testing.T) {
	for _, c := range []struct {
		ratio, min float64
		want       string
	}{
		{0.93, 0.8, "0.93"},
		{0.8468, 0.85, "0.846"},
		{0.84999, 0.85, "0.849"},
		{0.851, 0.85, "0.85"},
		{0.82, 0.85, "0.82"},
		{1.03, 0, "1.03"},
	} {
		if got := ratioText(c.ratio, c.min); got != c.want {
			t.Errorf("ratioText(%v, %v) = %q, want %q", c.ratio, c.min, got, c.want)
		}
	}
}

func TestRoundRatiosPairRoundByRound(t *testing.T) {
	rounds := func(rps ...int64) *measurement {
		m := &measurement{}
		for _, n := range rps {
			m.Rounds = append(m.Rounds, result{Requests: n, Duration: time.Second})
		}
		return m
	}
	if got, want := roundRatios(rounds(90, 40, 100), rounds(100, 50, 0)), "; round by round: 0.90 / 0.80 / ?"; got != want {
		t.Errorf("roundRatios = %q, want %q", got, want)
	}
	if got := roundRatios(rounds(90), rounds(100)); got != "" {
		t.Errorf("one round: %q, want none", got)
	}
	if got := roundRatios(rounds(90, 40), rounds(100)); got != "" {
		t.Errorf("unpaired rounds: %q, want none", got)
	}
}

// TestAuditGoalNeedsTheCreateRateAndTheRatio checks goal 7 as the plan
// states it: on each backend the audited creates (the default server) run
// at 3,000/s or more, and at 0.75× or more of the creates without.
func TestAuditGoalNeedsTheCreateRateAndTheRatio(t *testing.T) {
	cfg := &config{backends: []string{"sqlite", "postgres"}, listConnections: 1000, listEvents: 1000}
	_, goals := plan(cfg)
	i := slices.IndexFunc(goals, func(g goal) bool { return g.ID == "7" })
	if i < 0 {
		t.Fatal("no goal 7")
	}
	g := goals[i]
	for _, want := range []string{"≥ 3,000/s", "≥ 0.75×", "--audit=false"} {
		if !strings.Contains(g.Text, want) {
			t.Errorf("goal 7 reads %q, lacks %q", g.Text, want)
		}
	}
	measured := func(variant, backend string, rps int64) *measurement {
		return &measurement{Scenario: "create-audit", Probe: "create", Variant: variant, Backend: backend,
			Rounds: []result{{Requests: rps, Duration: time.Second}}}
	}
	for _, c := range []struct {
		name                   string
		sqlite, postgres       [2]int64 // audited, unaudited creates/s
		wantStatus, wantDetail string
	}{
		{"both met", [2]int64{5000, 6600}, [2]int64{3100, 4100}, met, "sqlite: 0.76×"},
		{"slow on postgres", [2]int64{5000, 6000}, [2]int64{2900, 3000}, notMet, "postgres: 0.97× (2,900 vs 3,000 req/s; CPU steal 0% vs 0%), under 3,000/s"},
		{"ratio under on sqlite", [2]int64{4400, 6000}, [2]int64{4000, 4500}, notMet, "sqlite: 0.73× (4,400 vs 6,000 req/s; CPU steal 0% vs 0%), under 0.75×"},
	} {
		h := &harness{cfg: cfg, results: []*measurement{
			measured("default", "sqlite", c.sqlite[0]), measured("no-audit", "sqlite", c.sqlite[1]),
			measured("default", "postgres", c.postgres[0]), measured("no-audit", "postgres", c.postgres[1]),
		}}
		v := evaluate(h, []goal{g})[0]
		if v.Status != c.wantStatus || !strings.Contains(v.Detail, c.wantDetail) {
			t.Errorf("%s: %s, %q; want %s with %q", c.name, v.Status, v.Detail, c.wantStatus, c.wantDetail)
		}
	}
}
