package server

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The watch of an outage that never ends stops when the store is closed,
// and the outage stays on: nothing said the database was back.
func TestOutageWatchEndsWithTheStore(t *testing.T) {
	closed := make(chan struct{})
	down := func(context.Context) error { return errors.New("connection refused") }
	o := newOutage(slog.New(slog.DiscardHandler), down, closed, prometheus.NewCounter(prometheus.CounterOpts{Name: "x"}))
	o.interval = time.Millisecond
	o.refuse(errors.New("connection refused"))
	time.Sleep(10 * time.Millisecond) // a few failed pings
	close(closed)
	ended := make(chan struct{})
	go func() { o.watching.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the watch went on after the store was closed")
	}
	if !o.unavailable() {
		t.Error("the outage ended though no ping succeeded")
	}
}
