package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that a test reads while a logBuffer's
// flusher writes to it; it counts the writes.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.buf.Write(p)
}

func (l *lockedBuffer) read() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String(), l.writes
}

func writeLines(t *testing.T, b *logBuffer, line string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := b.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLogBufferWritesLinesOutTogetherAtClose(t *testing.T) {
	out := &lockedBuffer{}
	b := newLogBuffer(out, time.Hour)
	writeLines(t, b, "line\n", 100)
	if got, _ := out.read(); got != "" {
		t.Fatalf("written before the interval and before Close: %q", got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got, writes := out.read(); got != strings.Repeat("line\n", 100) || writes != 1 {
		t.Fatalf("after Close: %d bytes in %d writes, want 500 bytes in 1 write", len(got), writes)
	}
	writeLines(t, b, "after\n", 1)
	if got, _ := out.read(); !strings.HasSuffix(got, "line\nafter\n") {
		t.Fatalf("a line logged after Close is not written at once: %q", got)
	}
}

func TestLogBufferWritesLinesOutWithinTheInterval(t *testing.T) {
	out := &lockedBuffer{}
	b := newLogBuffer(out, 10*time.Millisecond)
	defer b.Close()
	writeLines(t, b, "line\n", 100)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if got, _ := out.read(); got == strings.Repeat("line\n", 100) {
			return
		}
		if time.Now().After(deadline) {
			got, _ := out.read()
			t.Fatalf("5 s after logging: %d bytes written, want 500", len(got))
		}
	}
}

func TestWarningsAreWrittenOutAtOnce(t *testing.T) {
	out := &lockedBuffer{}
	logs := newLogBuffer(out, time.Hour)
	defer logs.Close()
	log := slog.New(warningsAtOnce{slog.NewJSONHandler(logs, nil), logs}).With("replica", 1)
	log.Info("request")
	if got, _ := out.read(); got != "" {
		t.Fatalf("an INFO line is written at once: %q", got)
	}
	log.Warn("search scans")
	got, _ := out.read()
	if !strings.Contains(got, `"msg":"request"`) || !strings.Contains(got, `"msg":"search scans"`) ||
		strings.Index(got, `"msg":"request"`) > strings.Index(got, `"msg":"search scans"`) {
		t.Fatalf("after a warning: %q, want the INFO line and then the warning", got)
	}
}
