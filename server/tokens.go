package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"akconn/gen"
	"akconn/store"
)

// defaultTokenLifetime is how long a new expiring token lives unless told
// otherwise (authentik's default_token_duration).
const defaultTokenLifetime = 30 * time.Minute

// tokenJSON converts a token (with its user loaded) to the Token form. The
// key is never part of it: only view_key reveals it.
func tokenJSON(t *store.Token) gen.Token {
	user := userJSON(&t.User, allViews)
	return gen.Token{
		Pk:          ptr(uuid.MustParse(t.ID)),
		Managed:     nullString(t.Managed),
		Identifier:  t.Identifier,
		Intent:      ptr(gen.IntentEnum(t.Intent)),
		User:        ptr(int(t.UserID)),
		UserObj:     &user,
		Description: ptr(t.Description),
		Expires:     nullTime(t.Expires),
		Expiring:    ptr(t.Expiring),
	}
}

// tokenOwner checks who may own and manage a token and returns the owner
// the request names (nil when it names none). It runs
// before any transaction, so that no request holds two pool connections.
func (s *Server) tokenOwner(c echo.Context, r gen.PatchedTokenRequest) (*store.User, error) {
	me := caller(c)
	if _, sent := optional(r.Managed); sent && !me.IsSuperuser {
		return nil, errPermissionDenied
	}
	if r.User == nil {
		return nil, nil
	}
	if int64(*r.User) == me.ID {
		return me, nil
	}
	if !me.IsSuperuser {
		return nil, errPermissionDenied
	}
	owner, err := s.store.GetUser(c.Request().Context(), int64(*r.User))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidPK("user", *r.User)
	}
	return owner, err
}

// applyToken writes the sent fields onto t; owner is tokenOwner's answer
// and me the caller.
func applyToken(t *store.Token, r gen.PatchedTokenRequest, owner, me *store.User) error {
	if owner != nil && owner.ID != t.UserID {
		t.UserID, t.User = owner.ID, *owner
	}
	if managed, sent := optional(r.Managed); sent {
		t.Managed = managed
	}
	if r.Intent != nil {
		// As in authentik, only API tokens and app passwords are made over the API.
		if *r.Intent != store.IntentAPI && *r.Intent != "app_password" {
			return fieldError("intent", fmt.Sprintf("Invalid intent %s", *r.Intent))
		}
		t.Intent = string(*r.Intent)
	}
	set(&t.Identifier, r.Identifier)
	set(&t.Description, r.Description)
	set(&t.Expiring, r.Expiring)
	if err := setTime(&t.Expires, "expires", r.Expires); err != nil {
		return err
	}
	if !me.IsSuperuser {
		_, sent := optional(r.Expires)
		return limitLifetime(t, me, sent, time.Now())
	}
	return nil
}

// limitLifetime applies authentik's rule to the tokens of ordinary users:
// they always expire; one without an expiry gets the default lifetime;
// and an expiry the user chooses may lie at most her maximum lifetime
// ahead (authentik's user attribute token-maximum-lifetime, by default
// the default lifetime).
func limitLifetime(t *store.Token, owner *store.User, expiresSent bool, now time.Time) error {
	t.Expiring = true
	if t.Expires == nil {
		t.Expires = apiTime(now.Add(defaultTokenLifetime))
		return nil
	}
	limit := now.Add(maxTokenLifetime(owner))
	if expiresSent && t.Expires.After(limit) {
		return fieldError("expires", fmt.Sprintf("Token expires exceeds maximum lifetime (%s UTC).", limit.UTC().Format("2006-01-02 15:04:05")))
	}
	return nil
}

// maxTokenLifetimeAttribute is authentik's user attribute that raises (or
// lowers) how far ahead a user's own tokens may expire.
const maxTokenLifetimeAttribute = "goauthentik.io/user/token-maximum-lifetime"

// maxTokenLifetime is how far ahead u may date her tokens: her attribute
// when it parses (authentik's "hours=1;minutes=30" form), else the
// default lifetime.
func maxTokenLifetime(u *store.User) time.Duration {
	if v, ok := u.Attributes[maxTokenLifetimeAttribute].(string); ok {
		if d, err := parseTimedelta(v); err == nil {
			return d
		}
	}
	return defaultTokenLifetime
}

// parseTimedelta reads authentik's timedelta_from_string form:
// "weeks=1;days=2;hours=3;minutes=4;seconds=5" (any subset, numbers may
// have fractions).
func parseTimedelta(s string) (time.Duration, error) {
	units := map[string]time.Duration{"weeks": 7 * 24 * time.Hour, "days": 24 * time.Hour, "hours": time.Hour,
		"minutes": time.Minute, "seconds": time.Second, "milliseconds": time.Millisecond, "microseconds": time.Microsecond}
	var total time.Duration
	for _, part := range strings.Split(s, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		unit, known := units[strings.TrimSpace(name)]
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if !ok || !known || err != nil || n < 0 || n*float64(unit) > float64(100*365*24*time.Hour) {
			return 0, fmt.Errorf("invalid timedelta %q", s)
		}
		total += time.Duration(n * float64(unit))
	}
	return total, nil
}

// CoreTokensList lists the caller's tokens (every token for a superuser).
func (s *Server) CoreTokensList(c echo.Context, params gen.CoreTokensListParams) error {
	pg, err := newPager(params.Page, params.PageSize)
	if err != nil {
		return err
	}
	f := store.TokenFilter{
		Scope: scopeOf(caller(c)), Identifier: params.Identifier, Description: params.Description, Managed: params.Managed,
		Intent: stringOf(params.Intent), Expiring: params.Expiring, UserUsername: params.UserUsername,
		Ordering: orderingFields(params.Ordering),
	}
	if params.Expires != nil {
		if err := checkTime("expires", *params.Expires); err != nil {
			return err
		}
		f.Expires = params.Expires
	}
	set(&f.Search, params.Search)
	rows, total, err := s.store.ListTokens(c.Request().Context(), f, pg.window())
	if err != nil {
		return err
	}
	page, err := pg.pagination(total)
	if err != nil {
		return err
	}
	out := gen.PaginatedTokenList{Pagination: page, Results: make([]gen.Token, len(rows)), Autocomplete: noAutocomplete}
	for i := range rows {
		out.Results[i] = tokenJSON(&rows[i])
	}
	return c.JSON(http.StatusOK, out)
}

// CoreTokensCreate creates a token with a server-generated key for the
// caller, or for another user when the caller is a superuser.
func (s *Server) CoreTokensCreate(c echo.Context) error {
	var req gen.PatchedTokenRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	me := caller(c)
	owner, err := s.tokenOwner(c, req)
	if err != nil {
		return err
	}
	t := &store.Token{Intent: store.IntentAPI, UserID: me.ID, User: *me, Expiring: true, Key: store.NewKey()}
	if err := applyToken(t, req, owner, me); err != nil {
		return err
	}
	if _, sent := optional(req.Expires); !sent && t.Expiring {
		t.Expires = apiTime(time.Now().Add(defaultTokenLifetime))
	}
	if err := s.store.CreateToken(c.Request().Context(), t); err != nil {
		return err
	}
	return sendObject(c, http.StatusCreated, tokenETag(t), nil, tokenJSON(t))
}

// CoreTokensRetrieve returns a token the caller may see, without its key.
func (s *Server) CoreTokensRetrieve(c echo.Context, identifier gen.TokenIdentifier, params gen.CoreTokensRetrieveParams) error {
	t, err := s.store.GetToken(c.Request().Context(), scopeOf(caller(c)), identifier)
	if err != nil {
		return err
	}
	return sendObject(c, http.StatusOK, tokenETag(t), params.IfNoneMatch, tokenJSON(t))
}

// CoreTokensUpdate changes the sent fields of a token the caller may see.
func (s *Server) CoreTokensUpdate(c echo.Context, identifier gen.TokenIdentifier, params gen.CoreTokensUpdateParams) error {
	return s.updateToken(c, identifier, params.IfMatch)
}

// CoreTokensPartialUpdate changes the sent fields of a token the caller may see.
func (s *Server) CoreTokensPartialUpdate(c echo.Context, identifier gen.TokenIdentifier, params gen.CoreTokensPartialUpdateParams) error {
	return s.updateToken(c, identifier, params.IfMatch)
}

func (s *Server) updateToken(c echo.Context, identifier string, match *string) error {
	var req gen.PatchedTokenRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	owner, ownerErr := s.tokenOwner(c, req)
	t, err := s.store.UpdateToken(c.Request().Context(), scopeOf(caller(c)), identifier, func(t *store.Token) error {
		// Only a token the caller may see gets here: another user's answers
		// 404 before the request's own errors (412, 403, 400) apply.
		if err := ifMatch(c, match, tokenETag(t)); err != nil {
			return err
		}
		if ownerErr != nil {
			return ownerErr
		}
		return applyToken(t, req, owner, caller(c))
	})
	if err != nil {
		return err
	}
	if owner != nil {
		t.User = *owner
	}
	s.tokens.forget()
	return sendObject(c, http.StatusOK, tokenETag(t), nil, tokenJSON(t))
}

// CoreTokensDestroy deletes a token the caller may see.
func (s *Server) CoreTokensDestroy(c echo.Context, identifier gen.TokenIdentifier, params gen.CoreTokensDestroyParams) error {
	err := s.store.DeleteToken(c.Request().Context(), scopeOf(caller(c)), identifier, func(t *store.Token) error {
		return ifMatch(c, params.IfMatch, tokenETag(t))
	})
	if err != nil {
		return err
	}
	s.tokens.forget()
	return c.NoContent(http.StatusNoContent)
}

// CoreTokensUsedByList lists what uses a token: nothing.
func (s *Server) CoreTokensUsedByList(c echo.Context, identifier gen.TokenIdentifier) error {
	if _, err := s.store.GetToken(c.Request().Context(), scopeOf(caller(c)), identifier); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, []gen.UsedBy{})
}

// CoreTokensViewKeyRetrieve reveals a token's key to its owner or a
// superuser; an expired token answers 404 as in authentik.
func (s *Server) CoreTokensViewKeyRetrieve(c echo.Context, identifier gen.TokenIdentifier) error {
	t, err := s.store.GetToken(c.Request().Context(), scopeOf(caller(c)), identifier)
	if err != nil {
		return err
	}
	if t.Expiring && t.Expires != nil && !t.Expires.After(time.Now()) {
		return errNotFound
	}
	key, err := s.store.TokenKey(t)
	if err != nil {
		return err
	}
	// The reveal is recorded (secret_view) before the key leaves.
	if err := s.store.RecordSecretView(c.Request().Context(), t); err != nil {
		return err
	}
	s.log.Info("token key viewed", "token", t.Identifier, "by", caller(c).ID)
	noStore(c)
	return c.JSON(http.StatusOK, gen.TokenView{Key: &key})
}
