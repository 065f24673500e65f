package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Event is one entry of the audit trail (authentik's Event). User,
// Context and Brand are any JSON (objects, but for events made through
// the API), kept as written and served as read, never decoded on the way
// out; the columns after them are
// copied out of them for the filters and the scope of ordinary users.
type Event struct {
	UUID     string    `gorm:"column:event_uuid;primaryKey;index:idx_events_created,priority:2;index:idx_events_user,priority:3;index:idx_events_action,priority:3;index:idx_events_username,priority:3;index:idx_events_model_pk,priority:3;index:idx_events_client_ip,priority:3;index:idx_events_model_name,priority:3;index:idx_events_model_app,priority:3;index:idx_events_device_pk,priority:3"`
	UserPK   *int64    `gorm:"column:user_pk;index:idx_events_user,priority:1"`
	Username string    `gorm:"not null;index:idx_events_username,priority:1"`
	User     JSON      `gorm:"column:user;not null"`
	Action   string    `gorm:"not null;index:idx_events_action,priority:1"`
	App      string    `gorm:"not null"`
	Context  JSON      `gorm:"not null"`
	ClientIP *string   `gorm:"column:client_ip;index:idx_events_client_ip,priority:1"`
	Created  time.Time `gorm:"not null;index:idx_events_created,priority:1;index:idx_events_user,priority:2;index:idx_events_action,priority:2;index:idx_events_username,priority:2;index:idx_events_model_pk,priority:2;index:idx_events_client_ip,priority:2;index:idx_events_model_name,priority:2;index:idx_events_model_app,priority:2;index:idx_events_device_pk,priority:2"`
	Expires  time.Time `gorm:"not null;index:idx_events_expires"`
	Brand    JSON      `gorm:"not null"`

	ModelApp      string `gorm:"not null;index:idx_events_model_app,priority:1"`
	ModelName     string `gorm:"not null;index:idx_events_model_name,priority:1"`
	ModelPK       string `gorm:"column:model_pk;not null;index:idx_events_model_pk,priority:1"`
	AuthorizedApp string `gorm:"not null"`
	BrandName     string `gorm:"not null"`
	DevicePK      string `gorm:"column:device_pk;not null;index:idx_events_device_pk,priority:1"`
}

// TableName names the events table.
func (Event) TableName() string { return "events" }

// EventCount is one shard of the number of events in a scope: all (""),
// one user's ("u:<pk>"), one action's ("a:<action>"); kept by triggers.
type EventCount struct {
	Scope string `gorm:"primaryKey"`
	Shard int    `gorm:"primaryKey;autoIncrement:false"`
	N     int64  `gorm:"not null"`
}

// TableName names the event counts table.
func (EventCount) TableName() string { return "event_counts" }

// EventFilter selects events. Each non-nil field must equal the event's.
type EventFilter struct {
	// Scope limits ordinary users to their own events (by user pk).
	Scope Scope
	// Actions is the set of actions the action filter names (nil: any;
	// empty: none, as when the filter matches no action).
	Actions                                                    []string
	UserPK, App                                                *string
	ClientIP, Username, BrandName                              *string
	ModelApp, ModelName, ModelPK, AuthorizedApp, ContextDevice *string
	// Search matches the uuid, the user, action, app, context or client
	// IP, ignoring case.
	Search string
	// Since keeps events created at or after it.
	Since    *time.Time
	Ordering []string
}

var eventOrderColumns = map[string]clause.Column{
	"pk":        {Name: "event_uuid"},
	"user":      {Name: "username"},
	"action":    {Name: "action"},
	"app":       {Name: "app"},
	"client_ip": {Name: "client_ip"},
	"created":   {Name: "created"},
	"expires":   {Name: "expires"},
	"brand":     {Name: "brand_name"},
}

// sqliteEventOrderColumns are eventOrderColumns on SQLite, where seq is in
// the order of created (sequenceEvents) and the filter indexes walk it.
var sqliteEventOrderColumns = func() map[string]clause.Column {
	m := maps.Clone(eventOrderColumns)
	m["created"] = clause.Column{Name: "seq"}
	return m
}()

// eventOrder is the ORDER BY of a list of events: the orderings asked
// for, newest first by default, ties broken by uuid, or on SQLite by seq
// (in the order of created, then uuid, as PostgreSQL breaks them).
func (s *Store) eventOrder(ordering []string) clause.OrderBy {
	if s.dialect == SQLite {
		return orderBy(ordering, sqliteEventOrderColumns, []string{"-created"}, "created")
	}
	return orderBy(ordering, eventOrderColumns, []string{"-created"}, "pk")
}

func (s *Store) filterEvents(q *gorm.DB, f EventFilter) *gorm.DB {
	if !f.Scope.All {
		q = q.Where("user_pk = ?", f.Scope.UserID)
	}
	if f.Actions != nil {
		if len(f.Actions) == 0 {
			return q.Where("1 = 0")
		}
		q = q.Where("action IN ?", dedupe(f.Actions))
	}
	for _, eq := range equalities("", eq{"user_pk", f.UserPK}, eq{"app", f.App}, eq{"client_ip", f.ClientIP}, eq{"username", f.Username}, eq{"brand_name", f.BrandName},
		eq{"model_app", f.ModelApp}, eq{"model_name", f.ModelName}, eq{"model_pk", f.ModelPK}, eq{"authorized_app", indexedPK(f.AuthorizedApp)}, eq{"device_pk", indexedPK(f.ContextDevice)}) {
		q = q.Where(eq)
	}
	if f.Since != nil {
		q = q.Where("created >= ?", f.Since.UTC())
	}
	if f.Search != "" {
		q = s.searchAny(q, f.Search, "event_uuid", `"user"`, "action", "app", "context", "client_ip")
	}
	return q
}

// ListEvents returns one page of the events f selects, newest first
// unless f orders otherwise, and the number of all of them. Counts of all
// events, of one user's and of given actions come from event_counts.
func (s *Store) ListEvents(ctx context.Context, f EventFilter, p Page) ([]Event, int64, error) {
	db := s.db.WithContext(ctx)
	total, counted, err := s.countEvents(db, f)
	if err != nil {
		return nil, 0, fmt.Errorf("count events: %w", translate(err))
	}
	if !counted {
		if err := s.filterEvents(db.Model(&Event{}), f).Count(&total).Error; err != nil {
			return nil, 0, fmt.Errorf("count events: %w", translate(err))
		}
	}
	if total == 0 || int64(p.Offset) >= total {
		return []Event{}, total, nil
	}
	var out []Event
	q := s.filterEvents(db, f).Order(s.eventOrder(f.Ordering))
	if err := q.Offset(p.Offset).Limit(p.Limit).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list events: %w", translate(err))
	}
	return out, total, nil
}

// countEvents reads the number of events f selects from event_counts when
// its only condition is one of: the scope of an ordinary user, actions, a
// model (app, name or both); it reports whether it could. Any other
// filter, or two of those, is counted on the rows.
func (s *Store) countEvents(db *gorm.DB, f EventFilter) (int64, bool, error) {
	other := f.UserPK != nil || f.App != nil || f.ClientIP != nil || f.Username != nil || f.BrandName != nil ||
		f.ModelPK != nil || f.AuthorizedApp != nil || f.ContextDevice != nil || f.Search != "" || f.Since != nil
	model := f.ModelApp != nil || f.ModelName != nil
	conditions := 0
	for _, c := range []bool{!f.Scope.All, f.Actions != nil, model} {
		if c {
			conditions++
		}
	}
	if other || conditions > 1 {
		return 0, false, nil
	}
	var scopes []string
	switch {
	case !f.Scope.All:
		scopes = []string{userScope(f.Scope.UserID)}
	case f.Actions != nil:
		for _, a := range dedupe(f.Actions) {
			scopes = append(scopes, actionScope(a))
		}
	case model:
		var err error
		if scopes, err = modelScopes(db, f.ModelApp, f.ModelName); err != nil {
			return 0, false, err
		}
	default:
		scopes = []string{allEvents}
	}
	if len(scopes) == 0 {
		return 0, true, nil
	}
	var n int64
	err := db.Raw("SELECT COALESCE(SUM(n), 0) FROM event_counts WHERE scope IN ?", scopes).Scan(&n).Error
	return n, true, err
}

// modelScopes lists the count scopes ("m:<app>.<model_name>") of the
// models an app and a model name (nil: any) select. There are few: one
// per model ever recorded.
func modelScopes(db *gorm.DB, app, name *string) ([]string, error) {
	var all []string
	if err := db.Raw("SELECT DISTINCT scope FROM event_counts WHERE scope LIKE ?", modelPrefix+"%").Scan(&all).Error; err != nil {
		return nil, err
	}
	var out []string
	for _, scope := range all {
		a, n, _ := strings.Cut(strings.TrimPrefix(scope, modelPrefix), ".")
		if (app == nil || *app == a) && (name == nil || *name == n) {
			out = append(out, scope)
		}
	}
	return out, nil
}

// GetEvent returns the event with uuid if the scope may see it, or
// ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, sc Scope, uuid string) (*Event, error) {
	var e Event
	q := s.db.WithContext(ctx).Where("event_uuid = ?", uuid)
	if !sc.All {
		q = q.Where("user_pk = ?", sc.UserID)
	}
	if err := q.Take(&e).Error; err != nil {
		return nil, fmt.Errorf("event %s: %w", uuid, translate(err))
	}
	return &e, nil
}

// CreateEvent stores e with user, context and brand as given (the events
// API's create; any JSON values), its context (when an object) marked
// created_via_api and given the creating request's http_request when ctx
// carries an Audit.
func (s *Store) CreateEvent(ctx context.Context, e *Event, user, details, brand any) error {
	if m := object(details); m != nil {
		m["created_via_api"] = true
		if a := auditOf(ctx); a != nil && a.HTTPRequest != nil {
			m["http_request"] = a.HTTPRequest
		}
	}
	if err := e.fill(user, details, brand); err != nil {
		return fmt.Errorf("create event: %w", err)
	}
	u := object(user)
	if pk, ok := u["pk"].(float64); ok && pk == float64(int64(pk)) {
		id := int64(pk)
		e.UserPK = &id
	}
	e.Username, _ = u["username"].(string)
	if err := s.writeLeavingConnections(ctx, func(tx *writeTx) error { return tx.insertEvents(e) }); err != nil {
		return fmt.Errorf("create event: %w", translate(err))
	}
	return nil
}

// EventBuckets counts the events f selects in buckets equal parts of the
// time since f.Since until now, oldest first: counts[i] covers
// [since + i×width, since + (i+1)×width).
func (s *Store) EventBuckets(ctx context.Context, f EventFilter, now time.Time, buckets int) ([]int64, error) {
	width := now.Sub(*f.Since).Seconds() / float64(buckets)
	bucket := "CAST((julianday(created) - julianday(?)) * 86400 / ? AS INTEGER)"
	if s.dialect == Postgres {
		bucket = "floor(extract(epoch from (created - ?::timestamptz)) / ?)::bigint"
	}
	var rows []struct {
		Bucket int64
		N      int64
	}
	q := s.filterEvents(s.db.WithContext(ctx).Model(&Event{}), f).
		Select(bucket+" AS bucket, COUNT(*) AS n", f.Since.UTC(), width).Group("bucket")
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("event volume: %w", translate(err))
	}
	counts := make([]int64, buckets)
	for _, r := range rows {
		if r.Bucket >= 0 && r.Bucket < int64(buckets) {
			counts[r.Bucket] += r.N
		}
	}
	return counts, nil
}

// TopApplication is one application of TopPerUser.
type TopApplication struct {
	Application   map[string]any
	CountedEvents int64
	UniqueUsers   int64
}

// TopPerUser groups the events f selects that name an authorized
// application by that application, with their number and the number of
// distinct users, most events first, at most n.
func (s *Store) TopPerUser(ctx context.Context, f EventFilter, n int) ([]TopApplication, error) {
	var rows []struct {
		Context        string
		Counted, Users int64
	}
	// The database groups and counts; one context of each group names
	// the application (they all name the same one).
	q := s.filterEvents(s.db.WithContext(ctx).Model(&Event{}), f).Where("authorized_app <> ''").
		Select("authorized_app, MAX(context) AS context, COUNT(*) AS counted, COUNT(DISTINCT user_pk) AS users").
		Group("authorized_app").Order("counted DESC, authorized_app").Limit(n)
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("top per user: %w", translate(err))
	}
	out := make([]TopApplication, len(rows))
	for i, r := range rows {
		var details map[string]any
		_ = json.Unmarshal([]byte(r.Context), &details)
		app, _ := details["authorized_application"].(map[string]any)
		out[i] = TopApplication{Application: app, CountedEvents: r.Counted, UniqueUsers: r.Users}
	}
	return out, nil
}

// eventSweepBatch is how many expired events one statement deletes.
const eventSweepBatch = 1000

// SweepEvents deletes the events expired at now, in batches, each a
// short transaction of its own so that requests never wait long (requests
// only insert events, never touch old ones); it returns how many it
// deleted. Several replicas may sweep at once: on PostgreSQL a batch skips
// the rows another sweeper holds, and a batch deletes only what is still
// there.
func (s *Store) SweepEvents(ctx context.Context, now time.Time) (int64, error) {
	batch := "SELECT event_uuid FROM events WHERE expires <= ? ORDER BY expires LIMIT ?"
	if s.dialect == Postgres {
		batch += " FOR UPDATE SKIP LOCKED"
	}
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(tx *writeTx) error {
			res := tx.db.Exec("DELETE FROM events WHERE event_uuid IN ("+batch+")", now.UTC(), eventSweepBatch)
			n = res.RowsAffected
			return res.Error
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("sweep events: %w", translate(err))
		}
		if n < eventSweepBatch {
			return total, nil
		}
	}
}

// EventActions lists authentik 2026.8's event actions: value and label.
var EventActions = [][2]string{
	{"login", "Login"}, {"login_failed", "Login Failed"}, {"logout", "Logout"}, {"user_write", "User Write"},
	{"suspicious_request", "Suspicious Request"}, {"password_set", "Password Set"}, {"secret_view", "Secret View"},
	{"secret_rotate", "Secret Rotate"}, {"invitation_used", "Invite Used"}, {"authorize_application", "Authorize Application"},
	{"source_linked", "Source Linked"}, {"impersonation_started", "Impersonation Started"},
	{"impersonation_ended", "Impersonation Ended"}, {"flow_execution", "Flow Execution"},
	{"policy_execution", "Policy Execution"}, {"policy_exception", "Policy Exception"},
	{"property_mapping_exception", "Property Mapping Exception"}, {"system_task_execution", "System Task Execution"},
	{"system_task_exception", "System Task Exception"}, {"system_exception", "System Exception"},
	{"configuration_error", "Configuration Error"}, {"model_created", "Model Created"}, {"model_updated", "Model Updated"},
	{"model_deleted", "Model Deleted"}, {"email_sent", "Email Sent"}, {"update_available", "Update Available"},
	{"user_offboarded", "User Offboarded"}, {"configuration_warning", "Configuration Warning"},
	{"export_ready", "Export Ready"}, {"review_initiated", "Review Initiated"}, {"review_overdue", "Review Overdue"},
	{"review_attested", "Review Attested"}, {"review_completed", "Review Completed"},
	{"access_request_created", "Access Request Created"}, {"access_request_approved", "Access Request Approved"},
	{"access_request_denied", "Access Request Denied"}, {"access_request_revoked", "Access Request Revoked"},
	{"custom_", "Custom Prefix"},
}

// ActionsContaining lists the actions whose value contains text, ignoring
// case (authentik's icontains action filter), so that the filter can use
// the action index.
func ActionsContaining(text string) []string {
	out := []string{}
	for _, a := range EventActions {
		if strings.Contains(a[0], strings.ToLower(text)) {
			out = append(out, a[0])
		}
	}
	return out
}

// JSON is a JSON document as stored: read and written as text, served as
// is (it is its own JSON encoding).
type JSON []byte

// Value stores j as text.
func (j JSON) Value() (driver.Value, error) { return string(j), nil }

// Scan reads a stored document.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*j = JSON(v)
	case []byte:
		*j = append(JSON(nil), v...)
	case nil:
		*j = nil
	default:
		return errors.New("JSON: cannot scan a non-text value")
	}
	return nil
}

// MarshalJSON returns the document itself (null when there is none).
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}
