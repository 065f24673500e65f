package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"akconn/store"
)

const users = "/core/users/"

func TestUserLifecycle(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodPost, users, adminKey, map[string]any{"username": "dave", "name": "Dave", "email": "dave@example.com", "attributes": map[string]any{"team": "blue"}, "is_superuser": true})
	expect(t, r, http.StatusCreated)
	body := r.JSON(t)
	id := int(body["pk"].(float64))
	if body["is_superuser"] != false || body["is_active"] != true || body["path"] != "users" || body["type"] != "internal" ||
		len(body["uid"].(string)) != 64 || body["avatar"] == "" || body["groups_obj"] == nil {
		t.Fatalf("created %s", r.Body)
	}
	stored, err := v.Store.GetUser(t.Context(), int64(id))
	if err != nil || stored.Username != "dave" || stored.IsSuperuser || stored.Attributes["team"] != "blue" {
		t.Fatalf("stored %+v %v", stored, err)
	}
	// The uid is stable.
	again := v.do(http.MethodGet, fmt.Sprintf("%s%d/", users, id), adminKey, nil).JSON(t)
	if again["uid"] != body["uid"] {
		t.Fatal("uid changed between reads")
	}
	r = v.do(http.MethodPatch, fmt.Sprintf("%s%d/", users, id), adminKey, map[string]any{"name": "David", "is_active": false})
	expect(t, r, http.StatusOK)
	r = v.do(http.MethodPut, fmt.Sprintf("%s%d/", users, id), adminKey, map[string]any{"username": "david", "name": "David D"})
	expect(t, r, http.StatusOK)
	stored, _ = v.Store.GetUser(t.Context(), int64(id))
	if stored.Username != "david" || stored.Name != "David D" || stored.IsActive {
		t.Fatalf("after update %+v", stored)
	}
	for _, tc := range []struct {
		body        map[string]any
		field, want string
	}{
		{map[string]any{"username": "alice", "name": "x"}, "username", "A user with that username already exists."},
		{map[string]any{"username": strings.Repeat("u", 151), "name": "x"}, "username", "Ensure this field has no more than 150 characters."},
		{map[string]any{"username": "e", "name": "x", "email": "not-an-email"}, "email", "Enter a valid email address."},
		{map[string]any{"username": "g", "name": "x", "groups": []string{"00000000-0000-4000-8000-000000000009"}}, "groups", `Invalid pk "00000000-0000-4000-8000-000000000009" - object does not exist.`},
		{map[string]any{"username": "t", "name": "x", "type": "robot"}, "type", `"robot" is not a valid choice.`},
		{map[string]any{"name": "x"}, "username", "This field is required."},
	} {
		r := v.do(http.MethodPost, users, adminKey, tc.body)
		expect(t, r, http.StatusBadRequest)
		if msgs, _ := r.JSON(t)[tc.field].([]any); len(msgs) == 0 || msgs[0] != tc.want {
			t.Errorf("%v: %s", tc.body, r.Body)
		}
	}
	if n := countRows(t, v.Store, &store.User{}); n != 4 {
		t.Fatalf("%d users after bad input, want 4", n)
	}
}

func TestUserListFilters(t *testing.T) {
	v := newEnv(t)
	expect(t, v.do(http.MethodPatch, fmt.Sprintf("%s%d/", users, v.Bob.ID), adminKey, map[string]any{"attributes": map[string]any{"team": "red", "level": 3, "ops": true}, "type": "external"}), http.StatusOK)
	for q, want := range map[string]string{
		"":                             "akadmin,alice,bob",
		"?is_superuser=true":           "akadmin",
		"?username=bob":                "bob",
		"?search=ALI":                  "alice",
		"?type=external":               "bob",
		"?type=external&type=internal": "akadmin,alice,bob",
		"?attributes=%7B%22team%22%3A%22red%22%7D":             "bob",
		"?attributes=%7B%22level%22%3A3%2C%22ops%22%3Atrue%7D": "bob",
		"?attributes=%7B%22team%22%3A%22blue%22%7D":            "",
		"?groups_by_name=admins":                               "",
		"?ordering=-username":                                  "bob,alice,akadmin",
		"?path_startswith=us":                                  "akadmin,alice,bob",
	} {
		r := v.do(http.MethodGet, users+q, adminKey, nil)
		expect(t, r, http.StatusOK)
		var got []string
		for _, item := range r.JSON(t)["results"].([]any) {
			got = append(got, item.(map[string]any)["username"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: got %v, want %s", q, got, want)
		}
	}
	r := v.do(http.MethodGet, users+"?attributes=nope", adminKey, nil)
	expect(t, r, http.StatusBadRequest)
	for _, q := range []string{`{"a\u0000":1}`, `{"a":"\u0000"}`} {
		r = v.do(http.MethodGet, users+"?attributes="+url.QueryEscape(q), adminKey, nil)
		expect(t, r, http.StatusBadRequest)
		if r.JSON(t)["attributes"].([]any)[0] != "Null characters are not allowed." {
			t.Errorf("%s: %s", q, r.Body)
		}
	}
	// path_startswith compares case and all, on both backends.
	expect(t, v.do(http.MethodPatch, fmt.Sprintf("%s%d/", users, v.Alice.ID), adminKey, map[string]any{"path": "Users/staff"}), http.StatusOK)
	for q, want := range map[string]int{"?path_startswith=users": 2, "?path_startswith=Users": 1, "?path_startswith=Users/st": 1, "?path_startswith=Users/x": 0} {
		r = v.do(http.MethodGet, users+q, adminKey, nil)
		if n := int(r.JSON(t)["pagination"].(map[string]any)["count"].(float64)); n != want {
			t.Errorf("%s: %d users, want %d", q, n, want)
		}
	}
	r = v.do(http.MethodGet, users+"?type=robot", adminKey, nil)
	expect(t, r, http.StatusBadRequest)
	r = v.do(http.MethodGet, users+"?include_groups=false", adminKey, nil)
	if !strings.Contains(r.Body, `"groups_obj":null`) {
		t.Errorf("include_groups=false: %s", r.Body)
	}
}

func TestUsersMe(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodGet, users+"me/", aliceKey, nil)
	expect(t, r, http.StatusOK)
	user := r.JSON(t)["user"].(map[string]any)
	if user["username"] != "alice" || user["pk"].(float64) != float64(v.Alice.ID) || user["is_superuser"] != false {
		t.Fatalf("me %s", r.Body)
	}
}

func TestDeleteUserCascades(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	conn := v.createConnection(bobKey, src, "bob-gh")
	r := v.do(http.MethodGet, fmt.Sprintf("%s%d/used_by/", users, v.Bob.ID), adminKey, nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `"model_name":"token"`) || !strings.Contains(r.Body, `"model_name":"useroauthsourceconnection"`) ||
		strings.Count(r.Body, `"action":"cascade"`) != 2 {
		t.Fatalf("used_by %s", r.Body)
	}
	expect(t, v.do(http.MethodDelete, fmt.Sprintf("%s%d/", users, v.Bob.ID), adminKey, nil), http.StatusNoContent)
	if _, ok := v.storedConnection(conn); ok {
		t.Fatal("connection survived its user")
	}
	var tokens int64
	v.Store.DB().Model(&store.Token{}).Where("user_id = ?", v.Bob.ID).Count(&tokens)
	if tokens != 0 {
		t.Fatalf("%d tokens survived their user", tokens)
	}
	expect(t, v.do(http.MethodGet, connections, bobKey, nil), http.StatusForbidden)
}
