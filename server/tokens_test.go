package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"akconn/store"
)

const tokens = "/core/tokens/"

func TestTokenLifecycleAndKeySecrecy(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodPost, tokens, aliceKey, map[string]any{"identifier": "alice-ci", "description": "CI"})
	expect(t, r, http.StatusCreated)
	body := r.JSON(t)
	if body["user"].(float64) != float64(v.Alice.ID) || body["intent"] != "api" || body["expiring"] != true ||
		body["user_obj"].(map[string]any)["username"] != "alice" {
		t.Fatalf("created %s", r.Body)
	}
	expires, err := time.Parse(time.RFC3339Nano, body["expires"].(string))
	if err != nil || expires.Before(time.Now().Add(29*time.Minute)) || expires.After(time.Now().Add(31*time.Minute)) {
		t.Fatalf("expires %v (%v), want about 30 minutes from now", body["expires"], err)
	}
	stored, err := v.Store.GetToken(t.Context(), store.Scope{All: true}, "alice-ci")
	if err != nil {
		t.Fatal(err)
	}
	key, err := v.Store.TokenKey(stored)
	if err != nil || len(key) != 60 || stored.KeyHash != store.HashKey(key) || strings.Contains(stored.KeySealed, key) {
		t.Fatalf("stored %+v (key %q) %v", stored, key, err)
	}
	for _, path := range []string{tokens, tokens + "alice-ci/"} {
		if r := v.do(http.MethodGet, path, aliceKey, nil); strings.Contains(r.Body, key) || strings.Contains(r.Body, `"key"`) {
			t.Fatalf("%s leaked the key: %s", path, r.Body)
		}
	}
	if strings.Contains(r.Body, key) {
		t.Fatal("create response leaked the key")
	}
	r = v.do(http.MethodGet, tokens+"alice-ci/view_key/", aliceKey, nil)
	expect(t, r, http.StatusOK)
	if r.JSON(t)["key"] != key {
		t.Fatalf("view_key %s", r.Body)
	}
	// The revealed key authenticates as alice.
	me := v.do(http.MethodGet, users+"me/", key, nil)
	expect(t, me, http.StatusOK)
	if me.JSON(t)["user"].(map[string]any)["username"] != "alice" {
		t.Fatalf("me %s", me.Body)
	}
	r = v.do(http.MethodPatch, tokens+"alice-ci/", aliceKey, map[string]any{"description": "CI runner", "expiring": false})
	expect(t, r, http.StatusOK)
	r = v.do(http.MethodPut, tokens+"alice-ci/", aliceKey, map[string]any{"identifier": "alice-ci2"})
	expect(t, r, http.StatusOK)
	if b := r.JSON(t); b["identifier"] != "alice-ci2" || b["description"] != "CI runner" {
		t.Fatalf("after update %s", r.Body)
	}
	expect(t, v.do(http.MethodGet, tokens+"alice-ci2/used_by/", aliceKey, nil), http.StatusOK)
	expect(t, v.do(http.MethodDelete, tokens+"alice-ci2/", aliceKey, nil), http.StatusNoContent)
	expect(t, v.do(http.MethodGet, users+"me/", key, nil), http.StatusForbidden)
	if strings.Contains(v.Logs.String(), key) {
		t.Fatal("token key written to the log")
	}
}

func TestTokenRules(t *testing.T) {
	v := newEnv(t)
	for _, tc := range []struct {
		key    string
		body   map[string]any
		status int
		field  string
		want   string
	}{
		{aliceKey, map[string]any{"identifier": "has space"}, 400, "identifier", `Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.`},
		{aliceKey, map[string]any{"identifier": "bob-token"}, 400, "identifier", "token with this identifier already exists."},
		{aliceKey, map[string]any{"identifier": "r", "intent": "recovery"}, 400, "intent", "Invalid intent recovery"},
		{aliceKey, map[string]any{"identifier": "m", "managed": "goauthentik.io/x"}, 403, "detail", "You do not have permission to perform this action."},
		{aliceKey, map[string]any{"identifier": "b", "user": v.Bob.ID}, 403, "detail", "You do not have permission to perform this action."},
		{aliceKey, map[string]any{"identifier": "d", "expires": "tomorrow"}, 400, "expires", "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."},
		{adminKey, map[string]any{"identifier": "z", "user": 99999}, 400, "user", `Invalid pk "99999" - object does not exist.`},
	} {
		r := v.do(http.MethodPost, tokens, tc.key, tc.body)
		expect(t, r, tc.status)
		got := r.JSON(t)[tc.field]
		if msgs, ok := got.([]any); ok && len(msgs) > 0 {
			got = msgs[0]
		}
		if got != tc.want {
			t.Errorf("%v: %s", tc.body, r.Body)
		}
	}
	// An ordinary user's tokens always expire, as in authentik.
	r0 := v.do(http.MethodPost, tokens, aliceKey, map[string]any{"identifier": "forever", "expiring": false})
	expect(t, r0, http.StatusCreated)
	if b := r0.JSON(t); b["expiring"] != true || b["expires"] == nil {
		t.Fatalf("alice made a token that never expires: %s", r0.Body)
	}
	// A superuser may create a managed token for someone else.
	r := v.do(http.MethodPost, tokens, adminKey, map[string]any{"identifier": "for-bob", "user": v.Bob.ID, "managed": "goauthentik.io/test", "expiring": false})
	expect(t, r, http.StatusCreated)
	if b := r.JSON(t); b["user"].(float64) != float64(v.Bob.ID) || b["managed"] != "goauthentik.io/test" || b["expires"] != nil {
		t.Fatalf("created %s", r.Body)
	}
	// An expired token cannot be viewed or used.
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	expect(t, v.do(http.MethodPost, tokens, aliceKey, map[string]any{"identifier": "old", "expires": past}), http.StatusCreated)
	expect(t, v.do(http.MethodGet, tokens+"old/view_key/", aliceKey, nil), http.StatusNotFound)
	old, _ := v.Store.GetToken(t.Context(), store.Scope{All: true}, "old")
	oldKey, _ := v.Store.TokenKey(old)
	r = v.do(http.MethodGet, users+"me/", oldKey, nil)
	expect(t, r, http.StatusForbidden)
	if r.JSON(t)["detail"] != "Token invalid/expired" {
		t.Fatalf("expired token: %s", r.Body)
	}
}
