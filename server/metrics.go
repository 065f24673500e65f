package server

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"akconn/store"
)

// MetricsPath is where the metrics are served on the main listener
// (unless they have a listener of their own).
const MetricsPath = "/-/metrics/"

// Metrics are the server's Prometheus metrics, in a registry of their
// own. Every label value comes from the server, never from the request:
// operations are the spec's operationIds (or, off the API, the route
// pattern, or "unmatched"), methods are the HTTP methods the API knows
// (others are "other"), statuses are what the server answered.
type Metrics struct {
	registry *prometheus.Registry

	requests           *prometheus.CounterVec
	duration           *prometheus.HistogramVec
	requestRejections  *prometheus.CounterVec
	responseRejections *prometheus.CounterVec
	authFailures       *prometheus.CounterVec
	clientClosed       *prometheus.CounterVec
	dbRefusals         prometheus.Counter

	// answered holds, per requestLabels, the request counter and duration
	// histogram of those labels, so that a request does not find them by
	// hashing the label values (CounterVec.WithLabelValues), a cost on
	// every request.
	answered sync.Map
}

// requestLabels are the labels of an answered request.
type requestLabels struct {
	operation, method, contract string
	status                      int
}

// requestSeries are the series of one requestLabels.
type requestSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// Build describes the running binary, for the build info metric.
type Build struct{ Version, Commit string }

// NewMetrics makes the metrics of a server on st: its requests, the
// database pool and writes, build info, and the Go runtime and process.
func NewMetrics(st *store.Store, build Build) *Metrics {
	r := prometheus.NewRegistry()
	labels := []string{"operation", "method", "status", "contract"}
	m := &Metrics{
		registry: r,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "akconn_http_requests_total",
			Help: "Requests answered, by operation (the spec's operationId; off the API the route, or unmatched), method, status and contract (the version the mount speaks; none off the API)."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "akconn_http_request_duration_seconds",
			Help:    "Time from the request's arrival to its answer, by operation, method, status and contract.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, labels),
		requestRejections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "akconn_request_validation_rejections_total",
			Help: "Requests refused by request validation (parameters, body) before their handler ran, by operation."}, []string{"operation"}),
		responseRejections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "akconn_response_validation_rejections_total",
			Help: "Responses that broke the spec (replaced by a 500 when enforced), by operation."}, []string{"operation"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "akconn_authentication_failures_total",
			Help: "Requests refused by authentication, by reason: missing, unsupported_type, malformed, invalid_token."}, []string{"reason"}),
		clientClosed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "akconn_client_closed_requests_total",
			Help: "Requests whose client went away before the answer (logged with status 499, not server errors), by operation."}, []string{"operation"}),
		dbRefusals: prometheus.NewCounter(prometheus.CounterOpts{Name: "akconn_db_unavailable_refusals_total",
			Help: "Requests refused with 503 because the database was unavailable (away, shutting down, out of disk, locked too long)."}),
	}
	for _, reason := range []string{authMissing, authUnsupported, authMalformed, authInvalid} {
		m.authFailures.WithLabelValues(reason) // every reason shows, 0 until it happens
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "akconn_build_info",
		Help: "The running binary: version, commit and Go version (always 1)."}, []string{"version", "commit", "goversion"})
	info.WithLabelValues(build.Version, build.Commit, runtime.Version()).Set(1)
	r.MustRegister(writerMetrics(st)...)
	r.MustRegister(m.requests, m.duration, m.requestRejections, m.responseRejections, m.authFailures, m.clientClosed, m.dbRefusals, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db, err := st.DB().DB(); err == nil {
		r.MustRegister(collectors.NewDBStatsCollector(db, st.Dialect()))
	}
	return m
}

// writerMetrics are the counters of st's writes: on SQLite, the group
// commits of its single writer, the writes they carried and the time it
// spent on them (its rate near 1: writes queue behind it); on PostgreSQL,
// the batch statements of connection creates and the creates they carried.
func writerMetrics(st *store.Store) []prometheus.Collector {
	commits := func() float64 { n, _ := st.GroupCommits(); return float64(n) }
	writes := func() float64 { _, n := st.GroupCommits(); return float64(n) }
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "akconn_store_group_commits_total",
			Help: "SQLite: commits of the writer, each carrying the writes waiting at that moment. PostgreSQL: batch statements of connection creates."}, commits),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "akconn_store_grouped_writes_total",
			Help: "SQLite: writes the writer's commits carried. PostgreSQL: connection creates the batch statements inserted."}, writes),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "akconn_store_writer_busy_seconds_total",
			Help: "SQLite: time the writer spent on its batches; a rate near 1 means writes queue behind it. Always 0 on PostgreSQL."},
			func() float64 { return st.WriterBusy().Seconds() }),
	}
}

// Handler serves the metrics in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Reasons of authentication failures.
const (
	authMissing     = "missing"
	authUnsupported = "unsupported_type"
	authMalformed   = "malformed"
	authInvalid     = "invalid_token"
)

// authFailed counts a refused authentication.
func (m *Metrics) authFailed(reason string) { m.authFailures.WithLabelValues(reason).Inc() }

// knownMethods are the methods a method label may name.
var knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}

// routeLabels names requests for the metrics: by operationId for the
// API's routes, by pattern for the others, and by the contract of the
// mount they were sent to.
type routeLabels struct {
	operations map[string]string // "METHOD pattern" → operationId
	patterns   map[string]string // every registered pattern → its contract
}

// noContract is the contract label of a request to no mount.
const noContract = "none"

// newRouteLabels reads e's routes once they are all registered.
func newRouteLabels(e *echo.Echo, operations map[string]string, mounts []*mount) *routeLabels {
	l := &routeLabels{operations: operations, patterns: map[string]string{}}
	for _, r := range e.Routes() {
		l.patterns[r.Path] = noContract
		for _, m := range mounts {
			if strings.HasPrefix(r.Path, m.base) {
				l.patterns[r.Path] = m.version
			}
		}
	}
	return l
}

// of returns the operation and contract labels of c's request.
func (l *routeLabels) of(c echo.Context, method string) (operation, contract string) {
	if method == http.MethodHead {
		method = http.MethodGet // HEAD is served as GET
	}
	pattern := c.Path()
	contract, known := l.patterns[pattern]
	if !known {
		return "unmatched", noContract
	}
	if op, ok := l.operations[method+" "+pattern]; ok {
		return op, contract
	}
	return pattern, contract
}

// observe counts one answered request.
func (m *Metrics) observe(operation, contract, method string, status int, took time.Duration) {
	if !knownMethods[method] {
		method = "other"
	}
	key := requestLabels{operation, method, contract, status}
	series, ok := m.answered.Load(key)
	if !ok {
		code := strconv.Itoa(status)
		series, _ = m.answered.LoadOrStore(key, &requestSeries{m.requests.WithLabelValues(operation, method, code, contract),
			m.duration.WithLabelValues(operation, method, code, contract)})
	}
	series.(*requestSeries).requests.Inc()
	series.(*requestSeries).duration.Observe(took.Seconds())
	if status == StatusClientClosedRequest {
		m.clientClosed.WithLabelValues(operation).Inc()
	}
}

// passedValidation marks, in echo's context, a request that request
// validation let through.
const passedValidation = "validation_passed"

// countRejections wraps an operation's request validation: a request it
// refuses (its error, before the handler runs) is counted.
func (m *Metrics) countRejections(operation string, validate echo.MiddlewareFunc) echo.MiddlewareFunc {
	rejected := m.requestRejections.WithLabelValues(operation)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		inner := validate(func(c echo.Context) error {
			c.Set(passedValidation, true)
			return next(c)
		})
		return func(c echo.Context) error {
			err := inner(c)
			if err != nil && c.Get(passedValidation) == nil {
				rejected.Inc()
			}
			return err
		}
	}
}
