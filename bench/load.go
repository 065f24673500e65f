package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// request builds the i-th request of a scenario.
type request func(i int64) (method, path string, body []byte)

// result is what one load run measured.
type result struct {
	Requests   int64
	Errors     int64
	Duration   time.Duration
	P50, P99   time.Duration
	FirstError string
}

// RPS is requests per second.
func (r result) RPS() float64 { return float64(r.Requests) / r.Duration.Seconds() }

// load drives base with workers concurrent closed-loop clients for d (after
// a short warm-up) and returns throughput and latency. A non-2xx answer or
// a transport error counts as an error.
func load(base, key string, workers int, warmup, d time.Duration, next request) result {
	transport := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	defer transport.CloseIdleConnections()
	var seq atomic.Int64
	run := func(dur time.Duration, record bool) result {
		var (
			mu        sync.Mutex
			latencies []time.Duration
			errs      atomic.Int64
			firstErr  atomic.Value
			wg        sync.WaitGroup
		)
		stop := time.Now().Add(dur)
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, 4096)
				for time.Now().Before(stop) {
					method, path, body := next(seq.Add(1))
					if method == "" {
						break // the scenario has no more work
					}
					var rd io.Reader
					if body != nil {
						rd = bytes.NewReader(body)
					}
					req, _ := http.NewRequest(method, base+path, rd)
					req.Header.Set("Authorization", "Bearer "+key)
					if body != nil {
						req.Header.Set("Content-Type", "application/json")
					}
					t0 := time.Now()
					resp, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					local = append(local, time.Since(t0))
					if err != nil || resp.StatusCode >= 300 {
						errs.Add(1)
						if err != nil {
							firstErr.CompareAndSwap(nil, err.Error())
						} else {
							firstErr.CompareAndSwap(nil, fmt.Sprintf("%s %s: %d", method, path, resp.StatusCode))
						}
					}
				}
				mu.Lock()
				latencies = append(latencies, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		if !record || len(latencies) == 0 {
			return result{}
		}
		sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
		r := result{
			Requests: int64(len(latencies)),
			Errors:   errs.Load(),
			Duration: elapsed,
			P50:      latencies[len(latencies)/2],
			P99:      latencies[len(latencies)*99/100],
		}
		if e, ok := firstErr.Load().(string); ok {
			r.FirstError = e
		}
		return r
	}
	if warmup > 0 {
		run(warmup, false)
	}
	return run(d, true)
}
