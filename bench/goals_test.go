package main

import (
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
