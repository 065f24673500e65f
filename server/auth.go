package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

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
			return errNotAuthenticated
		}
		if !strings.EqualFold(scheme, "bearer") {
			return &Problem{Status: http.StatusForbidden, Detail: "Unsupported authentication type"}
		}
		if key == "" {
			return &Problem{Status: http.StatusForbidden, Detail: "Malformed header"}
		}
		user, err := s.store.Authenticate(c.Request().Context(), key, time.Now())
		if errors.Is(err, store.ErrNotFound) {
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

// scopeOf returns what the caller may see of owned objects.
func scopeOf(u *store.User) store.Scope {
	return store.Scope{UserID: u.ID, All: u.IsSuperuser}
}
