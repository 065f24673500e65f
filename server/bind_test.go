package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"akconn/gen"
)

// testValidators are the request validators of openapi.yaml.
func testValidators(t testing.TB) map[string]*operationValidator {
	t.Helper()
	raw, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil || spec.Validate(context.Background()) != nil {
		t.Fatal("load spec", err)
	}
	validators, err := operationValidators(spec, ResponseOff, newBodyReader(DefaultBodyMemory, DefaultBodyLimit, DefaultBodyReadTimeout), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return validators
}

// asEncodingJSON is how a body the schema accepted was bound before it was
// decoded once: encoding/json into the handler's type, its type errors
// named by field.
func asEncodingJSON(raw []byte, dst any) error {
	err := json.Unmarshal(raw, dst)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		msg := "Invalid value."
		switch typeErr.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Int32:
			msg = "A valid integer is required."
		}
		return fieldError(typeErr.Field, msg)
	}
	return parseError(err.Error())
}

// bindBody gives a handler the value encoding/json would have decoded from
// the same body, and refuses what it would have refused, with the same
// answer: repeated members (the last wins, objects merge), null, numbers
// beyond int64 and float64, date-times Go's parser refuses, free-form JSON.
func TestBindAgreesWithEncodingJSON(t *testing.T) {
	validators := testValidators(t)
	const id = "0b6f8a55-2d5e-4c8e-9a39-3f1f0e7a5c11"
	for _, c := range []struct {
		op   string
		typ  any
		body string
	}{
		{"sources_user_connections_oauth_partial_update", gen.PatchedUserOAuthSourceConnectionRequest{},
			`{"source":"` + id + `","identifier":"a","access_token":null,"expires":"2030-01-01T00:00:00.5Z"}`},
		{"sources_user_connections_oauth_partial_update", gen.PatchedUserOAuthSourceConnectionRequest{},
			`{"source":"` + strings.ToUpper(id) + `","access_token":"x","access_token":null,"user":1,"user":2,"expires":"2030-01-01T00:00:00.5+02:00"}`},
		{"sources_user_connections_oauth_partial_update", gen.PatchedUserOAuthSourceConnectionRequest{}, `{"user":99999999999999999999}`},
		{"sources_user_connections_oauth_partial_update", gen.PatchedUserOAuthSourceConnectionRequest{}, `{"user":1e17,"identifier":"a"}`},
		{"sources_user_connections_oauth_partial_update", gen.PatchedUserOAuthSourceConnectionRequest{}, `{"user":1e17,"expires":"2030-01-01T00:00:00\u005a"}`},
		{"sources_user_connections_oauth_partial_update", gen.PatchedUserOAuthSourceConnectionRequest{}, `{"expires":"2030-06-30T23:59:60Z","user":1e17}`},
		{"core_users_partial_update", gen.PatchedUserRequest{}, `{"attributes":{"a":1,"b":[1.5,{"c":null}],"d":"\u00e9"},"groups":[],"last_login":null,"is_active":false}`},
		{"core_users_partial_update", gen.PatchedUserRequest{}, `{"attributes":{"a":1},"attributes":{"b":2},"groups":["` + id + `"]}`},
		{"core_users_partial_update", gen.PatchedUserRequest{}, `{"attributes":{"a":1},"attributes":{"a":1e400}}`},
		{"core_users_partial_update", gen.PatchedUserRequest{}, `{"attributes":{"a":[-1e400]},"last_login":"2020-01-01T00:00:00Z"}`},
		{"sources_oauth_partial_update", gen.PatchedOAuthSourceRequest{}, `{"oidc_jwks":{"k":"v"},"authentication_flow":null,"enrollment_flow":"` + id + `","icon":"https://x/%(theme)s.png"}`},
		{"sources_oauth_partial_update", gen.PatchedOAuthSourceRequest{}, `{"oidc_jwks":{"keys":[1,"a",true,{"k":2.5}]},"user_property_mappings":["` + id + `","` + id + `"],"pkce":"S256","promoted":true}`},
		{"sources_oauth_partial_update", gen.PatchedOAuthSourceRequest{}, `{"oidc_jwks":{"keys":[1e400]},"enabled":true,"policy_engine_mode":"all"}`},
		{"events_events_create", gen.EventRequest{}, `{"action":"custom_","app":"x","context":{"a":1.0},"user":{"pk":5},"brand":{"name":"s"},"client_ip":null,"expires":"2030-01-01T00:00:00Z"}`},
		{"events_events_partial_update", gen.PatchedEventRequest{}, `{"user":{},"context":{},"client_ip":"10.0.0.1","client_ip":null}`},
		{"core_tokens_partial_update", gen.PatchedTokenRequest{}, `{"expires":"2030-01-01T00:00:00Z","expiring":true,"intent":"api","managed":null,"user":3}`},
	} {
		v := validators[c.op]
		req := httptest.NewRequest(http.MethodPatch, "/", nil)
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		body, err := v.checkBody(req, []byte(c.body))
		if err != nil {
			t.Errorf("%s %s: refused by the validator: %v", c.op, c.body, err)
			continue
		}
		ctx := echo.New().NewContext(req, httptest.NewRecorder())
		ctx.Set(bodyKey, body)
		got, want := reflect.New(reflect.TypeOf(c.typ)), reflect.New(reflect.TypeOf(c.typ))
		gotErr, wantErr := bindBody(ctx, got.Interface()), asEncodingJSON([]byte(c.body), want.Interface())
		if !reflect.DeepEqual(gotErr, wantErr) {
			t.Errorf("%s %s: error %v, want %v", c.op, c.body, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Errorf("%s %s:\nbound  %#v\nwant   %#v", c.op, c.body, got.Elem(), want.Elem())
		}
	}
}
