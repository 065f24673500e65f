package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"akconn/store"
)

// Problem is an error with the HTTP response it becomes: a GenericError
// ({"detail": ...}) or, when Fields is set, a ValidationError
// ({"field": ["message"]}).
type Problem struct {
	Status int
	Detail string
	Fields map[string][]string
	// Items, when set, is a ValidationError whose fields hold errors per
	// list item ({"field": {"0": ["message"]}}), as DRF reports a list
	// parameter's items.
	Items map[string]map[string][]string
	// RetryAfter, when set, is sent as Retry-After (in whole seconds).
	RetryAfter time.Duration
}

func (p *Problem) Error() string {
	if p.Items != nil {
		return fmt.Sprintf("%d %v", p.Status, p.Items)
	}
	if p.Fields != nil {
		return fmt.Sprintf("%d %v", p.Status, p.Fields)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Detail)
}

func (p *Problem) body() any {
	if p.Items != nil {
		return p.Items
	}
	if p.Fields != nil {
		return p.Fields
	}
	return map[string]string{"detail": p.Detail}
}

// fieldError is a 400 naming one field.
func fieldError(field, msg string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Fields: map[string][]string{field: {msg}}}
}

// Common problems, with authentik's (Django REST framework's) messages.
var (
	errNotFound         = &Problem{Status: http.StatusNotFound, Detail: "Not found."}
	errInvalidPage      = &Problem{Status: http.StatusNotFound, Detail: "Invalid page."}
	errPermissionDenied = &Problem{Status: http.StatusForbidden, Detail: "You do not have permission to perform this action."}
	errNotAuthenticated = &Problem{Status: http.StatusForbidden, Detail: "Authentication credentials were not provided."}
	errInternal         = &Problem{Status: http.StatusInternalServerError, Detail: "Internal server error."}
	// errKeyUnavailable answers a read of a secret sealed with a key this
	// replica has not been given yet (during a key rollout).
	errKeyUnavailable = &Problem{Status: http.StatusServiceUnavailable,
		Detail: "This server does not hold the key that sealed this secret yet; try again later."}
)

// uniqueMessages holds authentik's message for each unique rule.
var uniqueMessages = map[store.UniqueRule]*Problem{
	store.UniqueConnectionUserSource:       {Status: http.StatusBadRequest, Fields: map[string][]string{"non_field_errors": {"The fields user, source must make a unique set."}}},
	store.UniqueConnectionSourceIdentifier: {Status: http.StatusBadRequest, Fields: map[string][]string{"non_field_errors": {"The fields source, identifier must make a unique set."}}},
	store.UniqueSourceSlug:                 fieldError("slug", "source with this slug already exists."),
	store.UniqueSourceManaged:              fieldError("managed", "source with this managed already exists."),
	store.UniqueTokenIdentifier:            fieldError("identifier", "token with this identifier already exists."),
	store.UniqueTokenManaged:               fieldError("managed", "token with this managed already exists."),
	store.UniqueUserUsername:               fieldError("username", "A user with that username already exists."),
}

// problemFor is the one place where errors become HTTP responses.
func problemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		if p, ok := uniqueMessages[conflict.Rule]; ok {
			return p
		}
		return &Problem{Status: http.StatusBadRequest, Fields: map[string][]string{"non_field_errors": {"This object conflicts with an existing one."}}}
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if errors.Is(err, store.ErrKeyUnavailable) {
		return errKeyUnavailable
	}
	if errors.Is(err, store.ErrReference) {
		return &Problem{Status: http.StatusBadRequest, Fields: map[string][]string{"non_field_errors": {"A referenced object does not exist."}}}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return errNotFound
		case http.StatusMethodNotAllowed:
			return &Problem{Status: he.Code, Detail: "Method not allowed."}
		case http.StatusRequestEntityTooLarge:
			return &Problem{Status: he.Code, Detail: "Request body too large."}
		}
		if he.Code >= 400 && he.Code < 500 {
			return &Problem{Status: he.Code, Detail: http.StatusText(he.Code) + "."}
		}
	}
	// Last, so that a client's error carrying a network or end-of-input
	// error (echo's binding, say) stays the client's.
	if store.Unavailable(err) {
		return errDatabaseUnavailable
	}
	return errInternal
}

// StatusClientClosedRequest is nginx's status for a request whose client
// went away before the answer: it is logged and counted apart from server
// errors, and never sent (nobody is listening).
const StatusClientClosedRequest = 499

// clientGone reports whether the request failed because its client
// disconnected: net/http cancels the request's context then. A deadline
// (a server-side timeout) is not that, and stays a server error.
func clientGone(c echo.Context) bool {
	return errors.Is(c.Request().Context().Err(), context.Canceled)
}

// errorHandler renders any error returned by a handler or middleware. A
// request refused because the database is unavailable is not logged on
// its own: the outage is, once (outage).
func errorHandler(log *slog.Logger, away *outage) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problemFor(err)
		if p.Status == http.StatusMethodNotAllowed {
			p = &Problem{Status: p.Status, Detail: fmt.Sprintf("Method %q not allowed.", c.Request().Method)}
		}
		if p.Status >= 500 && clientGone(c) {
			c.Response().WriteHeader(StatusClientClosedRequest)
			return
		}
		switch {
		case p == errDatabaseUnavailable:
			away.refuse(err)
		case p.Status >= 500:
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "request_id", requestIDOf(c), "error", err.Error())
		}
		if p.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(p.RetryAfter/time.Second)))
		}
		if err := c.JSON(p.Status, p.body()); err != nil {
			log.Error("write error response", "error", err.Error())
		}
	}
}
