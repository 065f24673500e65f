package server_test

import (
	"fmt"
	"net/http"
	"testing"
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
