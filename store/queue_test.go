package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// blockedQueue is a one-worker queue whose first batch waits for release:
// the jobs offered meanwhile wait in the queue, to be gathered together.
type blockedQueue struct {
	q       *batchQueue[int, int]
	started chan struct{}
	release chan struct{}
	mu      sync.Mutex
	batches [][]int
}

func newBlockedQueue(size int, run func([]int) ([]int, error)) *blockedQueue {
	b := &blockedQueue{started: make(chan struct{}), release: make(chan struct{})}
	first := true
	b.q = newBatchQueue(size, 1, func(batch []int) ([]int, error) {
		b.mu.Lock()
		b.batches = append(b.batches, append([]int(nil), batch...))
		b.mu.Unlock()
		if first {
			first = false
			close(b.started)
			<-b.release
		}
		return run(batch)
	})
	return b
}

// fill offers jobs 1, 2, … (one per result), the first once alone, and
// returns when the queue is full; their answers land in results and errs.
func (b *blockedQueue) fill(wg *sync.WaitGroup, results []int, errs []error) {
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], errs[i] = b.q.do(context.Background(), i+1) }()
		if i == 0 {
			<-b.started
		}
	}
	for len(b.q.jobs) < cap(b.q.jobs) {
		time.Sleep(time.Millisecond)
	}
}

// double answers each job with twice its value.
func double(batch []int) ([]int, error) {
	out := make([]int, len(batch))
	for i, v := range batch {
		out[i] = 2 * v
	}
	return out, nil
}

// offer runs do for each of values at once, after the first has started,
// and returns their answers once all are in.
func (b *blockedQueue) offer(t *testing.T, ctx context.Context, values ...int) ([]int, []error) {
	t.Helper()
	results, errs := make([]int, len(values)), make([]error, len(values))
	var wg sync.WaitGroup
	for i, v := range values {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = b.q.do(ctx, v)
		}()
		if i == 0 {
			<-b.started
		}
	}
	// The others are queued once the channel holds them.
	for deadline := time.Now().Add(5 * time.Second); len(b.q.jobs) < len(values)-1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs queued", len(b.q.jobs), len(values)-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(b.release)
	wg.Wait()
	return results, errs
}

// The jobs waiting when the worker is free run as one batch (at most the
// queue's size), and each caller gets its own job's result.
func TestBatchQueueGathersWhatWaits(t *testing.T) {
	b := newBlockedQueue(3, double)
	defer b.q.stop()
	results, errs := b.offer(t, context.Background(), 1, 2, 3, 4)
	for i, want := range []int{2, 4, 6, 8} {
		if errs[i] != nil || results[i] != want {
			t.Errorf("job %d: %d, %v; want %d", i+1, results[i], errs[i], want)
		}
	}
	if len(b.batches) != 2 || len(b.batches[0]) != 1 || len(b.batches[1]) != 3 {
		t.Errorf("batches %v, want the first alone, then the three that waited", b.batches)
	}
}

// A batch's error answers every job of that batch, and only those; a
// panic is the batch's error; a batch that gives too few results too.
func TestBatchQueueFailingBatch(t *testing.T) {
	boom := errors.New("statement failed")
	for name, run := range map[string]func([]int) ([]int, error){
		"error":    func([]int) ([]int, error) { return nil, boom },
		"panic":    func([]int) ([]int, error) { panic("boom") },
		"short":    func(batch []int) ([]int, error) { return make([]int, len(batch)-1), nil },
		"too many": func(batch []int) ([]int, error) { return make([]int, len(batch)+1), nil },
	} {
		t.Run(name, func(t *testing.T) {
			failed := false
			b := newBlockedQueue(8, func(batch []int) ([]int, error) {
				if !failed && len(batch) > 1 {
					failed = true
					return run(batch)
				}
				return double(batch)
			})
			defer b.q.stop()
			results, errs := b.offer(t, context.Background(), 1, 2, 3)
			if errs[0] != nil || results[0] != 2 {
				t.Errorf("job 1, alone in a batch that worked: %d, %v", results[0], errs[0])
			}
			for i := 1; i < 3; i++ {
				if errs[i] == nil {
					t.Errorf("job %d of the failing batch: %d, no error", i+1, results[i])
				}
			}
			if name == "error" && !errors.Is(errs[1], boom) {
				t.Errorf("job 2: %v, want the batch's error", errs[1])
			}
			// The worker survives a failing batch.
			if r, err := b.q.do(context.Background(), 5); err != nil || r != 10 {
				t.Errorf("after the failure: %d, %v", r, err)
			}
		})
	}
}

// A job whose caller left before its batch started is not run, and its
// caller is answered with the context's error.
func TestBatchQueueSkipsJobsWhoseCallerLeft(t *testing.T) {
	b := newBlockedQueue(8, double)
	defer b.q.stop()
	ctx, cancel := context.WithCancel(context.Background())
	results, errs := make([]int, 2), make([]error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); results[0], errs[0] = b.q.do(context.Background(), 1) }()
	<-b.started
	go func() { defer wg.Done(); results[1], errs[1] = b.q.do(ctx, 2) }()
	for len(b.q.jobs) < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(b.release)
	wg.Wait()
	if errs[0] != nil || results[0] != 2 {
		t.Errorf("job 1: %d, %v", results[0], errs[0])
	}
	if !errors.Is(errs[1], context.Canceled) {
		t.Errorf("job 2, its caller gone: %d, %v; want context.Canceled", results[1], errs[1])
	}
	for _, batch := range b.batches {
		for _, v := range batch {
			if v == 2 {
				t.Errorf("job 2 ran in batch %v after its caller left", batch)
			}
		}
	}
}

// stop, called while a batch runs and jobs wait, lets every queued job
// run and be answered once, then refuses new jobs with errQueueStopped.
func TestBatchQueueStopWhileBusy(t *testing.T) {
	b := newBlockedQueue(2, double)
	results, errs := make([]int, 3), make([]error, 3)
	var wg sync.WaitGroup
	b.fill(&wg, results, errs) // one runs, two wait in the queue
	stopped := make(chan struct{})
	go func() { b.q.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("stop returned while a batch was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	<-stopped
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || results[i] != 2*(i+1) {
			t.Errorf("job %d: %d, %v", i+1, results[i], errs[i])
		}
	}
	if _, err := b.q.do(context.Background(), 9); !errors.Is(err, errQueueStopped) {
		t.Errorf("a job after stop: %v, want errQueueStopped", err)
	}
	b.q.stop() // a second stop is harmless
}

// stop, called while a sender is blocked on the full queue (holding the
// queue's read lock), waits for it: the blocked job is queued, run and
// answered, and a job offered once stop has begun gets errQueueStopped.
func TestBatchQueueStopWithABlockedSender(t *testing.T) {
	b := newBlockedQueue(1, double)
	results, errs := make([]int, 4), make([]error, 4)
	var wg sync.WaitGroup
	b.fill(&wg, results[:3], errs[:3]) // one runs, one waits in the queue, one is blocked sending
	time.Sleep(20 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { b.q.stop(); close(stopped) }()
	time.Sleep(20 * time.Millisecond)
	wg.Add(1)
	go func() { defer wg.Done(); results[3], errs[3] = b.q.do(context.Background(), 4) }()
	time.Sleep(20 * time.Millisecond)
	close(b.release)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop deadlocked")
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || results[i] != 2*(i+1) {
			t.Errorf("job %d: %d, %v", i+1, results[i], errs[i])
		}
	}
	if !errors.Is(errs[3], errQueueStopped) {
		t.Errorf("a job offered after stop began: %v, want errQueueStopped", errs[3])
	}
}
