package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"akconn/store"
)

// Each test here is a finding of the adversarial review, kept fixed.

// A search far longer than any column answers 200 (SQLite's LIKE refused
// patterns over 50,000 bytes with a 500).
func TestLongSearchAnswers(t *testing.T) {
	v := newEnv(t)
	v.createConnection(aliceKey, v.createSource("github"), "gh-1")
	for _, term := range []string{strings.Repeat("a", 50000), strings.Repeat("%", 25000), strings.Repeat("é", 30000)} {
		for _, list := range []string{connections, "/sources/oauth/", "/core/users/", "/core/tokens/"} {
			r := v.do(http.MethodGet, list+"?search="+url.QueryEscape(term), adminKey, nil)
			expect(t, r, http.StatusOK)
			if n := r.JSON(t)["pagination"].(map[string]any)["count"].(float64); n != 0 {
				t.Errorf("%s: %v matches for a %d-byte term", list, n, len(term))
			}
		}
	}
	// Long terms still match what they should.
	r := v.do(http.MethodGet, connections+"?search=GH-1", adminKey, nil)
	if n := r.JSON(t)["pagination"].(map[string]any)["count"].(float64); n != 1 {
		t.Fatalf("search GH-1: %v matches", n)
	}
}

// Invalid UTF-8 or NUL in a string path parameter, escaped or not, never
// reaches the database: the object cannot exist (404).
func TestPathParametersWithBadBytes(t *testing.T) {
	v := newEnv(t)
	v.createSource("github")
	for _, base := range []string{"/core/tokens/", "/sources/oauth/"} {
		for _, seg := range []string{"%ff", "%FF", "a%00%2f", "%00", "x%c3%28y", "%ed%a0%80"} {
			for _, call := range []struct{ method, suffix string }{
				{http.MethodGet, "/"}, {http.MethodGet, "/used_by/"}, {http.MethodPatch, "/"}, {http.MethodPut, "/"}, {http.MethodDelete, "/"},
			} {
				path := base + seg + call.suffix
				var body any
				if call.method == http.MethodPatch || call.method == http.MethodPut {
					body = map[string]any{}
				}
				r := v.do(call.method, path, adminKey, body)
				if r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
					t.Errorf("%s %s: %d %s", call.method, path, r.Status, r.Body)
				}
			}
		}
	}
	r := v.do(http.MethodGet, "/core/tokens/%ff/view_key/", adminKey, nil)
	expect(t, r, http.StatusNotFound)
}

// A body sent to an operation that takes none is ignored, whatever its
// size, as Django ignores it.
func TestBodyOnBodylessOperationIsIgnored(t *testing.T) {
	v := newEnv(t)
	id := v.createConnection(aliceKey, v.createSource("github"), "gh-1")
	big := strings.Repeat("x", 2<<20)
	expect(t, v.do(http.MethodGet, connections, aliceKey, big), http.StatusOK)
	expect(t, v.do(http.MethodGet, fmt.Sprintf("%s%d/", connections, id), aliceKey, big), http.StatusOK)
	expect(t, v.do(http.MethodDelete, fmt.Sprintf("%s%d/", connections, id), aliceKey, big), http.StatusNoContent)
}

// Data after the JSON value is refused, as Python's json module refuses it.
func TestDataAfterTheValue(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	first := `{"source":"` + src + `","identifier":"first"}`
	for _, extra := range []string{`{"identifier":"second"}`, ` garbage`} {
		at := len(first) + len(extra) - len(strings.TrimLeft(extra, " "))
		r := v.do(http.MethodPost, connections, aliceKey, first+extra)
		expect(t, r, http.StatusBadRequest)
		want := fmt.Sprintf("JSON parse error - Extra data: line 1 column %d (char %d)", at+1, at)
		if got := r.JSON(t)["detail"]; got != want {
			t.Errorf("detail %q, want %q", got, want)
		}
	}
	if n := countRows(t, v.Store, connectionModel); n != 0 {
		t.Fatalf("%d connections stored", n)
	}
}

// HEAD is answered like GET without a body, health checks included; every
// response carries Django's security headers, and a revealed key is never
// cached.
func TestHEADAndSecurityHeaders(t *testing.T) {
	v := newEnv(t)
	v.createSource("github")
	srv := httptest.NewServer(v.Echo)
	defer srv.Close()
	send := func(method, path, key string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	for _, c := range []struct {
		path, key string
		status    int
	}{
		{"/-/health/live/", "", 204},
		{"/-/health/ready/", "", 204},
		{"/api/v3/sources/oauth/", adminKey, 200},
		{"/api/v3/sources/oauth/github/", aliceKey, 200},
		{"/api/v3/sources/oauth/", "", 403},
		{"/api/v3/schema/", "", 200},
	} {
		get, getBody := send(http.MethodGet, c.path, c.key)
		head, headBody := send(http.MethodHead, c.path, c.key)
		if head.StatusCode != c.status || get.StatusCode != c.status || len(headBody) != 0 {
			t.Errorf("%s: GET %d, HEAD %d with %d body bytes; want %d", c.path, get.StatusCode, head.StatusCode, len(headBody), c.status)
		}
		if head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("%s: HEAD Content-Type %q, GET %q", c.path, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
		}
		if len(getBody) > 0 && head.ContentLength != -1 && head.ContentLength != int64(len(getBody)) {
			t.Errorf("%s: HEAD Content-Length %d, GET body %d bytes", c.path, head.ContentLength, len(getBody))
		}
	}
	if !strings.Contains(v.Logs.String(), `"method":"HEAD"`) {
		t.Errorf("HEAD requests are not logged as HEAD:\n%s", v.Logs.String())
	}

	tok := v.do(http.MethodPost, "/core/tokens/", aliceKey, map[string]any{"identifier": "alice-cli"})
	expect(t, tok, http.StatusCreated)
	for _, path := range []string{"/api/v3/sources/oauth/", "/api/v3/nowhere/", "/api/v3/core/tokens/alice-cli/view_key/", "/-/health/live/"} {
		resp, _ := send(http.MethodGet, path, aliceKey)
		for header, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin",
		} {
			if got := resp.Header.Get(header); got != want {
				t.Errorf("%s (%d): %s is %q, want %q", path, resp.StatusCode, header, got, want)
			}
		}
		noStore := resp.Header.Get("Cache-Control") == "no-store"
		if strings.HasSuffix(path, "view_key/") != noStore {
			t.Errorf("%s: Cache-Control %q", path, resp.Header.Get("Cache-Control"))
		}
	}
}

// Tokens of ordinary users always expire: null gets the default lifetime,
// and an expiry beyond the user's maximum lifetime is refused.
func TestOrdinaryTokensExpire(t *testing.T) {
	v := newEnv(t)
	expiresOf := func(r response) time.Time {
		t.Helper()
		e, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r.JSON(t)["expires"]))
		if err != nil {
			t.Fatalf("expires: %v: %s", err, r.Body)
		}
		return e
	}
	near := func(got time.Time, ahead time.Duration) bool {
		want := time.Now().Add(ahead)
		return got.After(want.Add(-time.Minute)) && got.Before(want.Add(time.Minute))
	}
	r := v.do(http.MethodPost, "/core/tokens/", aliceKey, map[string]any{"identifier": "a1", "expiring": true, "expires": nil})
	expect(t, r, http.StatusCreated)
	if e := expiresOf(r); !near(e, 30*time.Minute) || r.JSON(t)["expiring"] != true {
		t.Fatalf("null expires became %s", r.Body)
	}
	far := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	for _, body := range []map[string]any{
		{"identifier": "a2", "expires": far},
		{"identifier": "a3", "expires": "9999-12-31T23:59:59Z", "expiring": false},
	} {
		r = v.do(http.MethodPost, "/core/tokens/", aliceKey, body)
		expect(t, r, http.StatusBadRequest)
		if msg := fmt.Sprint(r.JSON(t)["expires"]); !strings.Contains(msg, "Token expires exceeds maximum lifetime") {
			t.Errorf("refusal: %s", r.Body)
		}
	}
	expect(t, v.do(http.MethodPatch, "/core/tokens/a1/", aliceKey, map[string]any{"expires": far}), http.StatusBadRequest)
	r = v.do(http.MethodPatch, "/core/tokens/a1/", aliceKey, map[string]any{"expires": nil})
	expect(t, r, http.StatusOK)
	if !near(expiresOf(r), 30*time.Minute) {
		t.Fatalf("PATCH null expires: %s", r.Body)
	}
	// authentik's user attribute raises her limit.
	expect(t, v.do(http.MethodPatch, fmt.Sprintf("/core/users/%d/", v.Alice.ID), adminKey,
		map[string]any{"attributes": map[string]any{"goauthentik.io/user/token-maximum-lifetime": "hours=3"}}), http.StatusOK)
	r = v.do(http.MethodPost, "/core/tokens/", aliceKey, map[string]any{"identifier": "a4", "expires": far})
	expect(t, r, http.StatusCreated)
	// A superuser still makes tokens that never expire.
	r = v.do(http.MethodPost, "/core/tokens/", adminKey, map[string]any{"identifier": "admin-forever", "expiring": false})
	expect(t, r, http.StatusCreated)
	if r.JSON(t)["expires"] != nil || r.JSON(t)["expiring"] != false {
		t.Fatalf("superuser token: %s", r.Body)
	}
	var stored []store.Token
	if err := v.Store.DB().Where("identifier IN ?", []string{"a1", "a4"}).Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	for _, tok := range stored {
		if !tok.Expiring || tok.Expires == nil {
			t.Errorf("alice's token %s never expires", tok.Identifier)
		}
	}
}

// Text fields are trimmed as Django REST framework's CharField trims them;
// one left blank is refused where blank is not allowed.
func TestWhitespaceIsTrimmed(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodPost, "/sources/oauth/", adminKey, map[string]any{
		"name": " GitHub\u00a0", "slug": " github\n", "provider_type": "github", "consumer_key": " key ", "consumer_secret": "  s  ",
	})
	expect(t, r, http.StatusCreated)
	src := r.JSON(t)
	if src["name"] != "GitHub" || src["slug"] != "github" || src["consumer_key"] != "key" {
		t.Fatalf("source not trimmed: %s", r.Body)
	}
	var stored store.OAuthSource
	if err := v.Store.DB().Take(&stored).Error; err != nil || v.consumerSecret(stored) != "s" {
		t.Fatalf("consumer secret stored as %q (%v)", v.consumerSecret(stored), err)
	}
	r = v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src["pk"], "identifier": "  gh-1 \t"})
	expect(t, r, http.StatusCreated)
	if r.JSON(t)["identifier"] != "gh-1" {
		t.Fatalf("identifier not trimmed: %s", r.Body)
	}
	r = v.do(http.MethodPatch, fmt.Sprintf("%s%v/", connections, r.JSON(t)["pk"]), aliceKey, map[string]any{"identifier": " \u3000 "})
	expect(t, r, http.StatusBadRequest)
	if fmt.Sprint(r.JSON(t)["identifier"]) != "[This field may not be blank.]" {
		t.Fatalf("blank identifier: %s", r.Body)
	}
	r = v.do(http.MethodPost, "/core/tokens/", aliceKey, map[string]any{"identifier": "t1", "description": "   "})
	expect(t, r, http.StatusCreated)
	if r.JSON(t)["description"] != "" {
		t.Fatalf("blank description: %s", r.Body)
	}
	r = v.do(http.MethodPost, "/core/users/", adminKey, map[string]any{"username": " carol ", "name": "Carol", "attributes": map[string]any{"k": " kept "}})
	expect(t, r, http.StatusCreated)
	if u := r.JSON(t); u["username"] != "carol" || u["attributes"].(map[string]any)["k"] != " kept " {
		t.Fatalf("user: %s", r.Body)
	}
}

// The attributes filter matches a key with exactly a JSON value, on both
// backends: types must agree and any key works.
func TestAttributesFilterIsExact(t *testing.T) {
	v := newEnv(t)
	users := map[string]map[string]any{
		"u-true": {"t": true}, "u-one": {"t": 1}, "u-one-text": {"t": "1"},
		"u-quote": {`a"b`: "x"}, "u-dot": {"a.b": "y"}, "u-obj": {"o": map[string]any{"k": []any{1, "z"}}}, "u-half": {"t": 1.5},
	}
	for name, attrs := range users {
		expect(t, v.do(http.MethodPost, "/core/users/", adminKey, map[string]any{"username": name, "name": name, "attributes": attrs}), http.StatusCreated)
	}

	for filter, want := range map[string]string{
		`{"t":1}`:                 "u-one",
		`{"t":1.0}`:               "u-one",
		`{"t":true}`:              "u-true",
		`{"t":"1"}`:               "u-one-text",
		`{"t":null}`:              "",
		`{"t":1.5}`:               "u-half",
		`{"a\"b":"x"}`:            "u-quote",
		`{"a.b":"y"}`:             "u-dot",
		`{"o":{"k":[1,"z"]}}`:     "u-obj",
		`{"t":false}`:             "",
		`{"o":{"k":[1]}}`:         "",
		`{"t":1,"a.b":"y"}`:       "",
		`{"missing":null}`:        "",
		`{"t":"1","a\"b":"nope"}`: "",
	} {
		r := v.do(http.MethodGet, "/core/users/?attributes="+url.QueryEscape(filter), adminKey, nil)
		expect(t, r, http.StatusOK)
		var got []string
		for _, u := range r.JSON(t)["results"].([]any) {
			got = append(got, u.(map[string]any)["username"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("attributes=%s matched %v, want %q", filter, got, want)
		}
	}
}

// Permissions are checked before the body is validated, as Django REST
// framework does: an ordinary user's malformed write to a source is 403.
func TestPermissionBeforeValidation(t *testing.T) {
	v := newEnv(t)
	v.createSource("github")
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/sources/oauth/", 403},
		{http.MethodPut, "/sources/oauth/github/", 403},
		{http.MethodPatch, "/sources/oauth/github/", 403},
		{http.MethodPatch, "/sources/oauth/no-such-source/", 403},
		{http.MethodDelete, "/sources/oauth/github/", 403},
		{http.MethodPost, "/core/users/", 403},
		{http.MethodPatch, fmt.Sprintf("/core/users/%d/", v.Alice.ID), 403},
		{http.MethodPut, fmt.Sprintf("/core/users/%d/", v.Alice.ID), 403},
		{http.MethodPatch, fmt.Sprintf("/core/users/%d/", v.Bob.ID), 404},
		{http.MethodDelete, fmt.Sprintf("/core/users/%d/", v.Bob.ID), 404},
	} {
		var body any
		if c.method != http.MethodDelete {
			body = `{"slug": "not a slug!", "username": 12, "name": []}`
		}
		r := v.do(c.method, c.path, aliceKey, body)
		if r.Status != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, r.Status, r.Body, c.status)
		}
	}
	r := v.do(http.MethodPost, "/sources/oauth/", adminKey, `{"slug": "not a slug!"}`)
	expect(t, r, http.StatusBadRequest)
}

// Findings of the second adversarial review, kept fixed.
func TestSecondReview(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	bobConn := v.createConnection(bobKey, src, "bob-1")
	expect(t, v.do(http.MethodPost, "/core/tokens/", bobKey, map[string]any{"identifier": "bob-api"}), http.StatusCreated)

	// Another user's connection or token answers 404 whatever the body
	// holds, as Django REST framework looks the object up first.
	for _, path := range []string{fmt.Sprintf("%s%d/", connections, bobConn), "/core/tokens/bob-api/"} {
		for _, method := range []string{http.MethodPut, http.MethodPatch} {
			for _, body := range []string{`{"identifier":""}`, `{`, `[]`, `{"identifier":"x"}`} {
				if r := v.do(method, path, aliceKey, body); r.Status != http.StatusNotFound {
					t.Errorf("%s %s %s as alice: %d %s", method, path, body, r.Status, r.Body)
				}
			}
		}
	}

	// Text fields are bounded (indexed ones below PostgreSQL's B-tree
	// limit), and so are free-form JSON fields.
	long := strings.Repeat("\u00e9\u4e16", 300) // 600 characters, 1,500 bytes
	for _, c := range []struct {
		method, path string
		body         map[string]any
		field        string
	}{
		{http.MethodPatch, "/sources/oauth/github/", map[string]any{"name": long}, "name"},
		{http.MethodPost, "/core/tokens/", map[string]any{"identifier": "t-long", "managed": long}, "managed"},
		{http.MethodPost, "/core/tokens/", map[string]any{"identifier": "t-long", "description": strings.Repeat("d", 4097)}, "description"},
		{http.MethodPatch, fmt.Sprintf("/core/users/%d/", v.Bob.ID), map[string]any{"attributes": map[string]any{"k": strings.Repeat("a", 17000)}}, "attributes"},
		{http.MethodPatch, "/sources/oauth/github/", map[string]any{"oidc_jwks": map[string]any{"keys": strings.Repeat("a", 17000)}}, "oidc_jwks"},
	} {
		r := v.do(c.method, c.path, adminKey, c.body)
		if r.Status != http.StatusBadRequest || r.JSON(t)[c.field] == nil {
			t.Errorf("%s %s with a long %s: %d %s", c.method, c.path, c.field, r.Status, r.Body)
		}
	}

	// The attributes filter is bounded in keys, size and depth.
	many := map[string]any{}
	for i := 0; i < 40; i++ {
		many[fmt.Sprintf("k%d", i)] = i
	}
	manyJSON, _ := json.Marshal(many)
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	for _, filter := range []string{string(manyJSON), deep, `{"k":"` + strings.Repeat("x", 5000) + `"}`, `{"a":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}`} {
		r := v.do(http.MethodGet, "/core/users/?attributes="+url.QueryEscape(filter), aliceKey, nil)
		if r.Status != http.StatusBadRequest || r.JSON(t)["attributes"] == nil {
			t.Errorf("attributes filter of %d bytes: %d %.200s", len(filter), r.Status, r.Body)
		}
	}

	// An integral number written with a fraction is an integer, as DRF's
	// IntegerField takes it; a body of non-JSON white space is a parse error.
	r := v.do(http.MethodPost, connections, adminKey, fmt.Sprintf(`{"source":%q,"identifier":"float-user","user":%d.0}`, src, v.Admin.ID))
	expect(t, r, http.StatusCreated)
	if r.JSON(t)["user"] != float64(v.Admin.ID) {
		t.Errorf("user 1.0: %s", r.Body)
	}
	r = v.do(http.MethodPost, connections, adminKey, " \u00a0 ")
	expect(t, r, http.StatusBadRequest)
	if d := r.JSON(t)["detail"]; d != "JSON parse error - Expecting value: line 1 column 2 (char 1)" {
		t.Errorf("white space body: %v", d)
	}

	// Reads do not load the sealed access token.
	got, err := v.Store.GetConnection(t.Context(), store.Scope{All: true}, int64(bobConn))
	if err != nil || got.AccessTokenSealed != nil {
		t.Errorf("a retrieve read the access token: %v %v", got, err)
	}
}
