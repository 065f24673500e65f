package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// request builds the i-th request of a run (i counts from 1 across the
// warm-up and the measured time) and names the API key it carries ("": the
// run's). An empty method means there is no more work: the client stops.
type request func(i int64) (method, path string, body []byte, key string)

// result is what one load run measured.
type result struct {
	Requests int64
	// Errors counts non-2xx answers and transport errors, those of the
	// warm-up included.
	Errors     int64
	Duration   time.Duration
	P50, P99   time.Duration
	FirstError string
	// Exhausted says the request source ran out before the time was up.
	Exhausted bool
	// Steal is the share of the machine's CPU time stolen by the
	// hypervisor during the measured time (-1: unknown).
	Steal float64
}

// RPS is requests per second.
func (r result) RPS() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Duration.Seconds()
}

// load drives base with workers concurrent closed-loop clients for d, after
// a warm-up whose answers are checked but not timed, and returns
// throughput and latency. Every request carries key as a bearer token.
func load(base, key string, workers int, warmup, d time.Duration, next request) result {
	conns := make([]*httpConn, workers)
	for i := range conns {
		c, err := newHTTPConn(base)
		if err != nil {
			return result{Errors: 1, FirstError: err.Error(), Steal: -1}
		}
		conns[i] = c
		defer c.close()
	}
	var seq atomic.Int64
	var warm result
	if warmup > 0 {
		warm = loadRun(conns, key, warmup, &seq, next)
	}
	before := readCPU()
	r := loadRun(conns, key, d, &seq, next)
	r.Steal = stealShare(before, readCPU())
	r.Errors += warm.Errors
	if r.FirstError == "" {
		r.FirstError = warm.FirstError
	}
	r.Exhausted = r.Exhausted || warm.Exhausted
	return r
}

// loadRun is one timed stretch of load, one client per connection.
func loadRun(conns []*httpConn, key string, d time.Duration, seq *atomic.Int64, next request) result {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      atomic.Int64
		exhausted atomic.Bool
		firstErr  atomic.Value
		wg        sync.WaitGroup
	)
	fail := func(msg string) {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, msg)
	}
	start := time.Now()
	stop := start.Add(d)
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(stop) {
				method, path, body, as := next(seq.Add(1))
				if method == "" {
					exhausted.Store(true)
					break
				}
				t0 := time.Now()
				if as == "" {
					as = key
				}
				status, answer, err := conn.do(method, path, as, body)
				local = append(local, time.Since(t0))
				switch {
				case err != nil:
					fail(fmt.Sprintf("%s %s: %v", method, path, err))
				case status/100 != 2:
					fail(fmt.Sprintf("%s %s: %d %s", method, path, status, strings.TrimSpace(string(answer))))
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{Errors: errs.Load(), Duration: time.Since(start), Exhausted: exhausted.Load()}
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	if len(latencies) == 0 {
		return r
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	r.Requests = int64(len(latencies))
	r.P50 = latencies[len(latencies)/2]
	r.P99 = latencies[len(latencies)*99/100]
	return r
}
