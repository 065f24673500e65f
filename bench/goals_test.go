package main

import "testing"

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
