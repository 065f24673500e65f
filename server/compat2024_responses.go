package server

import (
	"encoding/json"
	"slices"
	"time"
)

// The current contract's answers, carried back to authentik 2024.8's
// (change2024to2026). Bodies are decoded JSON: objects, arrays, strings,
// json.Number, bools and nil.

// each applies f to every object of a paginated list's results, or to
// body itself when it is one object, and drops the list's autocomplete.
func each(f func(map[string]any)) func(int, any) (any, error) {
	return func(status int, body any) (any, error) {
		obj, ok := body.(map[string]any)
		if !ok || status >= 300 {
			return body, nil
		}
		if results, isList := obj["results"].([]any); isList {
			delete(obj, "autocomplete")
			for _, r := range results {
				if o, ok := r.(map[string]any); ok {
					f(o)
				}
			}
			return obj, nil
		}
		f(obj)
		return obj, nil
	}
}

// nestedSource2024 is a Source as 2024.8 nests it: its icon is the URL the
// current contract calls icon_url, and it has no promoted.
func nestedSource2024(src map[string]any) {
	src["icon"] = src["icon_url"]
	for _, k := range []string{"icon_url", "icon_themed_urls", "promoted"} {
		delete(src, k)
	}
}

// azureADType2024 is the provider type azuread as 2024.8 describes it.
var azureADType2024 = map[string]any{
	"name": azureAD, "verbose_name": "Azure AD", "urls_customizable": true, "request_token_url": nil,
	"authorization_url":   "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
	"access_token_url":    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	"profile_url":         "https://graph.microsoft.com/v1.0/me",
	"oidc_well_known_url": "https://login.microsoftonline.com/common/.well-known/openid-configuration",
	"oidc_jwks_url":       "https://login.microsoftonline.com/common/discovery/keys",
}

// sourceType2024 is a source type as 2024.8 has it: entraid is azuread.
func sourceType2024(t any) any {
	if o, ok := t.(map[string]any); ok && o["name"] == entraID {
		return azureADType2024
	}
	return t
}

// source2024 is an OAuthSource as 2024.8 has it.
func source2024(src map[string]any) {
	nestedSource2024(src)
	if src["provider_type"] == entraID {
		src["provider_type"] = azureAD
	}
	src["type"] = sourceType2024(src["type"])
	delete(src, "pkce")
	delete(src, "authorization_code_auth_method")
}

// connection2024 is a UserOAuthSourceConnection as 2024.8 has it: source
// is the nested source, and an unknown expiry is null.
func connection2024(conn map[string]any) {
	if src, ok := conn["source_obj"].(map[string]any); ok {
		nestedSource2024(src)
		conn["source"] = src
	}
	delete(conn, "source_obj")
	if _, ok := conn["expires"]; !ok {
		conn["expires"] = nil
	}
}

// user2024 is a User as 2024.8 has it, without the dates and roles added
// since.
func user2024(u map[string]any) {
	for _, k := range []string{"date_joined", "last_updated", "password_change_date", "roles", "roles_obj"} {
		delete(u, k)
	}
}

// token2024 is a Token as 2024.8 has it: its user_obj is a 2024.8 User.
func token2024(t map[string]any) {
	if u, ok := t["user_obj"].(map[string]any); ok {
		user2024(u)
	}
}

// userSelf2024 is a UserSelf as 2024.8 has it.
func userSelf2024(u any) {
	if o, ok := u.(map[string]any); ok {
		delete(o, "is_current")
		delete(o, "roles")
	}
}

// sessionUser2024 is a SessionUser as 2024.8 has it: no users.
func sessionUser2024(s map[string]any) {
	delete(s, "users")
	userSelf2024(s["user"])
	userSelf2024(s["original"])
}

// actions2024 are the event actions 2024.8 has.
var actions2024 = []string{"login", "login_failed", "logout", "user_write", "suspicious_request", "password_set",
	"secret_view", "secret_rotate", "invitation_used", "authorize_application", "source_linked",
	"impersonation_started", "impersonation_ended", "flow_execution", "policy_execution", "policy_exception",
	"property_mapping_exception", "system_task_execution", "system_task_exception", "system_exception",
	"configuration_error", "model_created", "model_updated", "model_deleted", "email_sent", "update_available",
	"custom_"}

// actionTypes2024 lists the actions 2024.8 has, without deprecated.
func actionTypes2024(status int, body any) (any, error) {
	list, ok := body.([]any)
	if !ok || status >= 300 {
		return body, nil
	}
	out := []any{}
	for _, t := range list {
		o, ok := t.(map[string]any)
		if !ok || !slices.Contains(actions2024, o["component"].(string)) {
			continue
		}
		delete(o, "deprecated")
		out = append(out, o)
	}
	return out, nil
}

// sourceTypeOrder2024 is the order of 2024.8's provider types.
var sourceTypeOrder2024 = []string{"apple", "openidconnect", azureAD, "discord", "facebook", "github", "gitlab",
	"google", "mailcow", "okta", "patreon", "reddit", "twitch", "twitter"}

// sourceTypes2024 lists the provider types 2024.8 has, in its order.
func sourceTypes2024(status int, body any) (any, error) {
	list, ok := body.([]any)
	if !ok || status >= 300 {
		return body, nil
	}
	byName := map[string]any{}
	var unknown []any // the default type, answered for an unknown name
	for _, t := range list {
		t = sourceType2024(t)
		name, _ := t.(map[string]any)["name"].(string)
		switch {
		case slices.Contains(sourceTypeOrder2024, name):
			byName[name] = t
		case len(list) == 1:
			unknown = append(unknown, t)
		}
	}
	out := []any{}
	for _, name := range sourceTypeOrder2024 {
		if t, ok := byName[name]; ok {
			out = append(out, t)
		}
	}
	return append(out, unknown...), nil
}

// volume2024 turns the current volume (events per action and six-hour
// bucket, over the seven days volumeRequest2024 asked for) into 2024.8's
// coordinates: every six-hour bucket of the week, oldest first, x its
// start in milliseconds since the epoch and y its events of every action.
func volume2024(status int, body any) (any, error) {
	rows, ok := body.([]any)
	if !ok || status >= 300 {
		return body, nil
	}
	const bucket = 6 * time.Hour
	now := time.Now().UTC()
	first := now.AddDate(0, 0, -7).Truncate(bucket)
	counts := map[int64]int64{}
	for _, r := range rows {
		o, _ := r.(map[string]any)
		at, err := time.Parse(time.RFC3339, o["time"].(string))
		if err != nil {
			return nil, err
		}
		n, err := o["count"].(json.Number).Int64()
		if err != nil {
			return nil, err
		}
		counts[at.UnixMilli()] += n
	}
	out := []any{}
	for at := first; !at.After(now); at = at.Add(bucket) {
		out = append(out, map[string]any{"x_cord": at.UnixMilli(), "y_cord": counts[at.UnixMilli()]})
	}
	return out, nil
}
