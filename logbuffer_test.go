package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that a test reads while a logBuffer's
// flusher writes to it.
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

func TestLogBufferWritesLinesOutTogetherWithinTheInterval(t *testing.T) {
	out := &lockedBuffer{}
	b := newLogBuffer(out)
	for i := 0; i < 100; i++ {
		if _, err := b.Write([]byte("line\n")); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := out.read(); got != "" {
		t.Fatalf("written at once: %q", got)
	}
	deadline := time.Now().Add(10 * logFlushInterval)
	for {
		got, writes := out.read()
		if got == strings.Repeat("line\n", 100) {
			if writes != 1 {
				t.Errorf("100 lines took %d writes, want 1", writes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d bytes written, want 500", 10*logFlushInterval, len(got))
		}
		time.Sleep(logFlushInterval / 10)
	}

	if _, err := b.Write([]byte("last\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := out.read(); !strings.HasSuffix(got, "line\nlast\n") {
		t.Fatalf("after Close: %q, want the last line written out", got)
	}
	if _, err := b.Write([]byte("after\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := out.read(); !strings.HasSuffix(got, "last\nafter\n") {
		t.Fatalf("a line logged after Close is not written at once: %q", got)
	}
}
