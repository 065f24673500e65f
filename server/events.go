package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	"akconn/gen"
	"akconn/store"
)

// The audit trail, served as authentik's events API. A superuser sees
// every event; anyone else sees only the events of their own account
// (whose user is them), and another's answers 404. The trail is
// append-only: nobody may change or remove an event over the API.

// eventJSON converts a stored event to authentik's Event.
func eventJSON(e *store.Event) gen.Event {
	id, _ := uuid.Parse(e.UUID)
	out := gen.Event{
		Pk:      &id,
		User:    e.User,
		Action:  gen.EventActions(e.Action),
		App:     e.App,
		Context: e.Context,
		Created: apiTime(e.Created),
		Expires: apiTime(e.Expires),
		Brand:   e.Brand,
	}
	if e.ClientIP != nil {
		out.ClientIp = nullable.NewNullableWithValue(*e.ClientIP)
	} else {
		out.ClientIp = nullable.NewNullNullable[string]()
	}
	return out
}

// eventFilter is the list's filters, as authentik's EventsFilter reads
// them, for the caller's scope.
func eventFilter(c echo.Context, action, clientIP, username, brand, modelApp, modelName, modelPK, authorizedApp, search *string) store.EventFilter {
	// As django-filter, an empty value filters nothing.
	for _, p := range []**string{&action, &clientIP, &username, &brand, &modelApp, &modelName, &modelPK, &authorizedApp, &search} {
		if *p != nil && **p == "" {
			*p = nil
		}
	}
	f := store.EventFilter{Scope: scopeOf(caller(c)), ClientIP: clientIP, Username: username, BrandName: brand,
		ModelApp: modelApp, ModelName: modelName, AuthorizedApp: authorizedApp}
	if action != nil {
		f.Actions = store.ActionsContaining(*action)
	}
	if modelPK != nil {
		// authentik keeps a UUID primary key as its hex: a client's dashes
		// are dropped.
		f.ModelPK = ptr(strings.ReplaceAll(*modelPK, "-", ""))
	}
	if search != nil {
		f.Search = *search
	}
	return f
}

// EventsEventsList lists the events the caller may see, newest first.
func (s *Server) EventsEventsList(c echo.Context, params gen.EventsEventsListParams) error {
	pg, err := newPager(params.Page, params.PageSize)
	if err != nil {
		return err
	}
	f := eventFilter(c, params.Action, params.ClientIp, params.Username, params.BrandName, params.ContextModelApp,
		params.ContextModelName, params.ContextModelPk, params.ContextAuthorizedApp, params.Search)
	f.Ordering = orderingFields(params.Ordering)
	rows, total, err := s.store.ListEvents(c.Request().Context(), f, pg.window())
	if err != nil {
		return err
	}
	page, err := pg.pagination(total)
	if err != nil {
		return err
	}
	out := gen.PaginatedEventList{Pagination: page, Results: make([]gen.Event, len(rows))}
	for i := range rows {
		out.Results[i] = eventJSON(&rows[i])
	}
	return c.JSON(http.StatusOK, out)
}

// EventsEventsRetrieve returns one event the caller may see.
func (s *Server) EventsEventsRetrieve(c echo.Context, id gen.EventUUID) error {
	e, err := s.store.GetEvent(c.Request().Context(), scopeOf(caller(c)), id.String())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, eventJSON(e))
}

// EventsEventsCreate records an event as sent (superusers only, as in
// authentik), marked in its context as created through the API, with the
// creating request.
func (s *Server) EventsEventsCreate(c echo.Context) error {
	var req gen.EventRequest
	if err := bindBody(c, &req); err != nil {
		return err
	}
	e := &store.Event{UUID: store.NewEventUUID(), Action: string(req.Action), App: req.App}
	user, err := jsonField("user", req.User)
	if err != nil {
		return err
	}
	details, err := jsonField("context", req.Context)
	if err != nil {
		return err
	}
	brand, err := jsonField("brand", req.Brand)
	if err != nil {
		return err
	}
	if ip, sent := optional(req.ClientIp); sent {
		e.ClientIP = ip
	}
	e.Created = time.Now().UTC().Truncate(time.Microsecond)
	e.Expires = e.Created.Add(s.eventRetention)
	if req.Expires != nil {
		e.Expires = req.Expires.UTC()
	}
	if err := s.store.CreateEvent(c.Request().Context(), e, user, details, brand); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, eventJSON(e))
}

// jsonField takes a free-form field of an event: any JSON, as authentik's
// JSONField (omitted: an empty object, its default), bounded as every
// free-form field.
func jsonField(field string, v any) (any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	if err := checkJSONSize(field, v); err != nil {
		return nil, err
	}
	return v, nil
}

// errAppendOnly refuses every change and removal of an event.
func errAppendOnly(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderAllow, "GET, HEAD")
	return &Problem{Status: http.StatusMethodNotAllowed, Detail: fmt.Sprintf("Method %q not allowed.", c.Request().Method)}
}

// EventsEventsUpdate is refused: the trail is append-only.
func (s *Server) EventsEventsUpdate(c echo.Context, _ gen.EventUUID) error { return errAppendOnly(c) }

// EventsEventsPartialUpdate is refused: the trail is append-only.
func (s *Server) EventsEventsPartialUpdate(c echo.Context, _ gen.EventUUID) error {
	return errAppendOnly(c)
}

// EventsEventsDestroy is refused: the trail is append-only.
func (s *Server) EventsEventsDestroy(c echo.Context, _ gen.EventUUID) error { return errAppendOnly(c) }

// EventsEventsActionsList lists every event action with its label.
func (s *Server) EventsEventsActionsList(c echo.Context) error {
	out := make([]gen.TypeCreate, len(store.EventActions))
	for i, a := range store.EventActions {
		out[i] = gen.TypeCreate{Name: a[1], Description: "", Component: a[0], ModelName: "", RequiresEnterprise: ptr(false)}
	}
	return c.JSON(http.StatusOK, out)
}

// EventsEventsVolumeList counts the events the list's filters select over
// the last 7 days, in 21 equal buckets (8 hours), oldest first.
func (s *Server) EventsEventsVolumeList(c echo.Context, params gen.EventsEventsVolumeListParams) error {
	f := eventFilter(c, params.Action, params.ClientIp, params.Username, params.BrandName, params.ContextModelApp,
		params.ContextModelName, params.ContextModelPk, params.ContextAuthorizedApp, params.Search)
	return s.eventVolume(c, f, 7*24*time.Hour, 21)
}

// perMonthLookups are the Django lookups per_month's query may use, and
// the filter field each sets.
var perMonthLookups = map[string]func(*store.EventFilter, string){
	"user__pk":                   func(f *store.EventFilter, v string) { f.UserPK = &v }, // checked an integer
	"user__username":             func(f *store.EventFilter, v string) { f.Username = &v },
	"client_ip":                  func(f *store.EventFilter, v string) { f.ClientIP = &v },
	"context__model__app":        func(f *store.EventFilter, v string) { f.ModelApp = &v },
	"context__model__model_name": func(f *store.EventFilter, v string) { f.ModelName = &v },
	"context__model__pk":         func(f *store.EventFilter, v string) { f.ModelPK = ptr(strings.ReplaceAll(v, "-", "")) },
	"app":                        func(f *store.EventFilter, v string) { f.App = &v },
}

// EventsEventsPerMonthList counts the events of one action (login unless
// named) over the last 4 weeks, in 30 equal buckets, oldest first.
func (s *Server) EventsEventsPerMonthList(c echo.Context, params gen.EventsEventsPerMonthListParams) error {
	f := store.EventFilter{Scope: scopeOf(caller(c)), Actions: []string{"login"}}
	if params.Action != nil {
		f.Actions = []string{*params.Action}
	}
	if params.Query != nil && *params.Query != "" {
		var query map[string]any
		if err := json.Unmarshal([]byte(*params.Query), &query); err != nil {
			return fieldError("query", "Enter a JSON object.")
		}
		for k, v := range query {
			lookup, ok := perMonthLookups[k]
			if !ok {
				return fieldError("query", fmt.Sprintf("Unsupported lookup %q.", truncate(k, 64)))
			}
			value := fmt.Sprint(v)
			if _, err := strconv.ParseInt(value, 10, 64); k == "user__pk" && err != nil {
				return fieldError("query", "user__pk must be an integer.")
			}
			lookup(&f, value)
		}
	}
	return s.eventVolume(c, f, 28*24*time.Hour, 30)
}

// eventVolume answers the number of events f selects over the last span,
// in buckets equal parts, as coordinates: x the start of the bucket in
// milliseconds since the epoch, y the count.
func (s *Server) eventVolume(c echo.Context, f store.EventFilter, span time.Duration, buckets int) error {
	now := time.Now().UTC()
	since := now.Add(-span)
	f.Since = &since
	counts, err := s.store.EventBuckets(c.Request().Context(), f, now, buckets)
	if err != nil {
		return err
	}
	width := span / time.Duration(buckets)
	out := make([]gen.Coordinate, buckets)
	for i, n := range counts {
		out[i] = gen.Coordinate{XCord: ptr(int(since.Add(time.Duration(i) * width).UnixMilli())), YCord: ptr(int(n))}
	}
	return c.JSON(http.StatusOK, out)
}

// EventsEventsTopPerUserList groups the events of one action (login unless
// named) that name an authorized application by it: the top_n (15 unless
// given) with most events.
func (s *Server) EventsEventsTopPerUserList(c echo.Context, params gen.EventsEventsTopPerUserListParams) error {
	f := store.EventFilter{Scope: scopeOf(caller(c)), Actions: []string{"login"}}
	if params.Action != nil {
		f.Actions = []string{*params.Action}
	}
	n := 15
	if params.TopN != nil {
		n = min(max(*params.TopN, 0), maxPageSize)
	}
	top, err := s.store.TopPerUser(c.Request().Context(), f, n)
	if err != nil {
		return err
	}
	out := make([]gen.EventTopPerUser, len(top))
	for i, t := range top {
		out[i] = gen.EventTopPerUser{Application: t.Application, CountedEvents: int(t.CountedEvents), UniqueUsers: int(t.UniqueUsers)}
	}
	return c.JSON(http.StatusOK, out)
}
