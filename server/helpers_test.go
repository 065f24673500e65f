package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"akconn/server"
	"akconn/store"
	"akconn/testenv"
)

// spec returns openapi.yaml, the file main embeds.
func spec(t testing.TB) []byte { return testenv.Spec(t) }

// env is a server on a fresh database (testenv) with a superuser (Admin)
// and two ordinary users (Alice, Bob), each holding an API token named
// after them.
type env struct {
	*testenv.Env
}

const (
	adminKey = testenv.AdminKey
	aliceKey = testenv.AliceKey
	bobKey   = testenv.BobKey
)

func newEnv(t testing.TB) *env {
	return newEnvWith(t, server.ResponseEnforce)
}

// newEnvWith builds the shared test environment with the given response
// validation mode.
func newEnvWith(t testing.TB, mode server.ResponseValidation) *env {
	t.Helper()
	return &env{testenv.NewWith(t, mode)}
}

// response is a finished request, its body as text.
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
	v.T.Helper()
	return v.doWith(method, path, key, body, "application/json")
}

// doWith is do with a Content-Type of choice ("" sends none).
func (v *env) doWith(method, path, key string, body any, contentType string) response {
	v.T.Helper()
	req := testenv.NewRequest(v.T, method, path, key, body)
	if contentType != "application/json" {
		req.Header.Del("Content-Type")
		if body != nil && contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
	}
	r := v.Serve(req)
	return response{Status: r.Status, Body: string(r.Body), Header: r.Header}
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
	v.T.Helper()
	r := v.do(http.MethodPost, "/sources/oauth/", adminKey, map[string]any{
		"name": "Source " + slug, "slug": slug, "provider_type": "github",
		"consumer_key": "key-" + slug, "consumer_secret": "consumer-secret-" + slug,
	})
	expect(v.T, r, http.StatusCreated)
	return r.JSON(v.T)["pk"].(string)
}

// createConnection creates a connection as the holder of key.
func (v *env) createConnection(key, sourcePK, identifier string) int {
	v.T.Helper()
	r := v.do(http.MethodPost, "/sources/user_connections/oauth/", key, map[string]any{
		"source": sourcePK, "identifier": identifier, "access_token": "access-token-" + identifier,
	})
	expect(v.T, r, http.StatusCreated)
	return int(r.JSON(v.T)["pk"].(float64))
}

// storedConnection reads a connection straight from the database.
func (v *env) storedConnection(id int) (store.Connection, bool) {
	v.T.Helper()
	var c store.Connection
	err := v.Store.DB().Where("id = ?", id).Take(&c).Error
	return c, err == nil
}

// accessToken opens a stored connection's sealed access token ("" for none).
func (v *env) accessToken(c store.Connection) string {
	v.T.Helper()
	token, err := v.Store.AccessToken(&c)
	if err != nil {
		v.T.Fatalf("open access token: %v", err)
	}
	if token == nil {
		return ""
	}
	return *token
}

// consumerSecret opens a stored source's sealed consumer secret.
func (v *env) consumerSecret(src store.OAuthSource) string {
	v.T.Helper()
	secret, err := v.Store.ConsumerSecret(&src)
	if err != nil {
		v.T.Fatalf("open consumer secret: %v", err)
	}
	return secret
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
