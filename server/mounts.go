package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"akconn/gen"
	"akconn/server/apibrowser"
)

// serveMount registers m's routes on e: the handlers, each behind m's own
// validators (and its changes, between them and the handler), m's schema/
// and its API browser. It adds the operations' routes to operations
// ("METHOD pattern" → operationId), for the metrics. current are the
// operations of the current contract, which the handlers implement.
func (s *Server) serveMount(e *echo.Echo, m *mount, current map[string]bool, cfg Config, bodies *bodyReader, operations map[string]string) error {
	validators, err := operationValidators(m.doc, cfg.ResponseValidation, bodies, cfg.Logger)
	if err != nil {
		return err
	}
	perOperation := make(map[string][]echo.MiddlewareFunc, len(validators))
	salt := m.etagSalt()
	for id, v := range validators {
		v.rejected = s.metrics.responseRejections.WithLabelValues(id)
		// Outermost first: response validation sees every answer, including
		// authentication and request validation errors; the changes see the
		// request as validated and give back the answer to validate.
		chain := []echo.MiddlewareFunc{v.validateResponse, s.authenticate, s.permit(id), s.audit(id),
			s.metrics.countRejections(id, v.validateRequest)}
		if adapt := adaptation(id, m.changes); adapt != nil {
			chain = append(chain, adapt)
		}
		if salt != "" {
			chain = append([]echo.MiddlewareFunc{etagSalted(salt)}, chain...)
		}
		if m.shown != nil {
			chain = append([]echo.MiddlewareFunc{showing(m.shown)}, chain...)
		}
		perOperation[id] = chain
		operations[v.route.Method+" "+echoPattern(m.base+v.route.Path)] = id
	}
	for id, v := range validators {
		if !current[id] { // the contract's own (sameOperations checked it has a handler)
			handler := m.operations[id]
			e.Add(v.route.Method, echoPattern(m.base+v.route.Path), func(c echo.Context) error { return handler(s, c) }, perOperation[id]...)
		}
	}
	for id := range current {
		if perOperation[id] == nil { // not in this contract: as if the path did not exist
			perOperation[id] = []echo.MiddlewareFunc{notInContract}
		}
	}
	gen.RegisterHandlersWithOptions(e, s, gen.RegisterHandlersOptions{BaseURL: m.base, OperationMiddlewares: perOperation})
	schema := m.schema
	e.GET(m.base+"/schema/", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/vnd.oai.openapi; charset=utf-8", schema)
	})
	apibrowser.Register(e, m.base) // the API browser (RapiDoc) on the mount's schema/, public like it
	return nil
}

// notInContract answers an operation of the current contract on a mount
// whose contract lacks it, as an unknown path is answered.
func notInContract(echo.HandlerFunc) echo.HandlerFunc {
	return func(echo.Context) error { return echo.ErrNotFound }
}

// etagSaltKey is where a mount leaves, in echo's context, the salt of its
// entity tags.
const etagSaltKey = "akconn.etag_salt"

// etagSalted marks the requests of a mount whose entity tags name its
// contract.
func etagSalted(salt string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(etagSaltKey, salt)
			return next(c)
		}
	}
}

// representationTag is tag as the mount of c's request sends it: with the
// mount's contract version when that contract's tags carry one, so that a
// strong tag names one representation.
func representationTag(c echo.Context, tag string) string {
	if salt, _ := c.Get(etagSaltKey).(string); salt != "" {
		return `"` + salt + ":" + tag[1:]
	}
	return tag
}
