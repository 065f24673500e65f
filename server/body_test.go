package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// Slow clients holding the whole body budget delay only other large
// bodies, and those for a bounded time (then 503); small bodies never wait.
func TestBodyBudgetDoesNotStallSmallBodies(t *testing.T) {
	b := newBodyReader(1<<20, 1<<20, 100*time.Millisecond)
	if err := b.budget.Acquire(context.Background(), 1<<20); err != nil { // slow clients hold it all
		t.Fatal(err)
	}
	e := echo.New()
	read := func(size int) error {
		req := httptest.NewRequest(http.MethodPatch, "/", strings.NewReader(strings.Repeat("x", size)))
		_, release, err := b.read(e.NewContext(req, httptest.NewRecorder()))
		if err == nil {
			release()
		}
		return err
	}
	start := time.Now()
	if err := read(200); err != nil || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("a small body: %v after %s", err, time.Since(start))
	}
	start = time.Now()
	err := read(smallBody + 1)
	var p *Problem
	if !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("a large body with no budget: %v after %s", err, time.Since(start))
	}
	b.budget.Release(1 << 20)
	if err := read(smallBody + 1); err != nil {
		t.Fatalf("a large body with budget: %v", err)
	}
}
