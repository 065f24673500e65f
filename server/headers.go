package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// headRequest marks, in a request's context, a GET that answers a HEAD.
type headRequest struct{}

// answersHEAD reports whether c's request is the GET that answers a HEAD.
func answersHEAD(c echo.Context) bool {
	return c.Request().Context().Value(headRequest{}) != nil
}

// headAsGet answers HEAD as GET, as Django does: the request is served
// again as a GET (echo routes on the method the request arrived with),
// through the same connection writer, and net/http, which still holds the
// original HEAD request, sends the headers without the body.
func headAsGet(e *echo.Echo) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.Method != http.MethodHead {
				return next(c)
			}
			get := req.WithContext(context.WithValue(req.Context(), headRequest{}, true))
			get.Method = http.MethodGet
			e.ServeHTTP(c.Response().Writer, get)
			return nil
		}
	}
}

// securityHeaderValues are Django's default security headers.
var securityHeaderValues = map[string][]string{
	"X-Content-Type-Options":     {"nosniff"},
	"X-Frame-Options":            {"DENY"},
	"Referrer-Policy":            {"same-origin"},
	"Cross-Origin-Opener-Policy": {"same-origin"},
}

// securityHeaders sends Django's default security headers on every
// response: no MIME sniffing, no framing, no referrer to other origins, and
// a browsing context of its own.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		for k, v := range securityHeaderValues {
			h[k] = v // keys canonical, values shared and never changed: no allocation per request
		}
		return next(c)
	}
}

// noStore marks a response that carries a credential: no cache may keep it.
func noStore(c echo.Context) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
}
