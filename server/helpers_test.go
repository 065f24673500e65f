package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"akconn/server"
	"akconn/store"
	"akconn/testenv"
)

// spec returns openapi.yaml, the file main embeds.
func spec(t testing.TB) []byte { return testenv.Spec(t) }

// env is a server on a fresh database (testenv) with a superuser (admin) and two
// ordinary users (alice, bob), each holding an API token named after them.
type env struct {
	t     testing.TB
	e     *echo.Echo
	store *store.Store
	logs  *testenv.SyncBuffer
	admin *store.User
	alice *store.User
	bob   *store.User
	te    *testenv.Env
}

const (
	adminKey = testenv.AdminKey
	aliceKey = testenv.AliceKey
	bobKey   = testenv.BobKey
)

func newEnv(t testing.TB) *env {
	return newEnvWith(t, server.ResponseEnforce)
}

// newEnvWith builds the shared test environment (testenv) with the given
// response validation mode.
func newEnvWith(t testing.TB, mode server.ResponseValidation) *env {
	t.Helper()
	te := testenv.NewWith(t, mode)
	return &env{t: t, e: te.Echo, store: te.Store, logs: te.Logs, admin: te.Admin, alice: te.Alice, bob: te.Bob, te: te}
}

// addUser creates an ordinary user holding an API token with key.
func (v *env) addUser(name, key string) *store.User {
	v.t.Helper()
	return v.te.AddUser(name, key)
}

// response is a finished request.
type response struct {
	Status int
	Body   string
	Header http.Header
}

// JSON decodes the body into a generic value.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// do sends a request through the real router. body may be nil, a string
// (sent as is) or any value (sent as JSON).
func (v *env) do(method, path, key string, body any) response {
	v.t.Helper()
	return v.doWith(method, path, key, body, "application/json")
}

func (v *env) doWith(method, path, key string, body any, contentType string) response {
	v.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			v.t.Fatalf("marshal body: %v", err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, "/api/v3"+path, r)
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return response{Status: rec.Code, Body: rec.Body.String(), Header: rec.Header()}
}

// expect fails the test unless the response has status.
func expect(t testing.TB, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
}

// createSource creates an OAuth source as admin and returns its pk.
func (v *env) createSource(slug string) string {
	v.t.Helper()
	r := v.do(http.MethodPost, "/sources/oauth/", adminKey, map[string]any{
		"name": "Source " + slug, "slug": slug, "provider_type": "github",
		"consumer_key": "key-" + slug, "consumer_secret": "consumer-secret-" + slug,
	})
	expect(v.t, r, http.StatusCreated)
	return r.JSON(v.t)["pk"].(string)
}

// createConnection creates a connection as the holder of key.
func (v *env) createConnection(key, sourcePK, identifier string) int {
	v.t.Helper()
	r := v.do(http.MethodPost, "/sources/user_connections/oauth/", key, map[string]any{
		"source": sourcePK, "identifier": identifier, "access_token": "access-token-" + identifier,
	})
	expect(v.t, r, http.StatusCreated)
	return int(r.JSON(v.t)["pk"].(float64))
}

// storedConnection reads a connection straight from the database.
func (v *env) storedConnection(id int) (store.Connection, bool) {
	v.t.Helper()
	var c store.Connection
	err := v.store.DB().Where("id = ?", id).Take(&c).Error
	return c, err == nil
}

func countRows(t testing.TB, st *store.Store, model any) int64 {
	t.Helper()
	var n int64
	if err := st.DB().Model(model).Count(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

var connectionModel = &store.Connection{}
