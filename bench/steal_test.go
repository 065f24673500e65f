package main

import "testing"

func TestParseCPUTakesTheStealColumn(t *testing.T) {
	stat := "cpu  100 5 40 800 10 0 5 50 7 0\ncpu0 50 2 20 400 5 0 2 25 3 0\n"
	got := parseCPU(stat)
	if !got.ok || got.total != 1010 || got.steal != 50 {
		t.Fatalf("parseCPU = %+v, want total 1010 (guest left out), steal 50", got)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu 1 2 3 4 5 6 7 x"} {
		if s := parseCPU(bad); s.ok {
			t.Errorf("parseCPU(%q) = %+v, want not ok", bad, s)
		}
	}
}

func TestStealShare(t *testing.T) {
	a := cpuSample{total: 1000, steal: 100, ok: true}
	b := cpuSample{total: 1400, steal: 200, ok: true}
	if got := stealShare(a, b); got != 0.25 {
		t.Errorf("stealShare = %v, want 0.25", got)
	}
	if got := stealText(stealShare(a, b)); got != "25%" {
		t.Errorf("stealText = %q, want 25%%", got)
	}
	for _, c := range [][2]cpuSample{{{}, b}, {a, {}}, {a, a}, {b, a}} {
		if got := stealShare(c[0], c[1]); got != -1 {
			t.Errorf("stealShare(%+v, %+v) = %v, want -1", c[0], c[1], got)
		}
	}
	if got := stealText(-1); got != "?" {
		t.Errorf("stealText(-1) = %q", got)
	}
}

func TestMeasurementStealIsTheMedianUnlessARoundIsUnknown(t *testing.T) {
	m := &measurement{Rounds: []result{{Steal: 0.30}, {Steal: 0.02}, {Steal: 0.10}}}
	if got := m.Steal(); got != 0.10 {
		t.Errorf("Steal = %v, want the median 0.10", got)
	}
	m.Rounds = append(m.Rounds, result{Steal: -1})
	if got := m.Steal(); got != -1 {
		t.Errorf("Steal with an unknown round = %v, want -1", got)
	}
}
