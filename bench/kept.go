package main

import (
	"os"
	"strings"
)

// keptMarker starts the hand-written part of docs/BENCHMARKS.md:
// measurements that make bench does not take (Go micro-benchmarks, one-off
// comparisons). A new report keeps that part as it is.
const keptMarker = "<!-- Below: written by hand; make bench keeps it. -->"

// withKeptPart appends to report the hand-written part of the report file
// at path, if it has one.
func withKeptPart(report, path string) string {
	old, err := os.ReadFile(path)
	if err != nil {
		return report
	}
	_, kept, ok := strings.Cut(string(old), keptMarker)
	if !ok {
		return report
	}
	return strings.TrimRight(report, "\n") + "\n\n" + keptMarker + kept
}
