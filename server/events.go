package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
		User:    jsonObject(e.User),
		Action:  gen.EventActions(e.Action),
		App:     e.App,
		Context: jsonObject(e.Context),
		Created: apiTime(e.Created),
		Expires: apiTime(e.Expires),
		Brand:   jsonObject(e.Brand),
	}
	if e.ClientIP != nil {
		out.ClientIp = nullable.NewNullableWithValue(*e.ClientIP)
	} else {
		out.ClientIp = nullable.NewNullNullable[string]()
	}
	return out
}

// jsonObject serves a stored free-form field of an event as the JSON
// object the contract declares: as stored when it is one, else empty (an
// earlier release took any JSON there; the stored value is kept).
func jsonObject(stored store.JSON) *json.RawMessage {
	raw := json.RawMessage(stored)
	if len(raw) == 0 || raw[0] != '{' {
		raw = json.RawMessage("{}")
	}
	return &raw
}

// eventQuery is the filters authentik's EventsFilter reads, which the
// list, volume, stats and top_per_user share.
type eventQuery struct {
	Action, ClientIP, Username, Brand, ModelApp, ModelName, ModelPK, AuthorizedApp, Device, Search *string
	Actions                                                                                        *[]gen.EventActions
}

// filter is q for the caller's scope.
func (q eventQuery) filter(c echo.Context) store.EventFilter {
	// As django-filter, an empty value filters nothing.
	for _, p := range []**string{&q.Action, &q.ClientIP, &q.Username, &q.Brand, &q.ModelApp, &q.ModelName, &q.ModelPK,
		&q.AuthorizedApp, &q.Device, &q.Search} {
		if *p != nil && **p == "" {
			*p = nil
		}
	}
	f := store.EventFilter{Scope: scopeOf(caller(c)), ClientIP: q.ClientIP, Username: q.Username, BrandName: q.Brand,
		ModelApp: q.ModelApp, ModelName: q.ModelName, AuthorizedApp: q.AuthorizedApp, ContextDevice: q.Device}
	if q.Action != nil {
		f.Actions = store.ActionsContaining(*q.Action)
	}
	if q.Actions != nil && len(*q.Actions) > 0 {
		f.Actions = withinActions(f.Actions, *q.Actions)
	}
	if q.ModelPK != nil {
		// authentik keeps a UUID primary key as its hex: a client's dashes
		// are dropped.
		f.ModelPK = ptr(strings.ReplaceAll(*q.ModelPK, "-", ""))
	}
	if q.Search != nil {
		f.Search = *q.Search
	}
	shownOf(c).events(&f)
	return f
}

// withinActions narrows the actions the action filter selected (nil: any)
// to those named by the actions filter: both filters apply.
func withinActions(selected []string, named []gen.EventActions) []string {
	out := []string{}
	for _, a := range named {
		if (selected == nil || slices.Contains(selected, string(a))) && !slices.Contains(out, string(a)) {
			out = append(out, string(a))
		}
	}
	return out
}

// EventsEventsList lists the events the caller may see, newest first.
func (s *Server) EventsEventsList(c echo.Context, params gen.EventsEventsListParams) error {
	pg, err := newPager(params.Page, params.PageSize)
	if err != nil {
		return err
	}
	f := eventQuery{params.Action, params.ClientIp, params.Username, params.BrandName, params.ContextModelApp,
		params.ContextModelName, params.ContextModelPk, params.ContextAuthorizedApp, params.ContextDevice, params.Search,
		params.Actions}.filter(c)
	f.Ordering = orderingFields(params.Ordering)
	rows, total, err := s.store.ListEvents(c.Request().Context(), f, pg.window())
	if err != nil {
		return err
	}
	page, err := pg.pagination(total)
	if err != nil {
		return err
	}
	out := gen.PaginatedEventList{Pagination: page, Results: make([]gen.Event, len(rows)), Autocomplete: noAutocomplete}
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
	if !shownOf(c).event(e) {
		return errNotFound
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

// jsonField takes a free-form field of an event: a JSON object, as
// authentik's JSONField (omitted: an empty object, its default), bounded
// as every free-form field.
func jsonField(field string, v *map[string]any) (any, error) {
	if v == nil || *v == nil {
		return map[string]any{}, nil
	}
	if err := checkJSONSize(field, *v); err != nil {
		return nil, err
	}
	return *v, nil
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
		out[i] = gen.TypeCreate{Name: a[1], Description: "", Component: a[0], ModelName: "", RequiresEnterprise: ptr(false),
			Deprecated: ptr(false)}
	}
	return c.JSON(http.StatusOK, out)
}

// EventsEventsVolumeList counts the events the list's filters select over
// the last history_days days (7 unless given, at most 90), per six-hour
// bucket and action: only buckets with events, oldest first.
func (s *Server) EventsEventsVolumeList(c echo.Context, params gen.EventsEventsVolumeListParams) error {
	f := eventQuery{params.Action, params.ClientIp, params.Username, params.BrandName, params.ContextModelApp,
		params.ContextModelName, params.ContextModelPk, params.ContextAuthorizedApp, params.ContextDevice, params.Search,
		params.Actions}.filter(c)
	days := 7
	if params.HistoryDays != nil {
		days = *params.HistoryDays
	}
	rows, err := s.store.EventVolume(c.Request().Context(), f, time.Now().UTC(), days)
	if err != nil {
		return err
	}
	out := make([]gen.EventVolume, len(rows))
	for i, r := range rows {
		out[i] = gen.EventVolume{Action: gen.EventActions(r.Action), Time: r.Time.UTC(), Count: int(r.Count)}
	}
	return c.JSON(http.StatusOK, out)
}

// EventsEventsStatsRetrieve counts, among the events the list's filters
// select in the last 60 days, the distinct users and, per count step, the
// events created within it, keyed as authentik slugifies the step.
func (s *Server) EventsEventsStatsRetrieve(c echo.Context, params gen.EventsEventsStatsRetrieveParams) error {
	f := eventQuery{params.Action, params.ClientIp, params.Username, params.BrandName, params.ContextModelApp,
		params.ContextModelName, params.ContextModelPk, params.ContextAuthorizedApp, params.ContextDevice, params.Search,
		params.Actions}.filter(c)
	steps := make([]time.Duration, len(params.CountSteps))
	bad := map[string][]string{}
	for i, step := range params.CountSteps {
		d, err := timedeltaFromString(step)
		if err != nil {
			bad[strconv.Itoa(i)] = []string{fmt.Sprintf("%s is not in the correct format of 'hours=3;minutes=1'.", truncate(step, 64))}
		}
		steps[i] = d
	}
	if len(bad) > 0 {
		return &Problem{Status: http.StatusBadRequest, Items: map[string]map[string][]string{"count_steps": bad}}
	}
	users, counts, err := s.store.EventStats(c.Request().Context(), f, time.Now().UTC(), steps)
	if err != nil {
		return err
	}
	out := gen.EventStats{UniqueUsers: int(users), CountStep: map[string]any{}}
	for i, step := range params.CountSteps {
		out.CountStep[countStepKey(step)] = counts[i]
	}
	return c.JSON(http.StatusOK, out)
}

// EventsEventsTopPerUserList groups the events the list's filters select,
// of one action (login unless action or actions name others), that name an
// authorized application by it: the top_n (15 unless given) with most
// events.
func (s *Server) EventsEventsTopPerUserList(c echo.Context, params gen.EventsEventsTopPerUserListParams) error {
	action := params.Action
	params.Action = nil
	f := eventQuery{params.Action, params.ClientIp, params.Username, params.BrandName, params.ContextModelApp,
		params.ContextModelName, params.ContextModelPk, params.ContextAuthorizedApp, params.ContextDevice, params.Search,
		params.Actions}.filter(c)
	switch {
	case action != nil && *action != "":
		// authentik matches top_per_user's action exactly.
		f.Actions = withinActions([]string{*action}, actionsOr(params.Actions, *action))
	case f.Actions == nil:
		f.Actions = []string{"login"}
	}
	shownOf(c).events(&f)
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

// actionsOr is the actions filter, or the one action when it names none.
func actionsOr(named *[]gen.EventActions, action string) []gen.EventActions {
	if named != nil && len(*named) > 0 {
		return *named
	}
	return []gen.EventActions{gen.EventActions(action)}
}
