package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progress shows how far a long command has come: on a terminal a bar per
// stage with its rate and time left, elsewhere (logs, pipes) a plain line
// every few seconds and when a stage ends. Its update method is a
// store.Progress.
type progress struct {
	w        io.Writer
	terminal bool
	every    time.Duration

	mu    sync.Mutex
	what  string
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
}

// newProgress reports on w, as a bar when w is a terminal.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, terminal: ok && isatty.IsTerminal(f.Fd()), every: 2 * time.Second}
}

// update records that done of total items of what are through.
func (p *progress) update(what string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if what != p.what {
		p.finishLocked()
		p.what, p.start, p.last = what, now, time.Time{}
		if p.terminal {
			p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
				progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }))
		}
	}
	if p.bar != nil {
		_ = p.bar.Set64(done)
		return
	}
	if now.Sub(p.last) < p.every && done < total {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Seconds()
	line := fmt.Sprintf("%s: %d/%d", what, done, total)
	if total > 0 {
		line += fmt.Sprintf(" (%.0f%%)", 100*float64(done)/float64(total))
	}
	if elapsed > 0 && done > 0 {
		rate := float64(done) / elapsed
		line += fmt.Sprintf(", %.0f/s", rate)
		if done < total {
			line += fmt.Sprintf(", about %s left", (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second))
		}
	}
	fmt.Fprintln(p.w, line)
}

// finish ends the bar under way, if any.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishLocked()
}

func (p *progress) finishLocked() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
