package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// errQueueStopped says a job was not queued because its queue has stopped
// (the store is closing); the caller may run it alone.
var errQueueStopped = errors.New("queue stopped")

// batchQueue runs jobs in batches: each of its workers, when free, takes
// the jobs waiting at that moment (at most size) and runs them together.
// Both of the store's batching writers are one: SQLite's single writer,
// whose batch shares one transaction, and PostgreSQL's connection creates,
// whose batch shares one statement. A job that finds a worker idle runs at
// once, alone in its batch: the queue never waits for a batch to fill.
//
// Every job queued is answered exactly once, with its own result, the
// batch's error, its context's error (its caller left before its batch
// started: it is not run), or the panic of the batch it was in.
type batchQueue[J, R any] struct {
	jobs chan *queued[J, R]
	size int
	run  func(batch []J) ([]R, error)
	// mu is held to send on jobs; stop takes it exclusively to close it.
	mu      sync.RWMutex
	stopped bool
	wg      sync.WaitGroup
}

// queued is a job waiting in a batchQueue, with its caller's context and
// the channel of its answer.
type queued[J, R any] struct {
	ctx  context.Context
	job  J
	done chan answer[R]
}

// answer is what a job's caller gets back.
type answer[R any] struct {
	result R
	err    error
}

// newBatchQueue starts workers goroutines running batches of at most size
// jobs with run. run returns one result per job of its batch, in order, or
// an error, which answers every job of the batch.
func newBatchQueue[J, R any](size, workers int, run func(batch []J) ([]R, error)) *batchQueue[J, R] {
	q := &batchQueue[J, R]{jobs: make(chan *queued[J, R], size), size: size, run: run}
	for range workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for first := range q.jobs {
				q.runBatch(gather(first, q.jobs, size))
			}
		}()
	}
	return q
}

// do queues job and waits for its answer. It returns errQueueStopped when
// the queue has stopped, and ctx's error when ctx ends before the job is
// queued; once queued, a job is always answered, whatever ctx does
// meanwhile, so that its caller learns whether it was written.
func (q *batchQueue[J, R]) do(ctx context.Context, job J) (R, error) {
	item := &queued[J, R]{ctx: ctx, job: job, done: make(chan answer[R], 1)}
	var zero R
	q.mu.RLock()
	if q.stopped {
		q.mu.RUnlock()
		return zero, errQueueStopped
	}
	select {
	case q.jobs <- item:
	case <-ctx.Done():
		q.mu.RUnlock()
		return zero, ctx.Err()
	}
	q.mu.RUnlock()
	a := <-item.done
	return a.result, a.err
}

// stop lets the workers finish what is queued, then stops them. Jobs
// offered after it get errQueueStopped.
func (q *batchQueue[J, R]) stop() {
	q.mu.Lock()
	if !q.stopped {
		q.stopped = true
		close(q.jobs)
	}
	q.mu.Unlock()
	q.wg.Wait()
}

// runBatch runs the jobs of batch whose callers are still there, and
// answers every one of them.
func (q *batchQueue[J, R]) runBatch(batch []*queued[J, R]) {
	live := batch[:0:0]
	for _, item := range batch {
		if err := item.ctx.Err(); err != nil {
			item.done <- answer[R]{err: err}
			continue
		}
		live = append(live, item)
	}
	if len(live) == 0 {
		return
	}
	jobs := make([]J, len(live))
	for i, item := range live {
		jobs[i] = item.job
	}
	results, err := q.runSafely(jobs)
	if err == nil && len(results) != len(jobs) {
		err = fmt.Errorf("batch of %d jobs gave %d results", len(jobs), len(results))
	}
	for i, item := range live {
		if err != nil {
			item.done <- answer[R]{err: err}
			continue
		}
		item.done <- answer[R]{result: results[i]}
	}
}

// runSafely runs a batch, turning a panic into the batch's error.
func (q *batchQueue[J, R]) runSafely(jobs []J) (results []R, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("batch panicked: %v", r)
		}
	}()
	return q.run(jobs)
}

// gather returns first and what else is waiting on queue at this moment,
// up to max in all: a batch, without waiting for anything more.
func gather[T any](first T, queue <-chan T, max int) []T {
	batch := []T{first}
	for len(batch) < max {
		select {
		case next, ok := <-queue:
			if !ok {
				return batch
			}
			batch = append(batch, next)
		default:
			return batch
		}
	}
	return batch
}
