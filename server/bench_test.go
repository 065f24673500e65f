package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"akconn/server"
)

// benchEnv is an environment with one source and one connection of alice.
func benchEnv(b *testing.B, mode server.ResponseValidation) (*env, string) {
	v := newEnvWith(b, mode)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "gh-1")
	return v, fmt.Sprintf("/api/v3/sources/user_connections/oauth/%d/", id)
}

func benchGet(b *testing.B, v *env, path, key string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		v.Echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkRetrieve is one connection retrieve through the real router:
// authentication, request validation, store, response validation.
func BenchmarkRetrieve(b *testing.B) {
	for _, mode := range []server.ResponseValidation{server.ResponseEnforce, server.ResponseOff} {
		b.Run("response-validation="+string(mode), func(b *testing.B) {
			v, path := benchEnv(b, mode)
			benchGet(b, v, path, aliceKey)
		})
	}
}

// BenchmarkList is a list of 100 connections (superuser, default order).
func BenchmarkList(b *testing.B) {
	v := newEnv(b)
	for i := 0; i < 100; i++ {
		src := v.createSource(fmt.Sprintf("s%d", i))
		v.createConnection(aliceKey, src, fmt.Sprintf("id-%d", i))
	}
	benchGet(b, v, "/api/v3/sources/user_connections/oauth/?page_size=100", adminKey)
}

// BenchmarkSerializeConnectionList is the JSON encoding of a 100-item page.
func BenchmarkSerializeConnectionList(b *testing.B) {
	v := newEnv(b)
	for i := 0; i < 100; i++ {
		src := v.createSource(fmt.Sprintf("s%d", i))
		v.createConnection(aliceKey, src, fmt.Sprintf("id-%d", i))
	}
	r := v.do(http.MethodGet, "/sources/user_connections/oauth/?page_size=100", adminKey, nil)
	var page any
	if err := json.Unmarshal([]byte(r.Body), &page); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(page); err != nil {
			b.Fatal(err)
		}
	}
}
