package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"akconn/store"
)

// isolationCase is one operation on one of bob's objects.
type isolationCase struct {
	name         string
	method, path string
	body         any
	// adminStatus is what the superuser gets for the same request.
	adminStatus int
}

// bobsObjectOperations gives bob a connection (he already holds a token)
// and lists every operation on his objects.
func bobsObjectOperations(v *env) []isolationCase {
	src := v.createSource("github")
	conn := v.createConnection(bobKey, src, "bob-gh")
	c := fmt.Sprintf("%s%d/", connections, conn)
	tok := tokens + "bob-token/"
	u := fmt.Sprintf("%s%d/", users, v.Bob.ID)
	return []isolationCase{
		{"connection retrieve", http.MethodGet, c, nil, 200},
		{"connection used_by", http.MethodGet, c + "used_by/", nil, 200},
		{"connection update", http.MethodPut, c, map[string]any{"identifier": "taken"}, 200},
		{"connection partial update", http.MethodPatch, c, map[string]any{"identifier": "taken"}, 200},
		// Naming a user or an unknown source must not turn the 404 into a 403 or 400.
		{"connection partial update naming a user", http.MethodPatch, c, map[string]any{"user": v.Bob.ID}, 200},
		{"connection partial update naming a source", http.MethodPatch, c, map[string]any{"source": "00000000-0000-4000-8000-000000000000"}, 400},
		{"token retrieve", http.MethodGet, tok, nil, 200},
		{"token used_by", http.MethodGet, tok + "used_by/", nil, 200},
		{"token view_key", http.MethodGet, tok + "view_key/", nil, 200},
		{"token update", http.MethodPut, tok, map[string]any{"identifier": "bob-token", "description": "taken"}, 200},
		{"token partial update", http.MethodPatch, tok, map[string]any{"description": "taken"}, 200},
		{"token partial update naming a user", http.MethodPatch, tok, map[string]any{"user": v.Bob.ID}, 200},
		{"user retrieve", http.MethodGet, u, nil, 200},
		{"user used_by", http.MethodGet, u + "used_by/", nil, 200},
		{"user update", http.MethodPut, u, map[string]any{"username": "bob", "name": "taken"}, 200},
		{"user partial update", http.MethodPatch, u, map[string]any{"name": "taken"}, 200},
		{"connection destroy", http.MethodDelete, c, nil, 204},
		{"token destroy", http.MethodDelete, tok, nil, 204},
		{"user destroy", http.MethodDelete, u, nil, 204},
	}
}

// Alice gets 404 for every operation on bob's objects, and nothing of his
// changes; the superuser can do all of it.
func TestOwnerIsolation(t *testing.T) {
	v := newEnv(t)
	ops := bobsObjectOperations(v)
	for _, op := range ops {
		r := v.do(op.method, op.path, aliceKey, op.body)
		if r.Status != http.StatusNotFound || strings.TrimSpace(r.Body) != `{"detail":"Not found."}` {
			t.Errorf("alice: %s: %d %s", op.name, r.Status, r.Body)
		}
		if strings.Contains(r.Body, bobKey) {
			t.Errorf("alice: %s leaked bob's key", op.name)
		}
	}
	var conn store.Connection
	if err := v.Store.DB().Where("user_id = ?", v.Bob.ID).Take(&conn).Error; err != nil || conn.Identifier != "bob-gh" {
		t.Fatalf("bob's connection changed: %+v %v", conn, err)
	}
	if tok, err := v.Store.GetToken(t.Context(), store.Scope{All: true}, "bob-token"); err != nil || tok.Description != "" {
		t.Fatalf("bob's token changed: %+v %v", tok, err)
	}
	if u, err := v.Store.GetUser(t.Context(), v.Bob.ID); err != nil || u.Name != "bob" {
		t.Fatalf("bob changed: %+v %v", u, err)
	}
	for _, op := range ops {
		r := v.do(op.method, op.path, adminKey, op.body)
		if r.Status != op.adminStatus {
			t.Errorf("admin: %s: %d %s", op.name, r.Status, r.Body)
		}
	}
}

// Lists never count what the caller cannot see.
func TestListsShowOnlyOwnObjects(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	v.createConnection(aliceKey, src, "alice-gh")
	v.createConnection(bobKey, src, "bob-gh")
	for _, tc := range []struct {
		path            string
		alice, admin    int
		aliceMustNotSee string
	}{
		{connections, 1, 2, "bob-gh"},
		{connections + fmt.Sprintf("?user=%d", v.Bob.ID), 0, 1, "bob-gh"},
		{tokens, 1, 3, "bob-token"},
		{tokens + "?user__username=bob", 0, 1, "bob-token"},
		{users, 1, 3, `"username":"bob"`},
		{users + "?username=bob", 0, 1, `"username":"bob"`},
	} {
		for key, want := range map[string]int{aliceKey: tc.alice, adminKey: tc.admin} {
			r := v.do(http.MethodGet, tc.path, key, nil)
			expect(t, r, http.StatusOK)
			if n := r.JSON(t)["pagination"].(map[string]any)["count"].(float64); int(n) != want {
				t.Errorf("%s as %s: count %v, want %d", tc.path, key, n, want)
			}
			if key == aliceKey && strings.Contains(r.Body, tc.aliceMustNotSee) {
				t.Errorf("%s: alice sees %s", tc.path, tc.aliceMustNotSee)
			}
		}
	}
	// used_by on a shared source shows alice only her own connection.
	r := v.do(http.MethodGet, sources+"github/used_by/", aliceKey, nil)
	if strings.Count(r.Body, `"action"`) != 1 || strings.Contains(r.Body, fmt.Sprintf("user=%d", v.Bob.ID)) {
		t.Errorf("source used_by as alice: %s", r.Body)
	}
}

// Alice cannot create objects for bob, nor manage users.
func TestCannotActForAnotherUser(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, connections, map[string]any{"source": src, "identifier": "x", "user": v.Bob.ID}},
		{http.MethodPost, tokens, map[string]any{"identifier": "for-bob", "user": v.Bob.ID}},
		{http.MethodPost, users, map[string]any{"username": "eve", "name": "Eve"}},
		{http.MethodPatch, fmt.Sprintf("%s%d/", users, v.Alice.ID), map[string]any{"name": "self-promoted"}},
		{http.MethodDelete, fmt.Sprintf("%s%d/", users, v.Alice.ID), nil},
	} {
		r := v.do(tc.method, tc.path, aliceKey, tc.body)
		expect(t, r, http.StatusForbidden)
	}
	// Moving her own connection or token to bob is refused too.
	id := v.createConnection(aliceKey, src, "alice-gh")
	expect(t, v.do(http.MethodPatch, fmt.Sprintf("%s%d/", connections, id), aliceKey, map[string]any{"user": v.Bob.ID}), http.StatusForbidden)
	expect(t, v.do(http.MethodPatch, tokens+"alice-token/", aliceKey, map[string]any{"user": v.Bob.ID}), http.StatusForbidden)
	if n := countRows(t, v.Store, &store.User{}); n != 3 {
		t.Fatalf("%d users", n)
	}
	var bobs int64
	v.Store.DB().Model(&store.Token{}).Where("user_id = ?", v.Bob.ID).Count(&bobs)
	if bobs != 1 {
		t.Fatalf("bob has %d tokens", bobs)
	}
	// Alice reads herself.
	expect(t, v.do(http.MethodGet, fmt.Sprintf("%s%d/", users, v.Alice.ID), aliceKey, nil), http.StatusOK)
}
