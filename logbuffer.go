package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushInterval is how long a log line may wait in a logBuffer.
const logFlushInterval = 100 * time.Millisecond

// logBuffer gathers the server's log lines and writes them out at most
// logFlushInterval after they were logged, or sooner when 64 KB are
// waiting or a warning comes (warningsAtOnce). Written one by one, the
// request log's lines cost a write(2) each: 3.4 % of a retrieve's CPU
// (pprof of the bench's retrieve). Close writes out what is left; a line
// logged less than logFlushInterval before the process is killed may be
// lost.
type logBuffer struct {
	mu      sync.Mutex
	out     io.Writer
	w       *bufio.Writer
	pending bool // something was written since the last flush
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// newLogBuffer starts a logBuffer in front of w that writes out what it
// holds every interval (the server's: logFlushInterval).
func newLogBuffer(w io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{out: w, w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

// Write buffers p (one log record: slog's handlers write each in one call).
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.out.Write(p)
	}
	b.pending = true
	return b.w.Write(p)
}

// Flush writes out what is buffered.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = false
	return b.w.Flush()
}

// Close stops the periodic flushes and writes out what is buffered; what
// is written after Close goes out at once.
func (b *logBuffer) Close() error {
	close(b.stop)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.w.Flush()
}

func (b *logBuffer) flushEvery(interval time.Duration) {
	defer close(b.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
			b.mu.Lock()
			if b.pending {
				b.pending = false
				_ = b.w.Flush()
			}
			b.mu.Unlock()
		}
	}
}

// warningsAtOnce is a slog.Handler that writes its buffer out after each
// record at WARN or above, so that warnings and errors (and the lines
// before them) are never held back; request lines, at INFO, wait.
type warningsAtOnce struct {
	slog.Handler
	logs *logBuffer
}

// Handle handles r, then writes the buffer out if r is a warning or worse.
func (h warningsAtOnce) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.logs.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// WithAttrs returns the handler with attrs, still writing warnings at once.
func (h warningsAtOnce) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warningsAtOnce{h.Handler.WithAttrs(attrs), h.logs}
}

// WithGroup returns the handler with a group, still writing warnings at once.
func (h warningsAtOnce) WithGroup(name string) slog.Handler {
	return warningsAtOnce{h.Handler.WithGroup(name), h.logs}
}
