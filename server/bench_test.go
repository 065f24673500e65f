package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"akconn/server"
	"akconn/testenv"
)

// benchEnv is an environment with one source and one connection of alice,
// /api/v3/ speaking the current contract.
func benchEnv(b *testing.B, mode server.ResponseValidation) (*env, string) {
	v := &env{testenv.NewWithConfig(b, server.Config{ResponseValidation: mode, AuthCacheTTL: testenv.DefaultAuthCacheTTL,
		APIVersion: server.CurrentVersion})}
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

// BenchmarkRetrieveCompat is BenchmarkRetrieve through the 2024.8
// contract's mount: its validators and the version change's response
// rewrite.
func BenchmarkRetrieveCompat(b *testing.B) {
	v, path := benchEnv(b, server.ResponseEnforce)
	benchGet(b, v, compat2024+path[len(server.BaseURL):], aliceKey)
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

// BenchmarkCreate is a create through the real router: authentication,
// request validation, the body bound to its type, the store's write and
// response validation. connection is a small body; user-attributes a user
// with 50 free-form attributes (about 2 KB), where reading the body costs
// the most.
func BenchmarkCreate(b *testing.B) {
	attrs := map[string]any{}
	for i := 0; i < 50; i++ {
		attrs[fmt.Sprintf("key-%d", i)] = map[string]any{"n": i, "s": fmt.Sprintf("value %d", i), "l": []any{true, nil, 1.5}}
	}
	for _, c := range []struct {
		name, path, key string
		body            func(src string, i int) any
	}{
		{"connection", connections, aliceKey, func(src string, i int) any {
			return map[string]any{"source": src, "identifier": fmt.Sprintf("gh-%d", i), "access_token": "gho_0123456789abcdef", "expires": "2030-01-01T00:00:00Z"}
		}},
		{"user-attributes", "/core/users/", adminKey, func(_ string, i int) any {
			return map[string]any{"username": fmt.Sprintf("user-%d", i), "name": "User", "email": "user@example.com", "attributes": attrs}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			v := newEnv(b)
			bodies := make([][]byte, b.N)
			for i := range bodies {
				src := "" // a connection's user and source make a unique set
				if c.path == connections {
					src = v.createSource(fmt.Sprintf("s%d", i))
				}
				bodies[i], _ = json.Marshal(c.body(src, i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, server.BaseURL+c.path, bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.key)
				rec := httptest.NewRecorder()
				v.Echo.ServeHTTP(rec, req)
				if rec.Code != http.StatusCreated {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
