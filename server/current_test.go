package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"akconn/testenv"
)

// The current contract (authentik 2026.8.3) at /api/v3/: what changed
// since 2024.8. The rest of the package's tests run through the 2024.8
// changes (testenv.DefaultAPIVersion); the contract suite (contract/) and
// authentik's TypeScript client (e2e) cover both mounts.

// newCurrentEnv is a server whose /api/v3/ speaks the current contract.
func newCurrentEnv(t *testing.T) *env { return &env{testenv.NewCurrent(t)} }

// doAt is do on the mount at base.
func (v *env) doAt(base, method, path, key string, body any) response {
	v.T.Helper()
	r := v.Serve(testenv.NewRequestAt(v.T, base, method, path, key, body))
	return response{Status: r.Status, Body: string(r.Body), Header: r.Header}
}

// currentSource creates an OAuth source of provider as admin on the
// current contract and returns its answer.
func (v *env) currentSource(slug, provider string, extra map[string]any) map[string]any {
	v.T.Helper()
	body := map[string]any{"name": "Source " + slug, "slug": slug, "provider_type": provider,
		"consumer_key": "key-" + slug, "consumer_secret": "consumer-secret-" + slug}
	for k, x := range extra {
		body[k] = x
	}
	r := v.do(http.MethodPost, "/sources/oauth/", adminKey, body)
	expect(v.T, r, http.StatusCreated)
	return r.JSON(v.T)
}

// A source takes entraid, pkce, promoted and an icon; its icon_url is the
// icon, and icon_themed_urls names a URL per theme only for an icon with
// %(theme)s.
func TestCurrentSourceFields(t *testing.T) {
	v := newCurrentEnv(t)
	got := v.currentSource("entra", "entraid", map[string]any{"pkce": "S256", "promoted": true,
		"authorization_code_auth_method": "post_body", "icon": "https://cdn.example/entra.png"})
	for k, want := range map[string]any{"provider_type": "entraid", "pkce": "S256", "promoted": true,
		"authorization_code_auth_method": "post_body", "icon": "https://cdn.example/entra.png",
		"icon_url": "https://cdn.example/entra.png", "icon_themed_urls": nil} {
		if fmt.Sprint(got[k]) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	plain := v.currentSource("plain", "github", nil)
	if plain["pkce"] != "none" || plain["authorization_code_auth_method"] != "basic_auth" || plain["promoted"] != false ||
		plain["icon"] != "" || plain["icon_url"] != nil || plain["icon_themed_urls"] != nil {
		t.Errorf("defaults: %v", plain)
	}
	r := v.do(http.MethodPatch, "/sources/oauth/plain/", adminKey, map[string]any{"icon": "https://x.example/%(theme)s.svg"})
	expect(t, r, http.StatusOK)
	themed, _ := r.JSON(t)["icon_themed_urls"].(map[string]any)
	if themed["light"] != "https://x.example/light.svg" || themed["dark"] != "https://x.example/dark.svg" {
		t.Errorf("icon_themed_urls: %s", r.Body)
	}
	for _, icon := range []string{"uploads/icon.png", "/etc/passwd", "ftp://x/y"} {
		r := v.do(http.MethodPatch, "/sources/oauth/plain/", adminKey, map[string]any{"icon": icon})
		if r.Status != http.StatusBadRequest || r.JSON(t)["icon"] == nil {
			t.Errorf("icon %q: %d %s", icon, r.Status, r.Body)
		}
	}
	r = v.do(http.MethodGet, "/sources/oauth/?pbm_uuid="+got["pk"].(string), adminKey, nil)
	expect(t, r, http.StatusOK)
	if list := r.JSON(t); fmt.Sprint(list["autocomplete"]) != "map[]" || len(list["results"].([]any)) != 1 {
		t.Errorf("pbm_uuid: %s", r.Body)
	}
	r = v.do(http.MethodGet, "/sources/oauth/source_types/?name=entraid", adminKey, nil)
	if !strings.Contains(r.Body, `"name":"entraid"`) || !strings.Contains(r.Body, `"verbose_name":"Entra ID"`) {
		t.Errorf("source type entraid: %s", r.Body)
	}
}

// A user creates her own connection with {source, identifier}: source is
// the source's pk, source_obj the source, user the caller; an expiry is
// kept only when given.
func TestCurrentConnectionShape(t *testing.T) {
	v := newCurrentEnv(t)
	src := v.currentSource("github", "github", nil)["pk"].(string)
	other := v.currentSource("gitlab", "gitlab", nil)["pk"].(string)
	third := v.currentSource("discord", "discord", nil)["pk"].(string)
	r := v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "alice-gh"})
	expect(t, r, http.StatusCreated)
	c := r.JSON(t)
	obj, _ := c["source_obj"].(map[string]any)
	if c["source"] != src || obj["slug"] != "github" || c["user"] != float64(v.Alice.ID) || c["last_updated"] == nil {
		t.Fatalf("connection: %s", r.Body)
	}
	if _, ok := c["expires"]; ok {
		t.Errorf("an expiry nobody gave: %s", r.Body)
	}
	expect(t, v.do(http.MethodPost, connections, aliceKey, map[string]any{"identifier": "no-source"}), http.StatusBadRequest)
	// user is read-only: the field is not in the contract's request.
	r = v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": third, "identifier": "x", "user": v.Bob.ID})
	expect(t, r, http.StatusCreated)
	if r.JSON(t)["user"] != float64(v.Alice.ID) {
		t.Errorf("user named in the body was used: %s", r.Body)
	}
	p := fmt.Sprintf("%s%v/", connections, c["pk"])
	r = v.do(http.MethodPatch, p, aliceKey, map[string]any{"source": other, "expires": "2031-02-03T04:05:06Z", "identifier": "moved"})
	expect(t, r, http.StatusOK)
	if got := r.JSON(t); got["source"] != other || got["expires"] != "2031-02-03T04:05:06Z" {
		t.Errorf("patch: %s", r.Body)
	}
	expect(t, v.do(http.MethodPatch, p, aliceKey, map[string]any{"expires": nil}), http.StatusBadRequest)
	long := strings.Repeat("é", 300)
	r = v.do(http.MethodPost, connections, bobKey, map[string]any{"source": src, "identifier": long})
	expect(t, r, http.StatusCreated)
	if r.JSON(t)["identifier"] != long {
		t.Errorf("a 300-character identifier came back as %.40s", r.Body)
	}
	expect(t, v.do(http.MethodPost, connections, adminKey, map[string]any{"source": src, "identifier": strings.Repeat("x", 513)}),
		http.StatusBadRequest)
}

// What 2024.8 cannot express is absent from its mount, and kept: a slack
// source, a connection whose identifier is over 255 characters, an event
// of an action added since.
func TestCompatHidesWhatItCannotExpress(t *testing.T) {
	v := newCurrentEnv(t)
	v.currentSource("slack", "slack", nil)
	v.currentSource("longurl", "okta", map[string]any{"authorization_url": "https://idp.example/" + strings.Repeat("a", 300),
		"access_token_url": "https://idp.example/t", "profile_url": "https://idp.example/p"})
	gh := v.currentSource("github", "github", nil)["pk"].(string)
	long := v.createConnection(aliceKey, gh, strings.Repeat("l", 256))
	short := v.createConnection(bobKey, gh, strings.Repeat("s", 255))
	r := v.do(http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "user_offboarded", "app": "hr"})
	expect(t, r, http.StatusCreated)
	offboarded := r.JSON(t)["pk"].(string)

	count := func(base, path string) float64 {
		r := v.doAt(base, http.MethodGet, path, adminKey, nil)
		expect(t, r, http.StatusOK)
		return r.JSON(t)["pagination"].(map[string]any)["count"].(float64)
	}
	for _, c := range []struct {
		path          string
		current, prev float64
	}{
		{"/sources/oauth/", 3, 1},
		{"/sources/user_connections/oauth/", 2, 1},
		{"/events/events/?action=offboarded", 1, 0},
	} {
		if n := count(testenvBase, c.path); n != c.current {
			t.Errorf("%s on the current contract: %v, want %v", c.path, n, c.current)
		}
		if n := count(compat2024, c.path); n != c.prev {
			t.Errorf("%s on 2024.8: %v, want %v", c.path, n, c.prev)
		}
	}
	for _, p := range []struct{ method, path string }{
		{http.MethodGet, "/sources/oauth/slack/"}, {http.MethodPatch, "/sources/oauth/slack/"},
		{http.MethodGet, "/sources/oauth/slack/used_by/"}, {http.MethodDelete, "/sources/oauth/slack/"},
		{http.MethodGet, "/sources/oauth/longurl/"},
		{http.MethodGet, fmt.Sprintf("%s%d/", connections, long)}, {http.MethodPatch, fmt.Sprintf("%s%d/", connections, long)},
		{http.MethodGet, fmt.Sprintf("%s%d/used_by/", connections, long)},
		{http.MethodDelete, fmt.Sprintf("%s%d/", connections, long)}, {http.MethodGet, "/events/events/" + offboarded + "/"},
	} {
		var body any
		if p.method == http.MethodPatch {
			body = map[string]any{"name": "changed", "identifier": "changed"}
		}
		if r := v.doAt(compat2024, p.method, p.path, adminKey, body); r.Status != http.StatusNotFound {
			t.Errorf("2024.8 %s %s: %d %s", p.method, p.path, r.Status, r.Body)
		}
	}
	if r := v.doAt(compat2024, http.MethodGet, fmt.Sprintf("%s%d/", connections, short), adminKey, nil); r.Status != http.StatusOK {
		t.Errorf("a 255-character identifier on 2024.8: %d", r.Status)
	}
	if c, ok := v.storedConnection(long); !ok || c.Identifier != strings.Repeat("l", 256) {
		t.Errorf("the long connection changed: %+v", c)
	}
	expect(t, v.do(http.MethodGet, "/sources/oauth/slack/", adminKey, nil), http.StatusOK)
	r = v.doAt(compat2024, http.MethodGet, "/events/events/actions/", adminKey, nil)
	if strings.Contains(r.Body, "user_offboarded") || strings.Contains(r.Body, "deprecated") || !strings.Contains(r.Body, `"component":"custom_"`) {
		t.Errorf("2024.8 actions: %.300s", r.Body)
	}
	r = v.doAt(compat2024, http.MethodGet, "/sources/oauth/source_types/", adminKey, nil)
	if strings.Contains(r.Body, "slack") || strings.Contains(r.Body, "entraid") || !strings.Contains(r.Body, `"name":"azuread"`) ||
		!strings.Contains(r.Body, `"verbose_name":"Azure AD"`) {
		t.Errorf("2024.8 source types: %.300s", r.Body)
	}
}

// testenvBase is the current contract's mount.
const testenvBase = "/api/v3"

// A source written as entraid reads as azuread on 2024.8, and a 2024.8
// write of it keeps entraid stored; a connection made on one mount is
// read, changed and deleted on the other.
func TestAcrossMounts(t *testing.T) {
	v := newCurrentEnv(t)
	v.currentSource("entra", "entraid", map[string]any{"pkce": "plain", "icon": "https://i.example/e.png"})
	r := v.doAt(compat2024, http.MethodGet, "/sources/oauth/entra/", adminKey, nil)
	expect(t, r, http.StatusOK)
	old := r.JSON(t)
	if old["provider_type"] != "azuread" || old["icon"] != "https://i.example/e.png" || old["pkce"] != nil {
		t.Errorf("2024.8 source: %s", r.Body)
	}
	for _, jwks := range []any{"x", 5, []int{1}, true} {
		r := v.doAt(compat2024, http.MethodPatch, "/sources/oauth/entra/", adminKey, map[string]any{"oidc_jwks": jwks})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `{"oidc_jwks":["Expected a dictionary of items but got type`) {
			t.Errorf("2024.8 oidc_jwks %v: %d %s", jwks, r.Status, r.Body)
		}
	}
	put := map[string]any{"name": "Entra", "slug": "entra", "provider_type": "azuread", "consumer_key": "k", "consumer_secret": "s"}
	expect(t, v.doAt(compat2024, http.MethodPut, "/sources/oauth/entra/", adminKey, put), http.StatusOK)
	r = v.do(http.MethodGet, "/sources/oauth/entra/", adminKey, nil)
	if got := r.JSON(t); got["provider_type"] != "entraid" || got["pkce"] != "plain" || got["icon"] != "https://i.example/e.png" {
		t.Errorf("after a 2024.8 PUT: %s", r.Body)
	}
	src := old["pk"].(string)

	r = v.doAt(compat2024, http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "from-2024"})
	expect(t, r, http.StatusCreated)
	id := r.JSON(t)["pk"]
	p := fmt.Sprintf("%s%v/", connections, id)
	r = v.do(http.MethodPatch, p, aliceKey, map[string]any{"identifier": "changed-2026", "expires": "2030-01-01T00:00:00Z"})
	expect(t, r, http.StatusOK)
	r = v.doAt(compat2024, http.MethodGet, p, aliceKey, nil)
	if got := r.JSON(t); got["identifier"] != "changed-2026" || got["expires"] != "2030-01-01T00:00:00Z" ||
		got["source"].(map[string]any)["slug"] != "entra" {
		t.Errorf("2024.8 read of a 2026.8 change: %s", r.Body)
	}
	expect(t, v.doAt(compat2024, http.MethodDelete, p, aliceKey, nil), http.StatusNoContent)
	expect(t, v.do(http.MethodGet, p, aliceKey, nil), http.StatusNotFound)

	r = v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "from-2026"})
	expect(t, r, http.StatusCreated)
	p = fmt.Sprintf("%s%v/", connections, r.JSON(t)["pk"])
	expect(t, v.doAt(compat2024, http.MethodPatch, p, aliceKey, map[string]any{"identifier": "changed-2024"}), http.StatusOK)
	if got := v.do(http.MethodGet, p, aliceKey, nil).JSON(t); got["identifier"] != "changed-2024" {
		t.Errorf("2026.8 read of a 2024.8 change: %v", got)
	}
	expect(t, v.do(http.MethodDelete, p, aliceKey, nil), http.StatusNoContent)
	expect(t, v.doAt(compat2024, http.MethodGet, p, aliceKey, nil), http.StatusNotFound)
}

// Users carry their dates and (empty) roles; roles, which this server does
// not model, answer as authentik does with none; users/me lists the
// caller as the session's current user.
func TestCurrentUsers(t *testing.T) {
	v := newCurrentEnv(t)
	before := time.Now().UTC().Add(-time.Second)
	r := v.do(http.MethodPost, users, adminKey, map[string]any{"username": "carol", "name": "Carol"})
	expect(t, r, http.StatusCreated)
	u := r.JSON(t)
	joined, err := time.Parse(time.RFC3339Nano, u["date_joined"].(string))
	if err != nil || joined.Before(before) || u["password_change_date"] != u["date_joined"] || u["last_updated"] == nil {
		t.Errorf("dates: %s", r.Body)
	}
	if fmt.Sprint(u["roles"], u["roles_obj"]) != "[] []" {
		t.Errorf("roles: %s", r.Body)
	}
	role := "6a0b8e3e-1f7d-4c55-9a51-2b8f1d7c9e10"
	r = v.do(http.MethodPost, users, adminKey, map[string]any{"username": "dave", "name": "Dave", "roles": []string{role}})
	expect(t, r, http.StatusBadRequest)
	if strings.TrimSpace(r.Body) != `{"roles":["Invalid pk \"`+role+`\" - object does not exist."]}` {
		t.Errorf("unknown role: %s", r.Body)
	}
	r = v.do(http.MethodGet, users+"?roles_by_pk="+role, adminKey, nil)
	expect(t, r, http.StatusBadRequest)
	if !strings.Contains(r.Body, `"roles_by_pk":["Select a valid choice. `+role+` is not one of the available choices."]`) {
		t.Errorf("roles_by_pk: %s", r.Body)
	}
	r = v.do(http.MethodGet, users+"?include_roles=false&include_groups=false&username=carol", adminKey, nil)
	expect(t, r, http.StatusOK)
	list := r.JSON(t)
	if res := list["results"].([]any); len(res) != 1 || res[0].(map[string]any)["roles_obj"] != nil ||
		res[0].(map[string]any)["groups_obj"] != nil || fmt.Sprint(list["autocomplete"]) != "map[]" {
		t.Errorf("include_roles=false: %s", r.Body)
	}
	r = v.do(http.MethodGet, users+"?date_joined="+url.QueryEscape(u["date_joined"].(string))+"&last_login__isnull=true", adminKey, nil)
	if res := r.JSON(t)["results"].([]any); len(res) != 1 || res[0].(map[string]any)["username"] != "carol" {
		t.Errorf("date_joined__gt: %s", r.Body)
	}
	r = v.do(http.MethodGet, users+"me/", aliceKey, nil)
	expect(t, r, http.StatusOK)
	me := r.JSON(t)
	all, _ := me["users"].([]any)
	if me["user"].(map[string]any)["is_current"] != true || len(all) != 1 || all[0].(map[string]any)["pk"] != float64(v.Alice.ID) {
		t.Errorf("users/me: %s", r.Body)
	}
	r = v.doAt(compat2024, http.MethodGet, users+"me/", aliceKey, nil)
	if strings.Contains(r.Body, "is_current") || strings.Contains(r.Body, `"users"`) {
		t.Errorf("users/me on 2024.8: %s", r.Body)
	}
	// A username outside Django's pattern, which user writes take, is
	// answered by users/me too.
	expect(t, v.do(http.MethodPatch, fmt.Sprintf("%s%d/", users, v.Alice.ID), adminKey, map[string]any{"username": "Alice Doe"}),
		http.StatusOK)
	if r := v.do(http.MethodGet, users+"me/", aliceKey, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, `"Alice Doe"`) {
		t.Errorf("users/me of Alice Doe: %d %s", r.Status, r.Body)
	}
}

// Events: actions, volume per six hours and action, stats per count step,
// top_per_user with the list's filters.
func TestCurrentEvents(t *testing.T) {
	v := newCurrentEnv(t)
	for _, e := range []map[string]any{
		{"action": "login", "app": "x", "user": map[string]any{"pk": v.Alice.ID}, "context": map[string]any{"device": map[string]any{"pk": "d1"}}},
		{"action": "login", "app": "x", "user": map[string]any{"pk": v.Bob.ID}},
		{"action": "logout", "app": "x", "user": map[string]any{"pk": v.Alice.ID}},
	} {
		expect(t, v.do(http.MethodPost, "/events/events/", adminKey, e), http.StatusCreated)
	}
	r := v.do(http.MethodGet, "/events/events/?actions=login&actions=logout&app=x", adminKey, nil)
	if n := r.JSON(t)["pagination"].(map[string]any)["count"]; n != float64(3) {
		t.Errorf("actions=login,logout: %v", n)
	}
	r = v.do(http.MethodGet, "/events/events/?context_device=d1", adminKey, nil)
	if n := r.JSON(t)["pagination"].(map[string]any)["count"]; n != float64(1) {
		t.Errorf("context_device: %v", n)
	}
	expect(t, v.do(http.MethodGet, "/events/events/?actions=nonsense", adminKey, nil), http.StatusBadRequest)
	r = v.do(http.MethodGet, "/events/events/volume/?actions=login&history_days=2", adminKey, nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `"action":"login"`) || !strings.Contains(r.Body, `"count":2`) || strings.Contains(r.Body, "logout") {
		t.Errorf("volume: %s", r.Body)
	}
	r = v.do(http.MethodGet, "/events/events/stats/?count_steps=hours%3D24&count_steps=weeks%3D1%3Bdays%3D2&actions=login", adminKey, nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `"hours24":2`) || !strings.Contains(r.Body, `"weeks1days2":2`) || !strings.Contains(r.Body, `"unique_users":2`) {
		t.Errorf("stats: %s", r.Body)
	}
	r = v.do(http.MethodGet, "/events/events/stats/?count_steps=24d", adminKey, nil)
	expect(t, r, http.StatusBadRequest)
	if strings.TrimSpace(r.Body) != `{"count_steps":{"0":["24d is not in the correct format of 'hours=3;minutes=1'."]}}` {
		t.Errorf("bad step: %s", r.Body)
	}
	expect(t, v.do(http.MethodGet, "/events/events/stats/", adminKey, nil), http.StatusBadRequest)
	// per_month is 2024.8's alone: here the path names an event, and is no uuid.
	expect(t, v.do(http.MethodGet, "/events/events/per_month/", adminKey, nil), http.StatusBadRequest)
	expect(t, v.doAt(compat2024, http.MethodGet, "/events/events/per_month/", adminKey, nil), http.StatusOK)
}
