package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event actions the store records (authentik's EventAction values).
const (
	ActionModelCreated = "model_created"
	ActionModelUpdated = "model_updated"
	ActionModelDeleted = "model_deleted"
	ActionSecretView   = "secret_view"
)

// masked stands for a secret in an event: a change of it is recorded,
// never its value.
const masked = "********"

// Audit is what an event records of the request that caused it. A write
// whose context carries an Audit (WithAudit) records its event in the
// same transaction: a change that fails or rolls back leaves no event, a
// committed change always has one.
type Audit struct {
	// User is the caller as authentik's get_user makes it: pk, username,
	// email.
	User     map[string]any
	UserPK   *int64
	Username string
	// ClientIP is the peer's address (or the forwarded one, from a
	// trusted proxy).
	ClientIP *string
	// HTTPRequest is path, method, args (the query), user_agent and
	// request_id.
	HTTPRequest map[string]any
	// Retention is how long events are kept (expires = created + it).
	Retention time.Duration

	// user and request are User and HTTPRequest encoded (WithAudit).
	user, request []byte
}

type auditKey struct{}

// WithAudit returns ctx carrying a, so that the store's writes under it
// record events. It encodes a's user and request here, once, in the
// caller's goroutine: on SQLite events are made by the one writer
// goroutine every write waits for, which should do as little as it can.
func WithAudit(ctx context.Context, a *Audit) context.Context {
	a.user = appendJSON(make([]byte, 0, 128), a.User)
	if a.HTTPRequest != nil {
		a.request = appendJSON(make([]byte, 0, 256), a.HTTPRequest)
	}
	return context.WithValue(ctx, auditKey{}, a)
}

func auditOf(ctx context.Context) *Audit {
	a, _ := ctx.Value(auditKey{}).(*Audit)
	return a
}

// audited is a model that events can describe.
type audited interface {
	// modelRef is authentik's model_to_dict: app label, model name, pk
	// (a UUID as its hex, an integer as a number) and str(instance).
	modelRef() map[string]any
	// auditFields are the API fields a change is compared on; secret
	// fields are left out (secretsChanged reports them).
	auditFields() map[string]any
	// secretsChanged names the secret fields a write sets.
	secretsChanged() []string
}

// eventOf makes the event of action on obj (for an update, with the diff
// from before) by the request a describes, or returns nil when a is nil.
func (s *Store) eventOf(a *Audit, action string, obj audited, before map[string]any) *Event {
	if a == nil {
		return nil
	}
	model := obj.modelRef()
	details := map[string]any{"model": model}
	if action == ActionModelUpdated {
		diff := map[string]any{}
		now := obj.auditFields()
		for _, k := range slices.Sorted(maps.Keys(now)) {
			if !reflect.DeepEqual(before[k], now[k]) {
				diff[k] = map[string]any{"previous_value": before[k], "new_value": now[k]}
			}
		}
		for _, k := range obj.secretsChanged() {
			diff[k] = map[string]any{"previous_value": masked, "new_value": masked}
		}
		details["diff"] = diff
	}
	return s.newEvent(a, action, model["app"].(string), details)
}

// RecordSecretView writes the secret_view event of revealing t's key, in
// a transaction of its own (nothing else changes), if ctx carries an
// Audit.
func (s *Store) RecordSecretView(ctx context.Context, t *Token) error {
	a := auditOf(ctx)
	if a == nil {
		return nil
	}
	e := s.newEvent(a, ActionSecretView, "authentik_core", map[string]any{"secret": t.modelRef()})
	if err := s.writeLeavingConnections(ctx, func(tx *writeTx) error { return tx.insertEvents(e) }); err != nil {
		return fmt.Errorf("record %s event: %w", ActionSecretView, translate(err))
	}
	return nil
}

// newEvent makes the event of action by the request a describes:
// details, with a's http_request, is its context.
func (s *Store) newEvent(a *Audit, action, app string, details map[string]any) *Event {
	now := s.db.NowFunc()
	e := &Event{UUID: NewEventUUID(), UserPK: a.UserPK, Username: a.Username, Action: action, App: app,
		ClientIP: a.ClientIP, Created: now, Expires: now.Add(a.Retention), User: a.user, Brand: emptyObject}
	if a.request != nil {
		// {"http_request":…, then details' members (an object's members are
		// unordered; authentik writes them in insertion order).
		merged := make([]byte, 0, len(a.request)+384)
		merged = append(append(merged, `{"http_request":`...), a.request...)
		if len(details) > 0 {
			merged = appendJSONMembers(append(merged, ','), details)
		}
		e.Context = append(merged, '}')
	} else {
		e.Context = appendJSON(nil, details)
	}
	e.index(details)
	return e
}

// emptyObject is the brand of every event the server records.
var emptyObject = JSON("{}")

// NewEventUUID returns a new event's uuid: a UUIDv7, whose time-ordered
// bits keep the events' primary key index appended to rather than
// written all over (authentik uses random ones; both are UUIDs).
func NewEventUUID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// jsonTime is how an event shows a timestamp (or null).
func jsonTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
}

// hexPK is how authentik records a UUID primary key: its hex, no dashes.
func hexPK(id string) string { return strings.ReplaceAll(id, "-", "") }

func (c *Connection) modelRef() map[string]any {
	return map[string]any{"app": "authentik_sources_oauth", "model_name": "useroauthsourceconnection", "pk": c.ID,
		"name": fmt.Sprintf("User-source connection (user=%d, source=%s)", c.UserID, c.SourceID)}
}

func (c *Connection) auditFields() map[string]any {
	return map[string]any{"user": c.UserID, "source": c.SourceID, "identifier": c.Identifier, "expires": jsonTime(c.Expires)}
}

func (c *Connection) secretsChanged() []string {
	if c.SetAccessToken {
		return []string{"access_token"}
	}
	return nil
}

func (src *OAuthSource) modelRef() map[string]any {
	return map[string]any{"app": "authentik_sources_oauth", "model_name": "oauthsource", "pk": hexPK(src.ID), "name": src.Name}
}

func (src *OAuthSource) auditFields() map[string]any {
	return map[string]any{"name": src.Name, "slug": src.Slug, "enabled": src.Enabled, "provider_type": src.ProviderType,
		"consumer_key": src.ConsumerKey, "additional_scopes": src.AdditionalScopes, "policy_engine_mode": src.PolicyEngineMode,
		"user_matching_mode": src.UserMatchingMode, "group_matching_mode": src.GroupMatchingMode,
		"user_path_template": src.UserPathTemplate, "request_token_url": src.RequestTokenURL,
		"authorization_url": src.AuthorizationURL, "access_token_url": src.AccessTokenURL, "profile_url": src.ProfileURL,
		"oidc_well_known_url": src.OIDCWellKnownURL, "oidc_jwks_url": src.OIDCJWKSURL, "oidc_jwks": jsonValue(src.OIDCJWKS)}
}

func (src *OAuthSource) secretsChanged() []string {
	if src.ConsumerSecret != "" {
		return []string{"consumer_secret"}
	}
	return nil
}

func (u *User) modelRef() map[string]any {
	return map[string]any{"app": "authentik_core", "model_name": "user", "pk": u.ID, "name": u.Username}
}

func (u *User) auditFields() map[string]any {
	return map[string]any{"username": u.Username, "name": u.Name, "email": u.Email, "is_active": u.IsActive,
		"path": u.Path, "type": u.Type, "attributes": jsonValue(u.Attributes), "last_login": jsonTime(u.LastLogin)}
}

func (u *User) secretsChanged() []string { return nil }

func (t *Token) modelRef() map[string]any {
	name := t.Identifier
	if t.Expiring && t.Expires != nil {
		name = fmt.Sprintf("%s (expires=%s)", t.Identifier, t.Expires.UTC().Format(time.RFC3339))
	}
	return map[string]any{"app": "authentik_core", "model_name": "token", "pk": hexPK(t.ID), "name": name}
}

func (t *Token) auditFields() map[string]any {
	return map[string]any{"identifier": t.Identifier, "intent": t.Intent, "user": t.UserID, "description": t.Description,
		"expires": jsonTime(t.Expires), "expiring": t.Expiring, "managed": t.Managed}
}

func (t *Token) secretsChanged() []string { return nil }

// jsonValue is v as a JSON document decodes, so that values compare alike
// whether they came from the database or from a request.
func jsonValue(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

// fill encodes an event's free-form fields and copies out of them what
// the filters need.
func (e *Event) fill(user, details, brand any) error {
	var err error
	if e.User, err = json.Marshal(user); err != nil {
		return err
	}
	if e.Context, err = json.Marshal(details); err != nil {
		return err
	}
	if e.Brand, err = json.Marshal(brand); err != nil {
		return err
	}
	e.index(object(details))
	e.BrandName, _ = object(brand)["name"].(string)
	return nil
}

// index copies out of an event's context what the filters need.
func (e *Event) index(details map[string]any) {
	if model, ok := details["model"].(map[string]any); ok {
		e.ModelApp, _ = model["app"].(string)
		e.ModelName, _ = model["model_name"].(string)
		e.ModelPK = pkText(model["pk"])
	}
	if app, ok := details["authorized_application"].(map[string]any); ok {
		e.AuthorizedApp = pkText(app["pk"])
	}
	if device, ok := details["device"].(map[string]any); ok {
		e.DevicePK = pkText(device["pk"])
	}
}

// pkText is a primary key as the filters compare it: UUIDs without dashes.
func pkText(v any) string {
	switch pk := v.(type) {
	case string:
		return hexPK(pk)
	case float64:
		return strconv.FormatInt(int64(pk), 10)
	case int64:
		return strconv.FormatInt(pk, 10)
	case json.Number:
		return pk.String()
	}
	return ""
}

// object is v if it is a JSON object, else nil.
func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
