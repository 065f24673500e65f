package server_test

import (
	"net/http"
	"strings"
	"testing"

	"akconn/store"
)

const sources = "/sources/oauth/"

func TestSourceLifecycle(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodPost, sources, adminKey, map[string]any{
		"name": "Corp SSO", "slug": "corp", "provider_type": "openidconnect", "consumer_key": "ck", "consumer_secret": "top-secret-value",
		"authorization_url": "https://sso.example/auth", "access_token_url": "https://sso.example/token", "profile_url": "https://sso.example/me",
		"policy_engine_mode": "all", "oidc_jwks": map[string]any{"keys": []any{}},
	})
	expect(t, r, http.StatusCreated)
	body := r.JSON(t)
	if body["callback_url"] != "/source/oauth/callback/corp/" || body["policy_engine_mode"] != "all" || body["enabled"] != true ||
		body["user_matching_mode"] != "identifier" || body["type"].(map[string]any)["name"] != "openidconnect" ||
		body["user_path_template"] != "goauthentik.io/sources/%(slug)s" {
		t.Fatalf("body %s", r.Body)
	}
	if strings.Contains(r.Body, "top-secret-value") || strings.Contains(r.Body, "consumer_secret") {
		t.Fatalf("consumer secret leaked: %s", r.Body)
	}
	var stored store.OAuthSource
	if err := v.Store.DB().Where("slug = ?", "corp").Take(&stored).Error; err != nil || v.consumerSecret(stored) != "top-secret-value" {
		t.Fatalf("stored %+v, %v", stored, err)
	}

	r = v.do(http.MethodPatch, sources+"corp/", adminKey, map[string]any{"name": "Corporate", "enabled": false})
	expect(t, r, http.StatusOK)
	r = v.do(http.MethodGet, sources+"corp/", aliceKey, nil) // any user reads
	expect(t, r, http.StatusOK)
	if b := r.JSON(t); b["name"] != "Corporate" || b["enabled"] != false || b["consumer_key"] != "ck" {
		t.Fatalf("after patch %s", r.Body)
	}
	r = v.do(http.MethodPut, sources+"corp/", adminKey, map[string]any{"name": "Corp", "slug": "corp2", "provider_type": "github", "consumer_key": "k2", "consumer_secret": "s2"})
	expect(t, r, http.StatusOK)
	expect(t, v.do(http.MethodGet, sources+"corp/", adminKey, nil), http.StatusNotFound)
	expect(t, v.do(http.MethodGet, sources+"corp2/", adminKey, nil), http.StatusOK)

	if strings.Contains(v.Logs.String(), "top-secret-value") {
		t.Fatal("consumer secret written to the log")
	}
}

func TestSourceWritesNeedSuperuser(t *testing.T) {
	v := newEnv(t)
	v.createSource("github")
	body := map[string]any{"name": "x", "slug": "x", "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, sources, body},
		{http.MethodPut, sources + "github/", body},
		{http.MethodPatch, sources + "github/", map[string]any{"name": "mine"}},
		{http.MethodDelete, sources + "github/", nil},
	} {
		r := v.do(tc.method, tc.path, aliceKey, tc.body)
		expect(t, r, http.StatusForbidden)
		if r.JSON(t)["detail"] != "You do not have permission to perform this action." {
			t.Fatalf("%s %s: %s", tc.method, tc.path, r.Body)
		}
	}
	r := v.do(http.MethodGet, sources+"github/", aliceKey, nil)
	if r.JSON(t)["name"] != "Source github" {
		t.Fatalf("source changed: %s", r.Body)
	}
	if n := countRows(t, v.Store, &store.OAuthSource{}); n != 1 {
		t.Fatalf("%d sources", n)
	}
}

func TestSourceValidation(t *testing.T) {
	v := newEnv(t)
	v.createSource("github")
	base := func(kv ...any) map[string]any {
		m := map[string]any{"name": "n", "slug": "ok", "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
		msg   string
	}{
		{"bad slug", base("slug", "no spaces!"), "slug", `Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.`},
		{"long slug", base("slug", strings.Repeat("s", 51)), "slug", "Ensure this field has no more than 50 characters."},
		{"duplicate slug", base("slug", "github"), "slug", "source with this slug already exists."},
		{"bad enum", base("policy_engine_mode", "x"), "policy_engine_mode", `"x" is not a valid choice.`},
		{"bad provider", base("provider_type", "myspace"), "provider_type", `"myspace" is not a valid choice.`},
		{"bad matching mode", base("user_matching_mode", "guess"), "user_matching_mode", `"guess" is not a valid choice.`},
		{"missing secret", base("consumer_secret", nil), "consumer_secret", "This field is required."},
		{"blank secret", base("consumer_secret", ""), "consumer_secret", "This field may not be blank."},
		{"long url", base("profile_url", strings.Repeat("u", 256)), "profile_url", "Ensure this field has no more than 255 characters."},
		{"unknown flow", base("authentication_flow", "00000000-0000-4000-8000-000000000001"), "authentication_flow",
			`Invalid pk "00000000-0000-4000-8000-000000000001" - object does not exist.`},
		{"oidc without urls", base("provider_type", "openidconnect"), "non_field_errors", "authorization_url is required for provider openidconnect"},
		{"enabled not boolean", base("enabled", "yes"), "enabled", "Must be a valid boolean."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.do(http.MethodPost, sources, adminKey, tc.body)
			expect(t, r, http.StatusBadRequest)
			msgs, _ := r.JSON(t)[tc.field].([]any)
			if len(msgs) == 0 || msgs[0] != tc.msg {
				t.Fatalf("body %s, want %s: %s", r.Body, tc.field, tc.msg)
			}
		})
	}
	if n := countRows(t, v.Store, &store.OAuthSource{}); n != 1 {
		t.Fatalf("%d sources stored", n)
	}
}

func TestSourceListFilters(t *testing.T) {
	v := newEnv(t)
	v.createSource("github")
	v.createSource("gitlab")
	expect(t, v.do(http.MethodPatch, sources+"gitlab/", adminKey, map[string]any{"enabled": false, "provider_type": "gitlab"}), http.StatusOK)
	for q, want := range map[string]string{
		"":                               "github,gitlab",
		"?enabled=false":                 "gitlab",
		"?slug=github":                   "github",
		"?provider_type=gitlab":          "gitlab",
		"?search=HUB":                    "github",
		"?ordering=-slug":                "gitlab,github",
		"?policy_engine_mode=all":        "",
		"?has_jwks=true":                 "",
		"?consumer_key=key-gitlab":       "gitlab",
		"?name=Source%20github":          "github",
		"?user_matching_mode=email_link": "",
	} {
		r := v.do(http.MethodGet, sources+q, aliceKey, nil)
		expect(t, r, http.StatusOK)
		var got []string
		for _, item := range r.JSON(t)["results"].([]any) {
			got = append(got, item.(map[string]any)["slug"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%q: got %v, want %s", q, got, want)
		}
	}
	r := v.do(http.MethodGet, sources+"?enabled=maybe", aliceKey, nil)
	expect(t, r, http.StatusBadRequest)
	r = v.do(http.MethodGet, sources+"?policy_engine_mode=some", aliceKey, nil)
	expect(t, r, http.StatusBadRequest)
	if r.JSON(t)["policy_engine_mode"].([]any)[0] != `"some" is not a valid choice.` {
		t.Errorf("body %s", r.Body)
	}
}

func TestDeleteSourceCascadesAndUsedBy(t *testing.T) {
	v := newEnv(t)
	gh := v.createSource("github")
	gl := v.createSource("gitlab")
	a := v.createConnection(aliceKey, gh, "a")
	b := v.createConnection(bobKey, gh, "b")
	other := v.createConnection(aliceKey, gl, "c")

	r := v.do(http.MethodGet, sources+"github/used_by/", adminKey, nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `"action":"cascade"`) || !strings.Contains(r.Body, `"model_name":"useroauthsourceconnection"`) {
		t.Fatalf("used_by %s", r.Body)
	}
	// An ordinary user sees only their own connections in used_by.
	r = v.do(http.MethodGet, sources+"github/used_by/", aliceKey, nil)
	if strings.Count(r.Body, `"action"`) != 1 || !strings.Contains(r.Body, `"pk":"`) {
		t.Fatalf("alice used_by %s", r.Body)
	}
	expect(t, v.do(http.MethodGet, sources+"missing/used_by/", adminKey, nil), http.StatusNotFound)

	expect(t, v.do(http.MethodDelete, sources+"github/", adminKey, nil), http.StatusNoContent)
	for _, id := range []int{a, b} {
		if _, ok := v.storedConnection(id); ok {
			t.Fatalf("connection %d survived its source", id)
		}
	}
	if _, ok := v.storedConnection(other); !ok {
		t.Fatal("connection of another source was deleted")
	}
	expect(t, v.do(http.MethodDelete, sources+"github/", adminKey, nil), http.StatusNotFound)
}

func TestSourceTypes(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodGet, sources+"source_types/", aliceKey, nil)
	expect(t, r, http.StatusOK)
	for _, name := range []string{"apple", "openidconnect", "azuread", "discord", "facebook", "github", "gitlab", "google", "mailcow", "okta", "patreon", "reddit", "twitch", "twitter"} {
		if !strings.Contains(r.Body, `"name":"`+name+`"`) {
			t.Errorf("source_types lacks %s", name)
		}
	}
	r = v.do(http.MethodGet, sources+"source_types/?name=google", aliceKey, nil)
	if !strings.HasPrefix(r.Body, `[{"access_token_url":"https://oauth2.googleapis.com/token"`) || strings.Count(r.Body, `"name"`) != 1 {
		t.Errorf("google: %s", r.Body)
	}
	r = v.do(http.MethodGet, sources+"source_types/?name=nope", aliceKey, nil)
	if !strings.Contains(r.Body, `"name":"default"`) {
		t.Errorf("unknown type: %s", r.Body)
	}
}
