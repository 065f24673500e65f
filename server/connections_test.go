package server_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

const connections = "/sources/user_connections/oauth/"

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The retrieve response has exactly the seed document's fields.
func TestRetrieveMatchesSeedSchema(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "gh-1")

	r := v.do(http.MethodGet, fmt.Sprintf("%s%d/", connections, id), aliceKey, nil)
	expect(t, r, http.StatusOK)
	body := r.JSON(t)
	// The seed's five fields, plus last_updated and expires, added as later
	// authentik releases did (docs/COMPATIBILITY.md).
	if got, want := strings.Join(keys(body), ","), "created,expires,identifier,last_updated,pk,source,user"; got != want {
		t.Fatalf("fields %s, want %s", got, want)
	}
	source := body["source"].(map[string]any)
	wantSource := "authentication_flow,component,enabled,enrollment_flow,group_property_mappings,icon,managed,meta_model_name,name,pk,policy_engine_mode,slug,user_matching_mode,user_path_template,user_property_mappings,verbose_name,verbose_name_plural"
	if got := strings.Join(keys(source), ","); got != wantSource {
		t.Fatalf("source fields %s, want %s", got, wantSource)
	}
	if body["pk"].(float64) != float64(id) || body["user"].(float64) != float64(v.Alice.ID) || body["identifier"] != "gh-1" {
		t.Fatalf("unexpected body %v", body)
	}
	if source["pk"] != src || source["slug"] != "github" || source["component"] != "ak-source-oauth-form" ||
		source["verbose_name"] != "OAuth Source" || source["verbose_name_plural"] != "OAuth Sources" ||
		source["meta_model_name"] != "authentik_sources_oauth.oauthsource" || source["icon"] != nil || source["managed"] != nil {
		t.Fatalf("unexpected source %v", source)
	}
	created, err := time.Parse(time.RFC3339Nano, body["created"].(string))
	if err != nil || !strings.HasSuffix(body["created"].(string), "Z") || time.Since(created) > time.Minute {
		t.Fatalf("created %q is not a recent RFC 3339 UTC time (%v)", body["created"], err)
	}
}

func TestCreateStoresConnectionAndHidesAccessToken(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	r := v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "gh-7", "access_token": "very-secret-token"})
	expect(t, r, http.StatusCreated)
	if strings.Contains(r.Body, "very-secret-token") || strings.Contains(r.Body, "access_token") {
		t.Fatalf("access token leaked: %s", r.Body)
	}
	id := int(r.JSON(t)["pk"].(float64))
	stored, ok := v.storedConnection(id)
	if !ok || stored.UserID != v.Alice.ID || stored.SourceID != src || stored.Identifier != "gh-7" ||
		v.accessToken(stored) != "very-secret-token" {
		t.Fatalf("stored %+v", stored)
	}
	for _, path := range []string{connections, fmt.Sprintf("%s%d/", connections, id)} {
		if r := v.do(http.MethodGet, path, aliceKey, nil); strings.Contains(r.Body, "very-secret-token") {
			t.Fatalf("%s leaked the access token", path)
		}
	}
	if strings.Contains(v.Logs.String(), "very-secret-token") {
		t.Fatal("access token written to the log")
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	cases := []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"missing source", map[string]any{"identifier": "x"}, 400, `{"source":["This field is required."]}`},
		{"missing identifier", map[string]any{"source": src}, 400, `{"identifier":["This field is required."]}`},
		{"blank identifier", map[string]any{"source": src, "identifier": ""}, 400, `{"identifier":["This field may not be blank."]}`},
		{"overlong identifier", map[string]any{"source": src, "identifier": strings.Repeat("a", 256)}, 400, `{"identifier":["Ensure this field has no more than 255 characters."]}`},
		{"identifier not a string", map[string]any{"source": src, "identifier": 5}, 400, `{"identifier":["Not a valid string."]}`},
		{"source not a uuid", map[string]any{"source": "nope", "identifier": "x"}, 400, `{"source":["Must be a valid UUID."]}`},
		{"unknown source", map[string]any{"source": "00000000-0000-4000-8000-000000000000", "identifier": "x"}, 400,
			`{"source":["Invalid pk \"00000000-0000-4000-8000-000000000000\" - object does not exist."]}`},
		{"user not an integer", map[string]any{"source": src, "identifier": "x", "user": "me"}, 400, `{"user":["A valid integer is required."]}`},
		{"malformed JSON", `{"source": `, 400, `{"detail":"JSON parse error - Expecting value: line 1 column 12 (char 11)"}`},
		{"not an object", `[1,2]`, 400, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{"empty body", ``, 400, `{"non_field_errors":["No data provided"]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := v.do(http.MethodPost, connections, aliceKey, tc.body)
			expect(t, r, tc.status)
			if strings.TrimSpace(r.Body) != tc.want {
				t.Fatalf("body %s, want %s", r.Body, tc.want)
			}
		})
	}
	if n := countRows(t, v.Store, connectionModel); n != 0 {
		t.Fatalf("%d connections stored after bad input", n)
	}
}

func TestCreateWrongContentTypeAndOversizedBody(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	r := v.doWith(http.MethodPost, connections, aliceKey, `identifier=x`, "text/plain")
	expect(t, r, http.StatusUnsupportedMediaType)
	if r.JSON(t)["detail"] != `Unsupported media type "text/plain" in request.` {
		t.Fatalf("body %s", r.Body)
	}
	big := map[string]any{"source": src, "identifier": "x", "access_token": strings.Repeat("t", 2<<20)}
	r = v.do(http.MethodPost, connections, aliceKey, big)
	expect(t, r, http.StatusRequestEntityTooLarge)
	if n := countRows(t, v.Store, connectionModel); n != 0 {
		t.Fatalf("%d connections stored", n)
	}
}

func TestConnectionUniqueRules(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	v.createConnection(aliceKey, src, "gh-1")

	r := v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "gh-2"})
	expect(t, r, http.StatusBadRequest)
	if strings.TrimSpace(r.Body) != `{"non_field_errors":["The fields user, source must make a unique set."]}` {
		t.Fatalf("body %s", r.Body)
	}
	r = v.do(http.MethodPost, connections, bobKey, map[string]any{"source": src, "identifier": "gh-1"})
	expect(t, r, http.StatusBadRequest)
	if strings.TrimSpace(r.Body) != `{"non_field_errors":["The fields source, identifier must make a unique set."]}` {
		t.Fatalf("body %s", r.Body)
	}
	if n := countRows(t, v.Store, connectionModel); n != 1 {
		t.Fatalf("%d connections stored, want 1", n)
	}
}

// A connection's user is read-only since authentik 2026.8
// (GHSA-wr38-7xg8-fqxr). The 2024.8 contract, which /api/v3/ speaks here
// (testenv.DefaultAPIVersion), still has the field: naming oneself is
// accepted, an ordinary user naming another is refused as before (403),
// and a superuser naming another, which this server's 2024.8 release
// allowed, is refused too (400), on create and on update.
func TestOnlySuperuserNamesAnotherUser(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	r := v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "x", "user": v.Bob.ID})
	expect(t, r, http.StatusForbidden)
	r = v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "x", "user": v.Alice.ID})
	expect(t, r, http.StatusCreated)
	hers := int(r.JSON(t)["pk"].(float64))

	readOnly := `{"user":["A connection's user cannot change: it is the user who made it (read-only since authentik 2026.8, GHSA-wr38-7xg8-fqxr)."]}`
	for _, user := range []int64{v.Bob.ID, 9999} {
		r = v.do(http.MethodPost, connections, adminKey, map[string]any{"source": src, "identifier": "y", "user": user})
		expect(t, r, http.StatusBadRequest)
		if strings.TrimSpace(r.Body) != readOnly {
			t.Fatalf("user %d: body %s", user, r.Body)
		}
	}
	p := fmt.Sprintf("%s%d/", connections, hers)
	expect(t, v.do(http.MethodPatch, p, adminKey, map[string]any{"user": v.Alice.ID}), http.StatusOK) // her own: no change
	r = v.do(http.MethodPatch, p, adminKey, map[string]any{"user": v.Bob.ID})
	expect(t, r, http.StatusBadRequest)
	if strings.TrimSpace(r.Body) != readOnly {
		t.Fatalf("update: body %s", r.Body)
	}
	expect(t, v.do(http.MethodPatch, p, aliceKey, map[string]any{"user": v.Bob.ID}), http.StatusForbidden)
	if c, ok := v.storedConnection(hers); !ok || c.UserID != v.Alice.ID {
		t.Fatalf("stored %+v", c)
	}
	if n := countRows(t, v.Store, connectionModel); n != 1 {
		t.Errorf("%d connections stored, want the 1 created", n)
	}
}

func TestUpdateAndPartialUpdate(t *testing.T) {
	v := newEnv(t)
	gh := v.createSource("github")
	gl := v.createSource("gitlab")
	id := v.createConnection(aliceKey, gh, "gh-1")
	path := fmt.Sprintf("%s%d/", connections, id)

	// A 2024.8 client sends only identifier and access_token: source and user stay.
	r := v.do(http.MethodPut, path, aliceKey, map[string]any{"identifier": "gh-2", "access_token": "new-token"})
	expect(t, r, http.StatusOK)
	stored, _ := v.storedConnection(id)
	if stored.Identifier != "gh-2" || stored.SourceID != gh || stored.UserID != v.Alice.ID || v.accessToken(stored) != "new-token" {
		t.Fatalf("after PUT: %+v", stored)
	}
	r = v.do(http.MethodPut, path, aliceKey, map[string]any{"access_token": "x"})
	expect(t, r, http.StatusBadRequest)
	if strings.TrimSpace(r.Body) != `{"identifier":["This field is required."]}` {
		t.Fatalf("body %s", r.Body)
	}

	expiry := "2031-02-03T04:05:06.123456Z"
	r = v.do(http.MethodPatch, path, aliceKey, map[string]any{"expires": expiry})
	expect(t, r, http.StatusOK)
	if b := r.JSON(t); b["expires"] != expiry || b["identifier"] != "gh-2" {
		t.Fatalf("after PATCH expires: %s", r.Body)
	}
	stored, _ = v.storedConnection(id)
	if stored.Expires == nil || !stored.Expires.Equal(time.Date(2031, 2, 3, 4, 5, 6, 123456000, time.UTC)) || stored.LastUpdated.Before(stored.Created) {
		t.Fatalf("stored expires %v, last_updated %v", stored.Expires, stored.LastUpdated)
	}
	r = v.do(http.MethodPut, path, aliceKey, map[string]any{"identifier": "gh-2"})
	if r.JSON(t)["expires"] != expiry {
		t.Fatalf("PUT without expires dropped it: %s", r.Body)
	}
	r = v.do(http.MethodPatch, path, aliceKey, map[string]any{"source": gl})
	expect(t, r, http.StatusOK)
	if r.JSON(t)["source"].(map[string]any)["slug"] != "gitlab" {
		t.Fatalf("body %s", r.Body)
	}
	r = v.do(http.MethodPatch, path, aliceKey, map[string]any{"access_token": nil})
	expect(t, r, http.StatusOK)
	stored, _ = v.storedConnection(id)
	if stored.Identifier != "gh-2" || stored.SourceID != gl || stored.AccessTokenSealed != nil {
		t.Fatalf("after PATCH: %+v", stored)
	}
	r = v.do(http.MethodPatch, path, aliceKey, map[string]any{"identifier": strings.Repeat("x", 256)})
	expect(t, r, http.StatusBadRequest)
	r = v.do(http.MethodPatch, path, aliceKey, map[string]any{"user": v.Bob.ID})
	expect(t, r, http.StatusForbidden)
	stored, _ = v.storedConnection(id)
	if stored.Identifier != "gh-2" || stored.UserID != v.Alice.ID {
		t.Fatalf("rejected PATCH changed the row: %+v", stored)
	}
}

func TestAnotherUsersConnectionIsNotFound(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "gh-1")
	path := fmt.Sprintf("%s%d/", connections, id)
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, path, nil},
		{http.MethodPut, path, map[string]any{"identifier": "stolen"}},
		{http.MethodPatch, path, map[string]any{"identifier": "stolen"}},
		{http.MethodDelete, path, nil},
		{http.MethodGet, path + "used_by/", nil},
	} {
		r := v.do(tc.method, tc.path, bobKey, tc.body)
		expect(t, r, http.StatusNotFound)
		if strings.TrimSpace(r.Body) != `{"detail":"Not found."}` {
			t.Fatalf("%s %s: body %s", tc.method, tc.path, r.Body)
		}
	}
	if stored, ok := v.storedConnection(id); !ok || stored.Identifier != "gh-1" {
		t.Fatalf("bob changed alice's connection: %+v", stored)
	}
	list := v.do(http.MethodGet, connections, bobKey, nil).JSON(t)
	if list["pagination"].(map[string]any)["count"].(float64) != 0 {
		t.Fatalf("bob sees alice's connection: %v", list)
	}
	// The superuser sees and changes it.
	expect(t, v.do(http.MethodGet, path, adminKey, nil), http.StatusOK)
	expect(t, v.do(http.MethodPatch, path, adminKey, map[string]any{"identifier": "by-admin"}), http.StatusOK)
	expect(t, v.do(http.MethodDelete, path, adminKey, nil), http.StatusNoContent)
	if _, ok := v.storedConnection(id); ok {
		t.Fatal("connection still stored after delete")
	}
}

func TestDeleteAndUsedBy(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "gh-1")
	path := fmt.Sprintf("%s%d/", connections, id)
	r := v.do(http.MethodGet, path+"used_by/", aliceKey, nil)
	expect(t, r, http.StatusOK)
	if strings.TrimSpace(r.Body) != "[]" {
		t.Fatalf("used_by %s", r.Body)
	}
	expect(t, v.do(http.MethodDelete, path, aliceKey, nil), http.StatusNoContent)
	expect(t, v.do(http.MethodGet, path, aliceKey, nil), http.StatusNotFound)
	expect(t, v.do(http.MethodDelete, path, aliceKey, nil), http.StatusNotFound)
}

func TestNonIntegerAndHugeIDs(t *testing.T) {
	v := newEnv(t)
	for _, id := range []string{"abc", "1.5", "99999999999999999999999"} {
		r := v.do(http.MethodGet, connections+id+"/", aliceKey, nil)
		expect(t, r, http.StatusBadRequest)
		if strings.TrimSpace(r.Body) != `{"id":["A valid integer is required."]}` {
			t.Fatalf("id %s: body %s", id, r.Body)
		}
	}
	expect(t, v.do(http.MethodGet, connections+"9223372036854775807/", aliceKey, nil), http.StatusNotFound)
	expect(t, v.do(http.MethodGet, connections+"-1/", aliceKey, nil), http.StatusNotFound)
}

// TestConnectionShowsItsSourceAsItIsNow: a connection's answer embeds its
// source as the database holds it, also after the source changes (the
// server keeps each source's embedded form per version).
func TestConnectionShowsItsSourceAsItIsNow(t *testing.T) {
	e := newEnv(t)
	src := e.createSource("before")
	id := e.createConnection(adminKey, src, "ext-1")
	path := fmt.Sprintf("/sources/user_connections/oauth/%d/", id)
	first := e.do(http.MethodGet, path, adminKey, nil)
	expect(t, first, http.StatusOK)
	if name := first.JSON(t)["source"].(map[string]any)["name"]; name != "Source before" {
		t.Fatalf("source name %v before the change", name)
	}
	expect(t, e.do(http.MethodPatch, "/sources/oauth/before/", adminKey, map[string]any{"name": "Renamed"}), http.StatusOK)
	for range 2 { // the second from the view the first made
		r := e.do(http.MethodGet, path, adminKey, nil)
		expect(t, r, http.StatusOK)
		if name := r.JSON(t)["source"].(map[string]any)["name"]; name != "Renamed" {
			t.Errorf("source name %v after the change, want Renamed", name)
		}
		if r.Header.Get("ETag") == first.Header.Get("ETag") {
			t.Errorf("ETag %s unchanged by the source's change", r.Header.Get("ETag"))
		}
	}
	list := e.do(http.MethodGet, "/sources/user_connections/oauth/", adminKey, nil)
	expect(t, list, http.StatusOK)
	if name := list.JSON(t)["results"].([]any)[0].(map[string]any)["source"].(map[string]any)["name"]; name != "Renamed" {
		t.Errorf("listed source name %v, want Renamed", name)
	}
}
