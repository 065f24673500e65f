package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"
)

// Defaults for reading request bodies.
const (
	// DefaultBodyMemory bounds the request body bytes held (and decoded)
	// at once across all requests; a body waits for its share.
	DefaultBodyMemory = 16 << 20
	// DefaultBodyReadTimeout is how long a client has to send a body once
	// its share of memory is reserved.
	DefaultBodyReadTimeout = 10 * time.Second
)

// bodyReader reads request bodies within a shared memory budget, so that
// what many concurrent bodies cost together stays bounded whatever they
// hold: each body reserves its declared size (the limit when it declares
// none) before it is read, and keeps it until its handler has finished
// with the decoded value.
type bodyReader struct {
	budget  *semaphore.Weighted
	limit   int64
	timeout time.Duration
}

func newBodyReader(memory, limit int64, timeout time.Duration) *bodyReader {
	return &bodyReader{budget: semaphore.NewWeighted(max(memory, limit)), limit: limit, timeout: timeout}
}

// read returns the whole body of c's request and a release function to
// call once the body is no longer needed. It fails with 413 for a body
// over the limit and 408 for one that does not arrive in time.
func (b *bodyReader) read(c echo.Context) ([]byte, func(), error) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return nil, func() {}, nil
	}
	if req.ContentLength > b.limit {
		return nil, nil, errBodyTooLarge
	}
	reserved := b.limit
	if req.ContentLength >= 0 {
		reserved = req.ContentLength
	}
	release := func() {}
	if reserved > smallBody {
		// Waiting for a share is bounded too: a few slow clients holding
		// the budget must not stall every other large write for long.
		wait, cancel := context.WithTimeout(req.Context(), b.timeout)
		err := b.budget.Acquire(wait, reserved)
		cancel()
		switch {
		case err != nil && req.Context().Err() != nil:
			return nil, nil, req.Context().Err() // the client went away
		case err != nil:
			return nil, nil, errBusy
		}
		release = func() { b.budget.Release(reserved) }
	}
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(b.timeout)) // unsupported by test recorders; harmless
	var buf bytes.Buffer
	buf.Grow(int(min(reserved, b.limit)) + bytes.MinRead)
	_, err := buf.ReadFrom(http.MaxBytesReader(c.Response(), req.Body, b.limit))
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		release()
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, nil, errBodyTooLarge
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, nil, &Problem{Status: http.StatusRequestTimeout, Detail: "Request body was not received in time."}
		}
		return nil, nil, parseError("the request body ended early")
	}
	if unused := reserved - int64(buf.Len()); unused > 0 && req.ContentLength < 0 && reserved > smallBody {
		b.budget.Release(unused)
		reserved -= unused
	}
	return buf.Bytes(), release, nil
}

var errBodyTooLarge = &Problem{Status: http.StatusRequestEntityTooLarge, Detail: "Request body too large."}

// errBusy answers a large body that found no share of the budget in time.
var errBusy = &Problem{Status: http.StatusServiceUnavailable, Detail: "The server is busy reading other large request bodies; try again."}

// smallBody is the size up to which a body (its declared length) is read
// without a share of the budget: small bodies are the common case, cost
// little even many at once, and must not queue behind large ones.
const smallBody = 64 << 10
