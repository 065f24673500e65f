// Package server serves authentik's OAuth user-connection API from the
// handlers generated out of openapi.yaml.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"akconn/gen"
	"akconn/store"
)

// BaseURL is where the API is served, as in authentik.
const BaseURL = "/api/v3"

// DefaultBodyLimit caps request bodies (bytes).
const DefaultBodyLimit = 1 << 20

// Config holds what New needs.
type Config struct {
	Store *store.Store
	// Spec is openapi.yaml, as embedded in the binary: the current
	// contract.
	Spec []byte
	// Contracts are the released contracts served beside the current one,
	// each at CompatBase (the current one is always there too); nil means
	// Registry.
	Contracts []Contract
	// APIVersion is the contract BaseURL speaks (CurrentVersion when
	// empty); New refuses a version it does not serve.
	APIVersion string
	Logger     *slog.Logger
	// ResponseValidation defaults to ResponseEnforce.
	ResponseValidation ResponseValidation
	// BodyLimit caps one request body (bytes); it defaults to
	// DefaultBodyLimit.
	BodyLimit int64
	// BodyMemory caps the body bytes held by all requests at once; it
	// defaults to DefaultBodyMemory.
	BodyMemory int64
	// EventRetention is how long events are kept; it defaults to
	// DefaultEventRetention.
	EventRetention time.Duration
	// NoAudit turns the audit trail off: writes record no events. It
	// exists to measure what the trail costs; authentik has no such switch.
	NoAudit bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (none: the peer is the client).
	TrustedProxies []netip.Prefix
	// Metrics are the server's metrics; New makes them when nil.
	Metrics *Metrics
	// MetricsElsewhere leaves MetricsPath off the main listener (the
	// metrics have a listener of their own: Metrics.Handler).
	MetricsElsewhere bool
	// Build names the binary in the metrics New makes.
	Build Build
	// AuthCacheTTL is how long a verified API key is remembered (0: not at
	// all). Revocation through another replica takes effect within it.
	AuthCacheTTL time.Duration
}

// Server implements the generated gen.ServerInterface.
type Server struct {
	store          *store.Store
	log            *slog.Logger
	tokens         *tokenCache
	eventRetention time.Duration
	trustedProxies []netip.Prefix
	noAudit        bool
	metrics        *Metrics
	sources        sourceViews
}

// DefaultEventRetention is how long events are kept unless configured
// otherwise: 365 days, as in authentik.
const DefaultEventRetention = 365 * 24 * time.Hour

var _ gen.ServerInterface = (*Server)(nil)

// New builds the echo instance that serves the API: every contract's spec
// loaded and compiled once, each served at its mount (serveMount) with
// request and response validation on every operation, authentication,
// handlers, its schema and API browser; health checks and metrics.
func New(cfg Config) (*echo.Echo, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ResponseValidation == "" {
		cfg.ResponseValidation = ResponseEnforce
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.BodyMemory <= 0 {
		cfg.BodyMemory = DefaultBodyMemory
	}
	released := cfg.Contracts
	if released == nil {
		released = Registry
	}
	mounts, current, err := planMounts(cfg.Spec, released, cfg.APIVersion)
	if err != nil {
		return nil, err
	}
	if cfg.EventRetention <= 0 {
		cfg.EventRetention = DefaultEventRetention
	}
	s := &Server{store: cfg.Store, log: cfg.Logger, tokens: &tokenCache{ttl: cfg.AuthCacheTTL, entries: map[string]cachedToken{}},
		eventRetention: cfg.EventRetention, trustedProxies: cfg.TrustedProxies, noAudit: cfg.NoAudit, metrics: cfg.Metrics}
	if s.metrics == nil {
		s.metrics = NewMetrics(cfg.Store, cfg.Build)
	}
	labels := &routeLabels{}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	away := newOutage(cfg.Logger, cfg.Store.Ping, cfg.Store.Closed(), s.metrics.dbRefusals)
	e.HTTPErrorHandler = errorHandler(cfg.Logger, away)
	e.JSONSerializer = jsonSerializer{}
	e.Pre(headAsGet(e))
	e.Use(securityHeaders)
	e.Use(requestID)
	e.Use(observeRequests(cfg.Logger, s.metrics, labels))
	e.Use(recoverPanics) // a panic becomes a logged 500, not a dropped connection

	bodies := newBodyReader(cfg.BodyMemory, cfg.BodyLimit, DefaultBodyReadTimeout)
	operations := map[string]string{}
	for _, m := range mounts {
		if err := s.serveMount(e, m, current, cfg, bodies, operations); err != nil {
			return nil, err
		}
	}
	if !cfg.MetricsElsewhere {
		e.GET(MetricsPath, echo.WrapHandler(s.metrics.Handler()))
	}
	e.GET("/-/health/live/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.GET("/-/health/ready/", away.ready)
	*labels = *newRouteLabels(e, operations, mounts)
	return e, nil
}

// echoPattern turns an OpenAPI path template into echo's (":id" for
// "{id}").
func echoPattern(path string) string {
	return strings.NewReplacer("{", ":", "}", "").Replace(path)
}

// recoverPanics turns a panic in a handler into an error, which the error
// handler answers with a 500 and logs.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// observeRequests writes one structured line per request and counts it in
// the metrics. It never logs bodies, query strings or headers, so secrets
// cannot reach the log.
func observeRequests(log *slog.Logger, m *Metrics, labels *routeLabels) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			method := c.Request().Method
			if answersHEAD(c) {
				method = http.MethodHead
			}
			took := time.Since(start)
			operation, contract := labels.of(c, method)
			m.observe(operation, contract, method, c.Response().Status, took)
			attrs := [7]slog.Attr{
				slog.String("method", method),
				slog.String("path", c.Request().URL.Path),
				slog.String("route", c.Path()),
				slog.Int("status", c.Response().Status),
				slog.Float64("duration_ms", float64(took.Microseconds())/1000),
				slog.String("request_id", requestIDOf(c)),
			}
			n := 6
			if u := caller(c); u != nil {
				attrs[n], n = slog.Int64("user", u.ID), n+1
			}
			// Straight to the handler, with no caller's pc: Logger.LogAttrs
			// takes one (runtime.Callers) for every line, a cost on every
			// request, and no handler here logs the source.
			if h := log.Handler(); h.Enabled(c.Request().Context(), slog.LevelInfo) {
				r := slog.NewRecord(start.Add(took), slog.LevelInfo, "request", 0)
				r.AddAttrs(attrs[:n]...)
				_ = h.Handle(c.Request().Context(), r)
			}
			return nil
		}
	}
}
