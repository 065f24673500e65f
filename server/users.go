package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	"akconn/gen"
	"akconn/store"
)

// defaultAvatar is authentik's avatar for mode "none".
const defaultAvatar = "/static/dist/assets/images/user_default.png"

// uid is a stable, hash-like public id of a user, as authentik's
// sha256("<pk>-<install id>"); the user's uuid stands in for the install id.
func uid(u *store.User) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d-%s", u.ID, u.UUID)))
	return hex.EncodeToString(sum[:])
}

// userViews says which related objects a User answer embeds: authentik's
// include_groups and include_roles (null when left out).
type userViews struct{ groups, roles bool }

// allViews embeds every related object, as every answer but a list with
// include_groups or include_roles false does.
var allViews = userViews{groups: true, roles: true}

// userJSON converts a user to the User form. Groups and roles are not
// modelled, so groups and roles are empty, and groups_obj and roles_obj
// empty (or null when views leave them out).
func userJSON(u *store.User, views userViews) gen.User {
	groupsObj := nullable.NewNullNullable[[]gen.PartialGroup]()
	if views.groups {
		groupsObj = nullable.NewNullableWithValue([]gen.PartialGroup{})
	}
	rolesObj := nullable.NewNullNullable[[]gen.Role]()
	if views.roles {
		rolesObj = nullable.NewNullableWithValue([]gen.Role{})
	}
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return gen.User{
		Pk:          ptr(int(u.ID)),
		Username:    u.Username,
		Name:        u.Name,
		IsActive:    ptr(u.IsActive),
		LastLogin:   nullTime(u.LastLogin),
		IsSuperuser: ptr(u.IsSuperuser),
		Groups:      &[]uuid.UUID{},
		GroupsObj:   groupsObj,
		Email:       ptr(u.Email),
		Avatar:      ptr(defaultAvatar),
		Attributes:  &attrs,
		Uid:         ptr(uid(u)),
		Path:        ptr(u.Path),
		Type:        ptr(gen.UserTypeEnum(u.Type)),
		Uuid:        ptr(uuid.MustParse(u.UUID)),
		DateJoined:  apiTime(u.DateJoined),
		LastUpdated: apiTime(u.LastUpdated),
		// With no passwords here, it is when the user was created.
		PasswordChangeDate: apiTime(u.PasswordChangeDate),
		Roles:              &[]uuid.UUID{},
		RolesObj:           rolesObj,
	}
}

// applyUser writes the fields sent in a create, update or partial update
// onto u (the validator has enforced each operation's required fields).
func applyUser(u *store.User, r gen.PatchedUserRequest) error {
	if r.Groups != nil && len(*r.Groups) > 0 {
		return invalidPK("groups", (*r.Groups)[0])
	}
	if r.Roles != nil && len(*r.Roles) > 0 {
		return invalidPK("roles", (*r.Roles)[0])
	}
	set(&u.Username, r.Username)
	set(&u.Name, r.Name)
	set(&u.IsActive, r.IsActive)
	set(&u.Email, r.Email)
	set(&u.Path, r.Path)
	setAs(&u.Type, r.Type)
	if r.Attributes != nil {
		if err := checkJSONSize("attributes", *r.Attributes); err != nil {
			return err
		}
		u.Attributes = *r.Attributes
	}
	return setTime(&u.LastLogin, "last_login", r.LastLogin)
}

// Bounds of the attributes filter: each key is one condition of the
// query, and the values are compared whole.
const (
	maxFilterKeys  = 32
	maxFilterBytes = 4096
	maxFilterDepth = 32
)

// attributesFilter reads the attributes query parameter: a JSON object of
// at most maxFilterKeys keys, maxFilterBytes bytes and maxFilterDepth
// levels, without NUL.
func attributesFilter(raw string) (map[string]any, error) {
	if len(raw) > maxFilterBytes {
		return nil, fieldError("attributes", fmt.Sprintf("Ensure this value has at most %d characters.", maxFilterBytes))
	}
	var attrs map[string]any
	if err := json.Unmarshal([]byte(raw), &attrs); err != nil || attrs == nil {
		return nil, fieldError("attributes", "Enter a valid JSON object.")
	}
	switch {
	case len(attrs) > maxFilterKeys:
		return nil, fieldError("attributes", fmt.Sprintf("Ensure this object has at most %d keys.", maxFilterKeys))
	case jsonDepth(attrs) > maxFilterDepth:
		return nil, fieldError("attributes", fmt.Sprintf("Ensure this object nests at most %d levels deep.", maxFilterDepth))
	case containsNull(map[string]any(attrs)):
		return nil, fieldError("attributes", nullCharactersMessage)
	}
	return attrs, nil
}

// jsonDepth is how deeply a decoded JSON value nests.
func jsonDepth(v any) int {
	deepest := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			deepest = max(deepest, jsonDepth(e))
		}
	case []any:
		for _, e := range x {
			deepest = max(deepest, jsonDepth(e))
		}
	default:
		return 0
	}
	return deepest + 1
}

// userInScope loads user id if the caller may see it: ordinary users see
// only themselves, and anyone else answers 404.
func (s *Server) userInScope(c echo.Context, id int) (*store.User, error) {
	me := caller(c)
	if !me.IsSuperuser && int64(id) != me.ID {
		return nil, errNotFound
	}
	return s.store.GetUser(c.Request().Context(), int64(id))
}

// CoreUsersList lists users: all of them for a superuser, oneself otherwise.
func (s *Server) CoreUsersList(c echo.Context, params gen.CoreUsersListParams) error {
	pg, err := newPager(params.Page, params.PageSize)
	if err != nil {
		return err
	}
	f := store.UserFilter{
		Scope: scopeOf(caller(c)), Username: params.Username, Name: params.Name, Email: params.Email, Path: params.Path,
		UUID: uuidString(params.Uuid), IsActive: params.IsActive, IsSuperuser: params.IsSuperuser,
		Ordering: orderingFields(params.Ordering),
		UserDates: store.UserDates{
			DateJoined: params.DateJoined, DateJoinedGT: params.DateJoinedGt, DateJoinedLT: params.DateJoinedLt,
			LastUpdated: params.LastUpdated, LastUpdatedGT: params.LastUpdatedGt, LastUpdatedLT: params.LastUpdatedLt,
			LastLogin: params.LastLogin, LastLoginGT: params.LastLoginGt, LastLoginLT: params.LastLoginLt,
			LastLoginIsNull: params.LastLoginIsnull,
		},
	}
	// Roles are not modelled: as django-filter's ModelMultipleChoiceFilter
	// with no roles, any value names a choice that does not exist.
	if err := noSuchChoice("roles_by_name", params.RolesByName); err != nil {
		return err
	}
	if err := noSuchChoice("roles_by_pk", params.RolesByPk); err != nil {
		return err
	}
	if params.Attributes != nil {
		attrs, err := attributesFilter(*params.Attributes)
		if err != nil {
			return err
		}
		f.Attributes = attrs
	}
	if params.Type != nil {
		for _, t := range *params.Type {
			f.Types = append(f.Types, string(t))
		}
	}
	set(&f.PathStartsWith, params.PathStartswith)
	set(&f.Search, params.Search)
	if params.GroupsByName != nil {
		f.GroupNames = *params.GroupsByName
	}
	if params.GroupsByPk != nil {
		for _, pk := range *params.GroupsByPk {
			f.GroupPKs = append(f.GroupPKs, pk.String())
		}
	}
	rows, total, err := s.store.ListUsers(c.Request().Context(), f, pg.window())
	if err != nil {
		return err
	}
	page, err := pg.pagination(total)
	if err != nil {
		return err
	}
	views := userViews{groups: params.IncludeGroups == nil || *params.IncludeGroups,
		roles: params.IncludeRoles == nil || *params.IncludeRoles}
	out := gen.PaginatedUserList{Pagination: page, Results: make([]gen.User, len(rows)), Autocomplete: noAutocomplete}
	for i := range rows {
		out.Results[i] = userJSON(&rows[i], views)
	}
	return c.JSON(http.StatusOK, out)
}

// CoreUsersCreate creates a user (superusers only: permissionRules).
// is_superuser is read-only.
func (s *Server) CoreUsersCreate(c echo.Context) error {
	var req gen.PatchedUserRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	u := store.NewUser("", false)
	if err := applyUser(u, req); err != nil {
		return err
	}
	if err := s.store.CreateUser(c.Request().Context(), u); err != nil {
		return err
	}
	return sendObject(c, http.StatusCreated, userETag(u), nil, userJSON(u, allViews))
}

// CoreUsersRetrieve returns a user the caller may see.
func (s *Server) CoreUsersRetrieve(c echo.Context, id gen.UserID, params gen.CoreUsersRetrieveParams) error {
	u, err := s.userInScope(c, id)
	if err != nil {
		return err
	}
	return sendObject(c, http.StatusOK, userETag(u), params.IfNoneMatch, userJSON(u, allViews))
}

// CoreUsersUpdate changes the sent fields of a user (superusers only).
func (s *Server) CoreUsersUpdate(c echo.Context, id gen.UserID, params gen.CoreUsersUpdateParams) error {
	return s.updateUser(c, id, params.IfMatch)
}

// CoreUsersPartialUpdate changes the sent fields of a user (superusers only).
func (s *Server) CoreUsersPartialUpdate(c echo.Context, id gen.UserID, params gen.CoreUsersPartialUpdateParams) error {
	return s.updateUser(c, id, params.IfMatch)
}

func (s *Server) updateUser(c echo.Context, id int, match *string) error {
	var req gen.PatchedUserRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	u, err := s.store.UpdateUser(c.Request().Context(), int64(id), func(u *store.User) error {
		if err := ifMatch(c, match, userETag(u)); err != nil {
			return err
		}
		return applyUser(u, req)
	})
	if err != nil {
		return err
	}
	s.tokens.forget()
	return sendObject(c, http.StatusOK, userETag(u), nil, userJSON(u, allViews))
}

// CoreUsersDestroy deletes a user with their tokens and connections
// (superusers only).
func (s *Server) CoreUsersDestroy(c echo.Context, id gen.UserID, params gen.CoreUsersDestroyParams) error {
	err := s.store.DeleteUser(c.Request().Context(), int64(id), func(u *store.User) error {
		return ifMatch(c, params.IfMatch, userETag(u))
	})
	if err != nil {
		return err
	}
	s.tokens.forget()
	return c.NoContent(http.StatusNoContent)
}

// CoreUsersUsedByList lists the tokens and connections deleted with a user.
func (s *Server) CoreUsersUsedByList(c echo.Context, id gen.UserID) error {
	u, err := s.userInScope(c, id)
	if err != nil {
		return err
	}
	tokens, conns, err := s.store.OwnedBy(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]gen.UsedBy, 0, len(tokens)+len(conns))
	for i := range tokens {
		out = append(out, tokenUsedBy(&tokens[i]))
	}
	for i := range conns {
		out = append(out, connectionUsedBy(&conns[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// CoreUsersMeRetrieve returns the caller in authentik's SessionUser shape.
// users lists the accounts of the caller's session: with API tokens and no
// browser sessions, the caller alone, the current one.
func (s *Server) CoreUsersMeRetrieve(c echo.Context) error {
	me := userSelf(caller(c))
	return c.JSON(http.StatusOK, gen.SessionUser{User: me, Users: []gen.UserSelf{me}})
}

// userSelf is u as it sees itself, the session's current user.
func userSelf(u *store.User) gen.UserSelf {
	return gen.UserSelf{
		Pk:                ptr(int(u.ID)),
		Username:          u.Username,
		Name:              u.Name,
		IsActive:          ptr(u.IsActive),
		IsSuperuser:       ptr(u.IsSuperuser),
		Groups:            &[]gen.UserSelfGroups{},
		Email:             ptr(u.Email),
		Avatar:            ptr(defaultAvatar),
		Uid:               ptr(uid(u)),
		Settings:          &map[string]any{},
		Type:              ptr(gen.UserTypeEnum(u.Type)),
		SystemPermissions: &[]string{},
		IsCurrent:         ptr(true),
		Roles:             &[]gen.UserSelfRoles{},
	}
}

// noSuchChoice refuses a filter on objects this server does not model with
// django-filter's message for the first value: none of them exists.
func noSuchChoice[T any](field string, values *[]T) error {
	if values == nil || len(*values) == 0 {
		return nil
	}
	return fieldError(field, fmt.Sprintf("Select a valid choice. %v is not one of the available choices.", (*values)[0]))
}
