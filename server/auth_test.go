package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"akconn/server"
	"akconn/store"
	"akconn/testenv"
)

func TestAuthentication(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)
	carol := store.NewUser("carol", false)
	if err := v.Store.CreateUser(ctx, carol); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []store.Token{
		{Identifier: "expired", Key: "expired-key", Intent: store.IntentAPI, UserID: carol.ID, Expiring: true, Expires: &past},
		{Identifier: "fresh", Key: "fresh-key", Intent: store.IntentAPI, UserID: carol.ID, Expiring: true, Expires: &future},
		{Identifier: "recovery", Key: "recovery-key", Intent: "recovery", UserID: carol.ID},
	} {
		if err := v.Store.CreateToken(ctx, &tok); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		header string
		status int
		detail string
	}{
		{"", 403, "Authentication credentials were not provided."},
		{"Bearer", 403, "Authentication credentials were not provided."},
		{"Bearer    ", 403, "Authentication credentials were not provided."},
		{"Basic YWxpY2U6cHc=", 403, "Unsupported authentication type"},
		{"Bearer unknown-key", 403, "Token invalid/expired"},
		{"Bearer expired-key", 403, "Token invalid/expired"},
		{"Bearer recovery-key", 403, "Token invalid/expired"},
		{"Bearer " + aliceKey + "x", 403, "Token invalid/expired"},
		{"Bearer fresh-key", 200, ""},
		{"bearer " + aliceKey, 200, ""},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/v3/sources/user_connections/oauth/", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		rec := httptest.NewRecorder()
		v.Echo.ServeHTTP(rec, req)
		r := response{Status: rec.Code, Body: rec.Body.String()}
		expect(t, r, tc.status)
		if tc.detail != "" && r.JSON(t)["detail"] != tc.detail {
			t.Errorf("%q: body %s", tc.header, r.Body)
		}
	}
	// Deactivating a user stops their tokens at once, although the token
	// was just verified (and cached).
	expect(t, v.do(http.MethodGet, connections, aliceKey, nil), http.StatusOK)
	expect(t, v.do(http.MethodPatch, fmt.Sprintf("/core/users/%d/", v.Alice.ID), adminKey, map[string]any{"is_active": false}), http.StatusOK)
	r := v.do(http.MethodGet, connections, aliceKey, nil)
	expect(t, r, http.StatusForbidden)
	if r.JSON(t)["detail"] != "Token invalid/expired" {
		t.Errorf("inactive user: %s", r.Body)
	}
}

// Authentication comes before validation, as in authentik: an anonymous
// request with a bad body learns nothing about the body.
func TestAuthenticationBeforeValidation(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodPost, connections, "", `{bad json`)
	expect(t, r, http.StatusForbidden)
	r = v.do(http.MethodGet, connections+"abc/", "", nil)
	expect(t, r, http.StatusForbidden)
}

func TestBootstrapIsIdempotent(t *testing.T) {
	v := newEnv(t)
	for i := 0; i < 2; i++ {
		if err := v.Store.Bootstrap(context.Background(), adminKey); err != nil {
			t.Fatal(err)
		}
	}
	var users, tokens int64
	v.Store.DB().Model(&store.User{}).Where("username = ?", "akadmin").Count(&users)
	v.Store.DB().Model(&store.Token{}).Where("user_id = ?", v.Admin.ID).Count(&tokens)
	if users != 1 || tokens != 1 || !v.Admin.IsSuperuser {
		t.Fatalf("akadmin users=%d tokens=%d superuser=%v", users, tokens, v.Admin.IsSuperuser)
	}
	// A new key replaces the old one.
	if err := v.Store.Bootstrap(context.Background(), "rotated-key"); err != nil {
		t.Fatal(err)
	}
	expect(t, v.do(http.MethodGet, connections, adminKey, nil), http.StatusForbidden)
	expect(t, v.do(http.MethodGet, connections, "rotated-key", nil), http.StatusOK)
}

// A change made elsewhere (another replica, or the database directly)
// reaches a cached token within the cache's lifetime.
func TestTokenCacheBound(t *testing.T) {
	const ttl = 300 * time.Millisecond
	te := testenv.NewWithConfig(t, server.Config{AuthCacheTTL: ttl})
	get := func() int {
		return te.Serve(testenv.NewRequest(t, http.MethodGet, connections, testenv.AliceKey, nil)).Status
	}
	if s := get(); s != http.StatusOK {
		t.Fatalf("status %d", s)
	}
	if err := te.Store.DB().Model(&store.User{}).Where("id = ?", te.Alice.ID).Update("is_active", false).Error; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(ttl + 200*time.Millisecond)
	for get() != http.StatusForbidden {
		if time.Now().After(deadline) {
			t.Fatalf("a deactivated user's cached token still works after %s", ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
