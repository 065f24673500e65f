package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"akconn/store"
)

const userKey = "user"

// authenticate is the middleware that resolves the caller from
// "Authorization: Bearer <key>" as authentik's TokenAuthentication does.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization))
		scheme, key, found := strings.Cut(header, " ")
		if header == "" || !found {
			s.metrics.authFailed(authMissing)
			return errNotAuthenticated
		}
		if !strings.EqualFold(scheme, "bearer") {
			s.metrics.authFailed(authUnsupported)
			return &Problem{Status: http.StatusForbidden, Detail: "Unsupported authentication type"}
		}
		if key == "" {
			s.metrics.authFailed(authMalformed)
			return &Problem{Status: http.StatusForbidden, Detail: "Malformed header"}
		}
		user, err := s.tokens.authenticate(c.Request().Context(), s.store, key)
		if errors.Is(err, store.ErrNotFound) {
			s.metrics.authFailed(authInvalid)
			return &Problem{Status: http.StatusForbidden, Detail: "Token invalid/expired"}
		}
		if err != nil {
			return err
		}
		c.Set(userKey, user)
		return next(c)
	}
}

// caller returns the authenticated user of the request.
func caller(c echo.Context) *store.User {
	u, _ := c.Get(userKey).(*store.User)
	return u
}

// permit returns the middleware that applies operationID's permission
// rule after authentication and before the request is validated, as Django
// REST framework checks permissions before it reads the body: an ordinary
// user's malformed write to a source answers 403, not 400.
func (s *Server) permit(operationID string) echo.MiddlewareFunc {
	rule, ok := permissionRules[operationID]
	if !ok {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := rule(s, c); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// permissionRules are the operations only some callers may call at all,
// or only on objects they may see: as Django REST framework looks the
// object up before it reads the body, another user's connection or token
// answers 404 whatever the body holds. Rules that depend on the body (who
// may own a token or a connection) are the handlers' business.
var permissionRules = map[string]func(*Server, echo.Context) error{
	"sources_oauth_create":                          requireSuperuser,
	"sources_oauth_update":                          requireSuperuser,
	"sources_oauth_partial_update":                  requireSuperuser,
	"sources_oauth_destroy":                         requireSuperuser,
	"core_users_create":                             requireSuperuser,
	"core_users_update":                             requireSuperuserForUser,
	"core_users_partial_update":                     requireSuperuserForUser,
	"core_users_destroy":                            requireSuperuserForUser,
	"sources_user_connections_oauth_update":         requireVisibleConnection,
	"sources_user_connections_oauth_partial_update": requireVisibleConnection,
	"core_tokens_update":                            requireVisibleToken,
	"core_tokens_partial_update":                    requireVisibleToken,
	"events_events_create":                          requireSuperuser,
	"events_events_update":                          refuseAppendOnly,
	"events_events_partial_update":                  refuseAppendOnly,
	"events_events_destroy":                         refuseAppendOnly,
}

// refuseAppendOnly refuses, for everyone and before the body is read, to
// change or remove an event.
func refuseAppendOnly(_ *Server, c echo.Context) error { return errAppendOnly(c) }

// requireVisibleConnection answers 404 for a connection the caller may not
// see (or that does not exist). A malformed id is left to validation.
func requireVisibleConnection(s *Server, c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil
	}
	_, err = s.store.GetConnection(c.Request().Context(), scopeOf(caller(c)), id)
	return err
}

// requireVisibleToken answers 404 for a token the caller may not see.
func requireVisibleToken(s *Server, c echo.Context) error {
	identifier := c.Param("identifier")
	if c.Request().URL.RawPath != "" { // echo matched the escaped path (normalizePath)
		var err error
		if identifier, err = url.PathUnescape(identifier); err != nil {
			return errNotFound
		}
	}
	if !utf8.ValidString(identifier) || strings.ContainsRune(identifier, 0) {
		return errNotFound
	}
	_, err := s.store.GetToken(c.Request().Context(), scopeOf(caller(c)), identifier)
	return err
}

// requireSuperuser refuses callers who are not superusers.
func requireSuperuser(_ *Server, c echo.Context) error {
	if !caller(c).IsSuperuser {
		return errPermissionDenied
	}
	return nil
}

// requireSuperuserForUser guards writes to the user the path names: an
// ordinary user may not write to herself (403) and cannot see anyone else
// (404, so that existence does not leak).
func requireSuperuserForUser(_ *Server, c echo.Context) error {
	me := caller(c)
	if me.IsSuperuser {
		return nil
	}
	if id, err := strconv.ParseInt(c.Param("id"), 10, 64); err == nil && id != me.ID {
		return errNotFound
	}
	return errPermissionDenied
}

// scopeOf returns what the caller may see of owned objects.
func scopeOf(u *store.User) store.Scope {
	return store.Scope{UserID: u.ID, All: u.IsSuperuser}
}

// tokenCache remembers verified API keys for a short time, so that most
// requests skip the token lookup, which would otherwise be a large share
// of a retrieve's cost. An entry lives at most ttl and never past its token's expiry;
// this process forgets every entry whenever a token or user is changed
// through it, so revocation here is immediate and, through another
// replica, takes effect within ttl. Only successes are remembered.
type tokenCache struct {
	ttl     time.Duration
	mu      sync.RWMutex
	entries map[string]cachedToken // by HashKey(key)
	// generation counts forget calls, so that a lookup that raced with a
	// change is not remembered.
	generation uint64
}

type cachedToken struct {
	user  store.User
	until time.Time
}

// maxCachedTokens bounds the cache; when full it starts over.
const maxCachedTokens = 10000

func (tc *tokenCache) authenticate(ctx context.Context, st *store.Store, key string) (*store.User, error) {
	now := time.Now()
	if tc.ttl <= 0 {
		u, _, err := st.Authenticate(ctx, key, now)
		return u, err
	}
	h := store.HashKey(key)
	tc.mu.RLock()
	e, ok := tc.entries[h]
	generation := tc.generation
	tc.mu.RUnlock()
	if ok && now.Before(e.until) {
		u := e.user
		return &u, nil
	}
	u, expires, err := st.Authenticate(ctx, key, now)
	if err != nil {
		return nil, err
	}
	until := now.Add(tc.ttl)
	if expires != nil && expires.Before(until) {
		until = *expires
	}
	tc.mu.Lock()
	if tc.generation == generation { // no token or user changed since the lookup began
		if len(tc.entries) >= maxCachedTokens {
			tc.entries = map[string]cachedToken{}
		}
		tc.entries[h] = cachedToken{user: *u, until: until}
	}
	tc.mu.Unlock()
	return u, nil
}

// forget drops every entry: called after any change to tokens or users.
func (tc *tokenCache) forget() {
	tc.mu.Lock()
	tc.entries = map[string]cachedToken{}
	tc.generation++
	tc.mu.Unlock()
}
