package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"akconn/gen"
	"akconn/store"
)

// connectionJSON converts a stored connection (with its source loaded) to
// a UserOAuthSourceConnection: source is the source's pk and source_obj
// the source itself. The access token never leaves; an expiry that was
// never given is left out (the field is not nullable).
func (s *Server) connectionJSON(conn *store.Connection) gen.UserOAuthSourceConnection {
	view := s.sources.of(&conn.Source)
	out := gen.UserOAuthSourceConnection{
		Pk:          ptr(int(conn.ID)),
		User:        ptr(int(conn.UserID)),
		Source:      *view.Pk,
		SourceObj:   view,
		Created:     apiTime(conn.Created),
		LastUpdated: apiTime(conn.LastUpdated),
		Identifier:  conn.Identifier,
	}
	if conn.Expires != nil {
		out.Expires = apiTime(*conn.Expires)
	}
	return out
}

// SourcesUserConnectionsOauthList lists the caller's connections (every
// connection for a superuser).
func (s *Server) SourcesUserConnectionsOauthList(c echo.Context, params gen.SourcesUserConnectionsOauthListParams) error {
	pg, err := newPager(params.Page, params.PageSize)
	if err != nil {
		return err
	}
	f := store.ConnectionFilter{
		Scope:      scopeOf(caller(c)),
		SourceSlug: params.SourceSlug,
		Ordering:   orderingFields(params.Ordering),
	}
	if params.User != nil {
		f.UserID = ptr(int64(*params.User))
	}
	if params.Search != nil {
		f.Search = *params.Search
	}
	shownOf(c).connections(&f)
	rows, total, err := s.store.ListConnections(c.Request().Context(), f, pg.window())
	if err != nil {
		return err
	}
	page, err := pg.pagination(total)
	if err != nil {
		return err
	}
	out := gen.PaginatedUserOAuthSourceConnectionList{Pagination: page, Results: make([]gen.UserOAuthSourceConnection, len(rows)), Autocomplete: noAutocomplete}
	for i := range rows {
		out.Results[i] = s.connectionJSON(&rows[i])
	}
	return c.JSON(http.StatusOK, out)
}

// SourcesUserConnectionsOauthCreate links the caller to an OAuth source:
// a connection's user is read-only, always the user who creates it.
func (s *Server) SourcesUserConnectionsOauthCreate(c echo.Context) error {
	var req gen.PatchedUserOAuthSourceConnectionRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	me := caller(c)
	if err := checkOwner(c, me, me.ID); err != nil {
		return err
	}
	// The store checks that the user and the source exist (foreign keys),
	// so that a create reads neither first; which one is missing is looked
	// up only when one is.
	conn := store.Connection{UserID: me.ID, SourceID: req.Source.String()}
	if err := applyConnection(&conn, req, connectionRefs{}); err != nil {
		return err
	}
	err := s.store.CreateConnection(c.Request().Context(), &conn)
	if errors.Is(err, store.ErrReference) {
		if _, refsErr := s.resolveConnectionRefs(c, req); refsErr != nil {
			return refsErr
		}
	}
	if err != nil {
		return err
	}
	return sendObject(c, http.StatusCreated, connectionETag(&conn), nil, s.connectionJSON(&conn))
}

// SourcesUserConnectionsOauthRetrieve returns one connection the caller may see.
func (s *Server) SourcesUserConnectionsOauthRetrieve(c echo.Context, id gen.ConnectionID, params gen.SourcesUserConnectionsOauthRetrieveParams) error {
	conn, err := s.store.GetConnection(c.Request().Context(), scopeOf(caller(c)), int64(id))
	if err != nil {
		return err
	}
	if !shownOf(c).connection(conn) {
		return errNotFound
	}
	return sendObject(c, http.StatusOK, connectionETag(conn), params.IfNoneMatch, s.connectionJSON(conn))
}

// SourcesUserConnectionsOauthUpdate changes the sent fields of a connection;
// its user never changes.
func (s *Server) SourcesUserConnectionsOauthUpdate(c echo.Context, id gen.ConnectionID, params gen.SourcesUserConnectionsOauthUpdateParams) error {
	return s.updateConnection(c, id, params.IfMatch)
}

// SourcesUserConnectionsOauthPartialUpdate changes the sent fields of a connection.
func (s *Server) SourcesUserConnectionsOauthPartialUpdate(c echo.Context, id gen.ConnectionID, params gen.SourcesUserConnectionsOauthPartialUpdateParams) error {
	return s.updateConnection(c, id, params.IfMatch)
}

// updateConnection serves PUT and PATCH: the validator has already enforced
// each operation's required fields, so one patch type serves both. A stale
// If-Match is refused inside the locked read, so that of writers holding
// the same version exactly one succeeds.
func (s *Server) updateConnection(c echo.Context, id int, match *string) error {
	var req gen.PatchedUserOAuthSourceConnectionRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	refs, refsErr := s.resolveConnectionRefs(c, req)
	conn, err := s.store.UpdateConnection(c.Request().Context(), scopeOf(caller(c)), int64(id), func(conn *store.Connection) error {
		// Only a connection the caller may see gets here: another user's
		// answers 404 before the request's own errors (412, 403, 400) apply.
		if !shownOf(c).connection(conn) {
			return errNotFound
		}
		if err := ifMatch(c, match, connectionETag(conn)); err != nil {
			return err
		}
		if err := checkOwner(c, caller(c), conn.UserID); err != nil {
			return err
		}
		if refsErr != nil {
			return refsErr
		}
		return applyConnection(conn, req, refs)
	})
	if err != nil {
		return err
	}
	return sendObject(c, http.StatusOK, connectionETag(conn), nil, s.connectionJSON(conn))
}

// connectionOwnerKey is where an older contract's request leaves the user
// it names as a connection's owner (int64), which the current contract
// has no field for.
const connectionOwnerKey = "akconn.connection_owner"

// checkOwner refuses a request that names, through an older contract, a
// user other than owner as the connection's: an ordinary user may not
// (403, as before); for a superuser the user is read-only since authentik
// 2026.8 (GHSA-wr38-7xg8-fqxr), on every mount (400).
func checkOwner(c echo.Context, me *store.User, owner int64) error {
	named, ok := c.Get(connectionOwnerKey).(int64)
	switch {
	case !ok || named == owner:
		return nil
	case !me.IsSuperuser:
		return errPermissionDenied
	default:
		return fieldError("user", "A connection's user cannot change: it is the user who made it (read-only since authentik 2026.8, GHSA-wr38-7xg8-fqxr).")
	}
}

// connectionRefs are the objects a connection request names.
type connectionRefs struct {
	source *store.OAuthSource
}

// resolveConnectionRefs looks up the source a request names. It runs
// before any transaction, so that lookups never wait on a connection held
// by a writer.
func (s *Server) resolveConnectionRefs(c echo.Context, req gen.PatchedUserOAuthSourceConnectionRequest) (connectionRefs, error) {
	ctx := c.Request().Context()
	var refs connectionRefs
	if req.Source != nil {
		src, err := s.store.GetSourceByID(ctx, req.Source.String())
		if errors.Is(err, store.ErrNotFound) {
			return refs, invalidPK("source", req.Source.String())
		}
		if err != nil {
			return refs, err
		}
		refs.source = src
	}
	return refs, nil
}

// applyConnection writes the sent fields onto conn.
func applyConnection(conn *store.Connection, req gen.PatchedUserOAuthSourceConnectionRequest, refs connectionRefs) error {
	if refs.source != nil {
		conn.SourceID, conn.Source = refs.source.ID, *refs.source
	}
	set(&conn.Identifier, req.Identifier)
	if token, sent := optional(req.AccessToken); sent {
		// As in authentik, an empty token is stored as none. A new token is
		// sealed by the store; none clears the sealed one.
		conn.SetAccessToken, conn.AccessToken = true, nil
		if token != nil && *token != "" {
			conn.AccessToken = token
		}
	}
	if req.Expires != nil {
		if err := checkTime("expires", *req.Expires); err != nil {
			return err
		}
		conn.Expires = apiTime(*req.Expires)
	}
	return nil
}

// SourcesUserConnectionsOauthDestroy deletes a connection the caller may see.
func (s *Server) SourcesUserConnectionsOauthDestroy(c echo.Context, id gen.ConnectionID, params gen.SourcesUserConnectionsOauthDestroyParams) error {
	err := s.store.DeleteConnection(c.Request().Context(), scopeOf(caller(c)), int64(id), func(conn *store.Connection) error {
		if !shownOf(c).connection(conn) {
			return errNotFound
		}
		return ifMatch(c, params.IfMatch, connectionETag(conn))
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// SourcesUserConnectionsOauthUsedByList lists what uses a connection: nothing.
func (s *Server) SourcesUserConnectionsOauthUsedByList(c echo.Context, id gen.ConnectionID) error {
	conn, err := s.store.GetConnection(c.Request().Context(), scopeOf(caller(c)), int64(id))
	if err != nil {
		return err
	}
	if !shownOf(c).connection(conn) {
		return errNotFound
	}
	return c.JSON(http.StatusOK, []gen.UsedBy{})
}
