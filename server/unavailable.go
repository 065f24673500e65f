package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// retryAfter is the Retry-After of an answer refused because the
// database is unavailable. The outages it covers (a restart, a failover,
// a disk being freed) last seconds, and nothing is queued meanwhile: a
// retry is served as soon as the database answers again. Two seconds
// rather than one halves the retries a fleet of clients sends at a
// database that is still coming back, for at most a second more of wait.
const retryAfter = 2 * time.Second

// errDatabaseUnavailable answers a request the database could not serve
// for now (store.ErrUnavailable).
var errDatabaseUnavailable = &Problem{Status: http.StatusServiceUnavailable, RetryAfter: retryAfter,
	Detail: "The database is unavailable; try again later."}

// outage follows whether the database is unavailable, as the requests
// see it, so that an outage makes one ERROR line when it begins and one
// INFO line, with the number of requests refused, when it ends, instead of
// a line per request.
//
// The end is found by watching: while the database is unavailable, every
// retryAfter it is pinged, and it is back when the ping answers and no
// request was refused since the last look. A ping alone cannot tell:
// SQLite answers it while its disk is full. Nor can one request that
// succeeds: while the disk is full, reads keep working, and now and then
// a write too (one that fits in room the files already have). Watching
// also logs the end when no request comes.
type outage struct {
	log      *slog.Logger
	ping     func(context.Context) error
	closed   <-chan struct{} // the store's: no watch outlives it
	refusals prometheus.Counter
	interval time.Duration
	watching sync.WaitGroup

	mu      sync.Mutex
	down    bool
	since   time.Time
	refused int64 // requests refused since the outage began
	fresh   bool  // a request was refused since the watch last looked
}

func newOutage(log *slog.Logger, ping func(context.Context) error, closed <-chan struct{}, refusals prometheus.Counter) *outage {
	return &outage{log: log, ping: ping, closed: closed, refusals: refusals, interval: retryAfter}
}

// refuse counts a request refused because of err (store.ErrUnavailable).
func (o *outage) refuse(err error) {
	o.refusals.Inc()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused++
	o.fresh = true
	if o.down {
		return
	}
	o.down, o.since = true, time.Now()
	o.log.Error("database unavailable: refusing requests with 503 until it is back", "error", err.Error())
	o.watching.Add(1)
	go o.watch()
}

// unavailable reports whether an outage is under way.
func (o *outage) unavailable() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.down
}

// watch waits for the end of the outage and logs it. Any failed ping,
// not only one the store calls unavailable (a PostgreSQL restarted with
// other credentials, say), keeps the outage on: readiness must not say
// ready while the database does not answer. The watch ends when the store
// is closed.
func (o *outage) watch() {
	defer o.watching.Done()
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for {
		select {
		case <-o.closed:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), o.interval)
		err := o.ping(ctx)
		cancel()
		o.mu.Lock()
		if err == nil && !o.fresh {
			o.log.Info("database available again", "refused_requests", o.refused,
				"unavailable_for_ms", time.Since(o.since).Milliseconds())
			o.down, o.refused = false, 0
			o.mu.Unlock()
			return
		}
		o.fresh = false
		o.mu.Unlock()
	}
}

// ready answers the readiness check: 503, as a refused request, while
// the database does not answer or an outage is under way.
func (o *outage) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := o.ping(ctx); err != nil || o.unavailable() {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		return c.JSON(http.StatusServiceUnavailable, errDatabaseUnavailable.body())
	}
	return c.NoContent(http.StatusNoContent)
}
