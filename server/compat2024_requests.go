package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"akconn/store"
)

// The requests of authentik 2024.8's contract, carried to the current one
// (change2024to2026), and the operation only it has (per_month).

// Provider type names: authentik 2026.8 renamed azuread to entraid.
const (
	azureAD = "azuread"
	entraID = "entraid"
)

// providerTypeForward is a 2024.8 provider type by its current name.
func providerTypeForward(v any) any {
	if v == azureAD {
		return entraID
	}
	return v
}

// sourceRequest2024 renames a source's provider type, and refuses an
// oidc_jwks that is not an object: 2024.8 took any JSON there, the current
// contract an object only.
func sourceRequest2024(r *Request) error {
	if r.Body == nil {
		return nil
	}
	if v, ok := r.Body["provider_type"]; ok {
		r.Body["provider_type"] = providerTypeForward(v)
	}
	return objectsOnly(r, "oidc_jwks")
}

// objectsOnly refuses a body whose fields are sent with a value that is
// not a JSON object.
func objectsOnly(r *Request, fields ...string) error {
	for _, field := range fields {
		v, ok := r.Body[field]
		if !ok {
			continue
		}
		if _, isObject := v.(map[string]any); !isObject {
			return fieldError(field, fmt.Sprintf("Expected a dictionary of items but got type %q.", pythonType(v)))
		}
	}
	return nil
}

// queryForward renames a provider type named in a query parameter.
func queryForward(name string) func(*Request) error {
	return func(r *Request) error {
		if r.Query.Get(name) == azureAD {
			r.Query.Set(name, entraID)
		}
		return nil
	}
}

// connectionRequest2024 carries a 2024.8 connection request: its user, a
// writable addition of this server's 2024.8 release that the current
// contract has no field for, goes to the handler as connectionOwnerKey,
// which refuses any user but the connection's own (read-only since
// authentik's advisory GHSA-wr38-7xg8-fqxr); and a null expiry, which the
// current contract does not have, leaves the stored one as it is.
func connectionRequest2024(r *Request) error {
	if r.Body == nil {
		return nil
	}
	if user, ok := r.Body["user"]; ok {
		id, ok := integer(user)
		if !ok {
			return fieldError("user", "A valid integer is required.")
		}
		r.Values = map[string]any{connectionOwnerKey: id}
		delete(r.Body, "user")
	}
	if v, ok := r.Body["expires"]; ok && v == nil {
		delete(r.Body, "expires")
	}
	return nil
}

// integer reads a decoded JSON number as the current handlers bind an
// integer: an int64 written without exponent, a fraction of zeros allowed.
func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	whole, fraction, _ := strings.Cut(n.String(), ".")
	if strings.Trim(fraction, "0") != "" {
		return 0, false
	}
	i, err := strconv.ParseInt(whole, 10, 64)
	return i, err == nil
}

// connectionCreate2024 carries a 2024.8 connection create: source, which
// 2024.8's schema leaves optional, is required, as this server's 2024.8
// release answered.
func connectionCreate2024(r *Request) error {
	if _, ok := r.Body["source"]; !ok {
		return fieldError("source", "This field is required.")
	}
	return connectionRequest2024(r)
}

// eventRequest2024 refuses free-form event fields that are not objects:
// 2024.8 took any JSON there, the current contract objects only.
func eventRequest2024(r *Request) error {
	return objectsOnly(r, "user", "context", "brand")
}

// volumeRequest2024 asks for the seven days 2024.8's volume covered.
func volumeRequest2024(r *Request) error {
	r.Query.Set("history_days", "7")
	return nil
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

// perMonth2024 serves 2024.8's events_events_per_month_list: the events of
// one action (login unless named) over the last 4 weeks, in 30 equal
// buckets, oldest first, as coordinates (x the bucket's start in
// milliseconds since the epoch, y the count).
func perMonth2024(s *Server, c echo.Context) error {
	f := store.EventFilter{Scope: scopeOf(caller(c)), Actions: []string{"login"}}
	if action := c.QueryParam("action"); action != "" {
		f.Actions = []string{action}
	}
	if raw := c.QueryParam("query"); raw != "" {
		var query map[string]any
		if err := json.Unmarshal([]byte(raw), &query); err != nil {
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
	shownOf(c).events(&f)
	const span, buckets = 28 * 24 * time.Hour, 30
	now := time.Now().UTC()
	since := now.Add(-span)
	f.Since = &since
	counts, err := s.store.EventBuckets(c.Request().Context(), f, now, buckets)
	if err != nil {
		return err
	}
	width := span / buckets
	out := make([]map[string]int64, buckets)
	for i, n := range counts {
		out[i] = map[string]int64{"x_cord": since.Add(time.Duration(i) * width).UnixMilli(), "y_cord": n}
	}
	return c.JSON(http.StatusOK, out)
}
