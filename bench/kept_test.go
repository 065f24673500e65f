package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNewReportKeepsTheHandWrittenPart checks that a report written over
// docs/BENCHMARKS.md keeps what follows keptMarker, and only that.
func TestNewReportKeepsTheHandWrittenPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if got := withKeptPart("# new\n", path); got != "# new\n" {
		t.Errorf("no file: %q", got)
	}
	if err := os.WriteFile(path, []byte("# old\nold results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := withKeptPart("# new\n", path); got != "# new\n" {
		t.Errorf("no marker: %q", got)
	}
	if err := os.WriteFile(path, []byte("# old\nold results\n"+keptMarker+"\n\n## By hand\n\nnumbers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "# new\n\n" + keptMarker + "\n\n## By hand\n\nnumbers\n"
	if got := withKeptPart("# new\n", path); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
