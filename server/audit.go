package server

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"akconn/store"
)

// headerRequestID carries a request's id, both ways.
const headerRequestID = "X-Request-Id"

// maxRequestID bounds a request id taken from the caller.
const maxRequestID = 128

// requestIDKey is where the request's id is kept in echo's context.
const requestIDKey = "request_id"

// requestID gives every request an id: the caller's X-Request-Id when it
// is sane (1 to 128 visible ASCII characters), else a new random one. It
// is sent back, written on each log line of the request, and recorded in
// each event the request writes.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Set(requestIDKey, id)
		c.Response().Header().Set(headerRequestID, id)
		return next(c)
	}
}

// saneRequestID reports whether a caller's request id may be used as is.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// newRequestID is 128 random bits in hex, as authentik's uuid4().hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestIDOf returns the id requestID gave c's request.
func requestIDOf(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

// viewKeyOperation reveals a secret: it is recorded although it is a read.
const viewKeyOperation = "core_tokens_view_key_retrieve"

// maxUserAgent bounds the user agent an event records.
const maxUserAgent = 512

// sensitiveArg matches query parameter names whose values an event masks,
// as authentik's cleanse_dict does.
var sensitiveArg = regexp.MustCompile(`(?i)api|token|key|secret|password|signature|auth|pass`)

// audit returns the middleware that, for a write (and for view_key),
// puts into the request's context what its events record of it: the
// caller, the client's address and the request (path, method, query,
// user agent, id). It runs after authentication and permission checks.
func (s *Server) audit(operationID string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if s.noAudit || (req.Method == http.MethodGet || req.Method == http.MethodHead) && operationID != viewKeyOperation {
				return next(c)
			}
			me := caller(c)
			ip := clientIP(req, s.trustedProxies)
			args := map[string]any{}
			for k, v := range req.URL.Query() {
				value := v[len(v)-1]
				if sensitiveArg.MatchString(k) {
					value = "********"
				}
				args[k] = value
			}
			ua := req.UserAgent()
			if len(ua) > maxUserAgent {
				ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
			}
			a := &store.Audit{
				User:     map[string]any{"pk": me.ID, "username": me.Username, "email": me.Email},
				UserPK:   &me.ID,
				Username: me.Username,
				ClientIP: &ip,
				HTTPRequest: map[string]any{"path": req.URL.Path, "method": req.Method, "args": args,
					"user_agent": ua, "request_id": requestIDOf(c)},
				Retention: s.eventRetention,
			}
			c.SetRequest(req.WithContext(store.WithAudit(req.Context(), a)))
			return next(c)
		}
	}
}

// clientIP is the address of the client: the peer's, unless the peer is a
// trusted proxy; then X-Forwarded-For is read from the right, skipping
// trusted proxies, and the first address that is not one is the client's
// (a client can put anything on the left of the list, never on the right
// of what a trusted proxy appended).
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		peer = hop.Unmap()
		if !isTrusted(peer, trusted) {
			break
		}
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
