package server

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"akconn/gen"
	"akconn/store"
)

// sourceJSON converts a source to the nested Source form used inside a
// connection: the seed's 17 fields, and authentik 2026.8's promoted, icon_url and
// icon_themed_urls.
func sourceJSON(src *store.OAuthSource) gen.Source {
	return gen.Source{
		Pk:                    ptr(uuid.MustParse(src.ID)),
		Name:                  src.Name,
		Slug:                  src.Slug,
		Enabled:               ptr(src.Enabled),
		AuthenticationFlow:    nullUUID(src.AuthenticationFlow),
		EnrollmentFlow:        nullUUID(src.EnrollmentFlow),
		UserPropertyMappings:  uuids(src.UserPropertyMappings),
		GroupPropertyMappings: uuids(src.GroupPropertyMappings),
		Component:             ptr("ak-source-oauth-form"),
		VerboseName:           ptr("OAuth Source"),
		VerboseNamePlural:     ptr("OAuth Sources"),
		MetaModelName:         ptr("authentik_sources_oauth.oauthsource"),
		PolicyEngineMode:      ptr(gen.PolicyEngineMode(src.PolicyEngineMode)),
		UserMatchingMode:      ptr(gen.UserMatchingModeEnum(src.UserMatchingMode)),
		Managed:               nullString(src.Managed),
		UserPathTemplate:      ptr(src.UserPathTemplate),
		Promoted:              ptr(src.Promoted),
		Icon:                  ptr(src.Icon),
		IconUrl:               iconURL(src.Icon),
		IconThemedUrls:        iconThemedURLs(src.Icon),
	}
}

// oauthSourceJSON converts a source to its full OAuthSource form. The
// consumer secret never leaves the server.
func oauthSourceJSON(src *store.OAuthSource) gen.OAuthSource {
	base := sourceJSON(src)
	jwks, _ := src.OIDCJWKS.(map[string]any)
	if jwks == nil {
		jwks = map[string]any{}
	}
	return gen.OAuthSource{
		Pk: base.Pk, Name: base.Name, Slug: base.Slug, Enabled: base.Enabled,
		AuthenticationFlow: base.AuthenticationFlow, EnrollmentFlow: base.EnrollmentFlow,
		UserPropertyMappings: base.UserPropertyMappings, GroupPropertyMappings: base.GroupPropertyMappings,
		Component: base.Component, VerboseName: base.VerboseName, VerboseNamePlural: base.VerboseNamePlural,
		MetaModelName: base.MetaModelName, PolicyEngineMode: base.PolicyEngineMode, UserMatchingMode: base.UserMatchingMode,
		Managed: base.Managed, UserPathTemplate: base.UserPathTemplate, Promoted: base.Promoted,
		Icon: base.Icon, IconUrl: base.IconUrl, IconThemedUrls: base.IconThemedUrls,
		Pkce:                        ptr(gen.PKCEMethodEnum(src.PKCE)),
		AuthorizationCodeAuthMethod: ptr(gen.AuthorizationCodeAuthMethodEnum(src.AuthorizationCodeAuthMethod)),
		GroupMatchingMode:           ptr(gen.GroupMatchingModeEnum(src.GroupMatchingMode)),
		ProviderType:                gen.ProviderTypeEnum(src.ProviderType),
		RequestTokenUrl:             nullString(src.RequestTokenURL),
		AuthorizationUrl:            nullString(src.AuthorizationURL),
		AccessTokenUrl:              nullString(src.AccessTokenURL),
		ProfileUrl:                  nullString(src.ProfileURL),
		ConsumerKey:                 src.ConsumerKey,
		CallbackUrl:                 ptr("/source/oauth/callback/" + src.Slug + "/"),
		AdditionalScopes:            ptr(src.AdditionalScopes),
		Type:                        ptr(findSourceType(src.ProviderType).json()),
		OidcWellKnownUrl:            ptr(src.OIDCWellKnownURL),
		OidcJwksUrl:                 ptr(src.OIDCJWKSURL),
		OidcJwks:                    &jwks,
	}
}

func uuids(ids []string) *[]uuid.UUID {
	out := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if u, err := uuid.Parse(id); err == nil {
			out = append(out, u)
		}
	}
	return &out
}

// newSource returns a source with authentik's model defaults.
func newSource() *store.OAuthSource {
	return &store.OAuthSource{
		ID:                    uuid.NewString(),
		Enabled:               true,
		PolicyEngineMode:      "any",
		UserMatchingMode:      "identifier",
		GroupMatchingMode:     "identifier",
		UserPathTemplate:      "goauthentik.io/sources/%(slug)s",
		UserPropertyMappings:  []string{},
		GroupPropertyMappings: []string{},
		OIDCJWKS:              map[string]any{},
		PKCE:                  "none",
		// authentik's default (its model's field default).
		AuthorizationCodeAuthMethod: "basic_auth",
	}
}

// applySource writes the fields sent in a create, update or partial update
// onto src. The validator has already checked the body against the
// operation's schema (required fields included), so one patch type serves
// all three.
func applySource(src *store.OAuthSource, r gen.PatchedOAuthSourceRequest) error {
	// Flows and property mappings are not modelled here, so no pk can exist.
	if v, _ := optional(r.AuthenticationFlow); v != nil {
		return invalidPK("authentication_flow", *v)
	}
	if v, _ := optional(r.EnrollmentFlow); v != nil {
		return invalidPK("enrollment_flow", *v)
	}
	if r.UserPropertyMappings != nil && len(*r.UserPropertyMappings) > 0 {
		return invalidPK("user_property_mappings", (*r.UserPropertyMappings)[0])
	}
	if r.GroupPropertyMappings != nil && len(*r.GroupPropertyMappings) > 0 {
		return invalidPK("group_property_mappings", (*r.GroupPropertyMappings)[0])
	}
	set(&src.Name, r.Name)
	set(&src.Slug, r.Slug)
	set(&src.Enabled, r.Enabled)
	setAs(&src.PolicyEngineMode, r.PolicyEngineMode)
	setAs(&src.UserMatchingMode, r.UserMatchingMode)
	setAs(&src.GroupMatchingMode, r.GroupMatchingMode)
	setAs(&src.ProviderType, r.ProviderType)
	set(&src.UserPathTemplate, r.UserPathTemplate)
	set(&src.ConsumerKey, r.ConsumerKey)
	set(&src.ConsumerSecret, r.ConsumerSecret)
	set(&src.AdditionalScopes, r.AdditionalScopes)
	set(&src.OIDCWellKnownURL, r.OidcWellKnownUrl)
	set(&src.OIDCJWKSURL, r.OidcJwksUrl)
	setNullable(&src.RequestTokenURL, r.RequestTokenUrl)
	setNullable(&src.AuthorizationURL, r.AuthorizationUrl)
	setNullable(&src.AccessTokenURL, r.AccessTokenUrl)
	setNullable(&src.ProfileURL, r.ProfileUrl)
	if r.OidcJwks != nil {
		if err := checkJSONSize("oidc_jwks", *r.OidcJwks); err != nil {
			return err
		}
		src.OIDCJWKS = *r.OidcJwks
	}
	set(&src.Promoted, r.Promoted)
	setAs(&src.PKCE, r.Pkce)
	setAs(&src.AuthorizationCodeAuthMethod, r.AuthorizationCodeAuthMethod)
	if r.Icon != nil {
		if err := checkIcon(*r.Icon); err != nil {
			return err
		}
		src.Icon = *r.Icon
	}
	// authentik requires the URLs a provider type does not fix.
	t := findSourceType(src.ProviderType)
	for _, need := range []struct {
		field      string
		fixed, own *string
	}{
		{"authorization_url", t.authorization, src.AuthorizationURL},
		{"access_token_url", t.access, src.AccessTokenURL},
		{"profile_url", t.profile, src.ProfileURL},
	} {
		if need.fixed == nil && need.own == nil {
			return &Problem{Status: http.StatusBadRequest, Fields: map[string][]string{
				"non_field_errors": {fmt.Sprintf("%s is required for provider %s", need.field, t.name)}}}
		}
	}
	return nil
}

// SourcesOauthList lists OAuth sources with authentik's filters.
func (s *Server) SourcesOauthList(c echo.Context, params gen.SourcesOauthListParams) error {
	pg, err := newPager(params.Page, params.PageSize)
	if err != nil {
		return err
	}
	f := store.SourceFilter{
		Name: params.Name, Slug: params.Slug, ProviderType: params.ProviderType, ConsumerKey: params.ConsumerKey,
		AdditionalScopes: params.AdditionalScopes, RequestTokenURL: params.RequestTokenUrl,
		AuthorizationURL: params.AuthorizationUrl, AccessTokenURL: params.AccessTokenUrl, ProfileURL: params.ProfileUrl,
		AuthenticationFlow: uuidString(params.AuthenticationFlow), EnrollmentFlow: uuidString(params.EnrollmentFlow),
		PolicyEngineMode: stringOf(params.PolicyEngineMode), UserMatchingMode: stringOf(params.UserMatchingMode),
		GroupMatchingMode: stringOf(params.GroupMatchingMode), Enabled: params.Enabled, HasJWKS: params.HasJwks,
		PBMUUID:  uuidString(params.PbmUuid),
		Ordering: orderingFields(params.Ordering),
	}
	set(&f.Search, params.Search)
	shownOf(c).sources(&f)
	rows, total, err := s.store.ListSources(c.Request().Context(), f, pg.window())
	if err != nil {
		return err
	}
	page, err := pg.pagination(total)
	if err != nil {
		return err
	}
	out := gen.PaginatedOAuthSourceList{Pagination: page, Results: make([]gen.OAuthSource, len(rows)), Autocomplete: noAutocomplete}
	for i := range rows {
		out.Results[i] = oauthSourceJSON(&rows[i])
	}
	return c.JSON(http.StatusOK, out)
}

// SourcesOauthCreate creates an OAuth source (superusers only).
func (s *Server) SourcesOauthCreate(c echo.Context) error {
	var req gen.PatchedOAuthSourceRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	src := newSource()
	if err := applySource(src, req); err != nil {
		return err
	}
	if err := s.store.CreateSource(c.Request().Context(), src); err != nil {
		return err
	}
	return sendObject(c, http.StatusCreated, sourceETag(src), nil, oauthSourceJSON(src))
}

// SourcesOauthRetrieve returns one OAuth source by slug.
func (s *Server) SourcesOauthRetrieve(c echo.Context, slug gen.SourceSlug, params gen.SourcesOauthRetrieveParams) error {
	src, err := s.store.GetSourceBySlug(c.Request().Context(), slug)
	if err != nil {
		return err
	}
	if !shownOf(c).source(src) {
		return errNotFound
	}
	return sendObject(c, http.StatusOK, sourceETag(src), params.IfNoneMatch, oauthSourceJSON(src))
}

// SourcesOauthUpdate replaces the sent fields of a source (superusers only).
func (s *Server) SourcesOauthUpdate(c echo.Context, slug gen.SourceSlug, params gen.SourcesOauthUpdateParams) error {
	return s.updateSource(c, slug, params.IfMatch)
}

// SourcesOauthPartialUpdate changes the sent fields of a source (superusers only).
func (s *Server) SourcesOauthPartialUpdate(c echo.Context, slug gen.SourceSlug, params gen.SourcesOauthPartialUpdateParams) error {
	return s.updateSource(c, slug, params.IfMatch)
}

func (s *Server) updateSource(c echo.Context, slug string, match *string) error {
	var req gen.PatchedOAuthSourceRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	src, err := s.store.UpdateSource(c.Request().Context(), slug, func(src *store.OAuthSource) error {
		if !shownOf(c).source(src) {
			return errNotFound
		}
		if err := ifMatch(c, match, sourceETag(src)); err != nil {
			return err
		}
		return applySource(src, req)
	})
	if err != nil {
		return err
	}
	return sendObject(c, http.StatusOK, sourceETag(src), nil, oauthSourceJSON(src))
}

// SourcesOauthDestroy deletes a source and its connections (superusers only).
func (s *Server) SourcesOauthDestroy(c echo.Context, slug gen.SourceSlug, params gen.SourcesOauthDestroyParams) error {
	err := s.store.DeleteSource(c.Request().Context(), slug, func(src *store.OAuthSource) error {
		if !shownOf(c).source(src) {
			return errNotFound
		}
		return ifMatch(c, params.IfMatch, sourceETag(src))
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// SourcesOauthUsedByList lists the connections (visible to the caller) that
// would be deleted with the source.
func (s *Server) SourcesOauthUsedByList(c echo.Context, slug gen.SourceSlug) error {
	ctx := c.Request().Context()
	src, err := s.store.GetSourceBySlug(ctx, slug)
	if err != nil {
		return err
	}
	if !shownOf(c).source(src) {
		return errNotFound
	}
	conns, err := s.store.ConnectionsOfSource(ctx, scopeOf(caller(c)), src.ID)
	if err != nil {
		return err
	}
	out := make([]gen.UsedBy, len(conns))
	for i := range conns {
		out[i] = connectionUsedBy(&conns[i])
	}
	return c.JSON(http.StatusOK, out)
}

// SourcesOauthSourceTypesList lists the provider types, or the one named.
func (s *Server) SourcesOauthSourceTypesList(c echo.Context, params gen.SourcesOauthSourceTypesListParams) error {
	if params.Name != nil {
		return c.JSON(http.StatusOK, []gen.SourceType{findSourceType(*params.Name).json()})
	}
	out := make([]gen.SourceType, len(sourceTypes))
	for i, t := range sourceTypes {
		out[i] = t.json()
	}
	return c.JSON(http.StatusOK, out)
}
