package server_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"akconn/server"
)

// A body the schema accepts but whose value does not fit its field's type
// is refused as it always was: an integer beyond int64, a number beyond
// float64 in free-form JSON, a date-time Go's RFC 3339 parser refuses
// (a leap second, an escaped character). Free-form numbers are kept as
// float64, and a PATCH without a body changes nothing.
func TestBodyValuesThatDoNotFitTheirType(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	conn := v.createConnection(aliceKey, src, "gh-1")
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{http.MethodPost, connections, `{"source":"` + src + `","identifier":"a","user":99999999999999999999}`, 400,
			`{"user":["A valid integer is required."]}`},
		{http.MethodPost, connections, `{"source":"` + src + `","identifier":"a","user":1e17}`, 400,
			`{"user":["A valid integer is required."]}`},
		{http.MethodPost, "/core/tokens/", `{"identifier":"t1","expires":"2030-06-30T23:59:60Z"}`, 400,
			`{"detail":"JSON parse error - parsing time \"2030-06-30T23:59:60Z\": second out of range"}`},
		{http.MethodPost, "/core/tokens/", `{"identifier":"t1","user":1e17,"expires":"2030-01-01T00:00:00\u005a"}`, 400,
			`{"detail":"JSON parse error - parsing time \"2030-01-01T00:00:00\\\\u005a\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\\\\u005a\" as \"Z07:00\""}`},
		{http.MethodPatch, fmt.Sprintf("%s%d/", connections, conn), `{"expires":"2030-06-30T23:59:60Z"}`, 400,
			`{"detail":"JSON parse error - parsing time \"2030-06-30T23:59:60Z\": second out of range"}`},
		{http.MethodPost, "/core/users/", `{"username":"u1","name":"U","attributes":{"a":1e400}}`, 400,
			`{"attributes":["Invalid value."]}`},
		{http.MethodPost, "/sources/oauth/", `{"name":"N","slug":"s1","provider_type":"github","consumer_key":"k","consumer_secret":"s","oidc_jwks":{"keys":[1e400]}}`, 400,
			`{"oidc_jwks":["Invalid value."]}`},
		{http.MethodPost, "/events/events/", `{"action":"custom_","app":"x","context":{"a":[-1e999]}}`, 400,
			`{"context":["Invalid value."]}`},
	} {
		r := v.do(c.method, c.path, adminKey, c.body)
		if r.Status != c.status || r.Body != c.want+"\n" {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.method, c.path, c.body, r.Status, r.Body, c.status, c.want)
		}
	}

	r := v.do(http.MethodPost, "/core/users/", adminKey, `{"username":"u2","name":"U","attributes":{"a":1.0,"b":1.50,"c":-0,"d":1E2,"e":[2.50e0]}}`)
	expect(t, r, http.StatusCreated)
	if got := fmt.Sprint(r.JSON(t)["attributes"]); got != "map[a:1 b:1.5 c:-0 d:100 e:[2.5]]" {
		t.Errorf("attributes: %s", got)
	}

	before := v.do(http.MethodGet, fmt.Sprintf("%s%d/", connections, conn), aliceKey, nil)
	r = v.do(http.MethodPatch, fmt.Sprintf("%s%d/", connections, conn), aliceKey, "")
	expect(t, r, http.StatusOK)
	if r.JSON(t)["identifier"] != "gh-1" || r.JSON(t)["last_updated"] == nil || before.JSON(t)["expires"] != r.JSON(t)["expires"] {
		t.Errorf("PATCH without a body: %s", r.Body)
	}
}

// Each request body is decoded once, by the request validator: not again
// by kin-openapi (counted by its JSON body decoder) nor by the handler,
// which takes the decoded value. A body sent to an operation that takes
// none is not decoded at all.
func TestBodyDecodedOnce(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	conn := v.createConnection(aliceKey, src, "gh-1")
	const marker = "decode-once"
	decodes, stop := server.CountBodyDecodes(marker)
	defer stop()
	kinDecodes := 0
	openapi3filter.RegisterBodyDecoder("application/json", func(r io.Reader, h http.Header, s *openapi3.SchemaRef, enc openapi3filter.EncodingFn) (any, error) {
		kinDecodes++
		return openapi3filter.JSONBodyDecoder(r, h, s, enc)
	})
	defer openapi3filter.RegisterBodyDecoder("application/json", openapi3filter.JSONBodyDecoder)

	source := map[string]any{"name": marker, "slug": "corp", "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"}
	user := map[string]any{"username": marker, "name": marker, "attributes": map[string]any{"k": []any{1.5, nil}}}
	for i, c := range []struct {
		method, path, key string
		body              any
		status            int
	}{
		{http.MethodPost, "/sources/oauth/", adminKey, source, http.StatusCreated},
		{http.MethodPut, "/sources/oauth/corp/", adminKey, source, http.StatusOK},
		{http.MethodPatch, "/sources/oauth/corp/", adminKey, map[string]any{"name": marker + "-2"}, http.StatusOK},
		{http.MethodPost, connections, bobKey, map[string]any{"source": src, "identifier": marker, "expires": "2030-01-01T00:00:00Z"}, http.StatusCreated},
		{http.MethodPut, fmt.Sprintf("%s%d/", connections, conn), aliceKey, map[string]any{"identifier": marker + "-alice"}, http.StatusOK},
		{http.MethodPatch, fmt.Sprintf("%s%d/", connections, conn), aliceKey, map[string]any{"access_token": marker}, http.StatusOK},
		{http.MethodPost, "/core/users/", adminKey, user, http.StatusCreated},
		{http.MethodPatch, fmt.Sprintf("/core/users/%d/", v.Bob.ID), adminKey, map[string]any{"name": marker}, http.StatusOK},
		{http.MethodPost, "/core/tokens/", aliceKey, map[string]any{"identifier": marker}, http.StatusCreated},
		{http.MethodPatch, "/core/tokens/" + marker + "/", aliceKey, map[string]any{"description": marker}, http.StatusOK},
		{http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "custom_", "app": marker}, http.StatusCreated},
		{http.MethodPost, connections, aliceKey, map[string]any{"identifier": marker, "user": 1e17}, http.StatusBadRequest},
	} {
		r := v.do(c.method, c.path, c.key, c.body)
		expect(t, r, c.status)
		if decodes() != i+1 || kinDecodes != 0 {
			t.Fatalf("%s %s: %d bodies decoded by the validator, %d by kin-openapi, after %d requests", c.method, c.path, decodes(), kinDecodes, i+1)
		}
	}
	before := decodes()
	expect(t, v.do(http.MethodGet, connections, aliceKey, `{"identifier":"`+marker+`"}`), http.StatusOK)
	if decodes() != before {
		t.Fatalf("the body of a GET was decoded")
	}
}
