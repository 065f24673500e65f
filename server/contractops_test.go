package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"akconn/server"
	"akconn/testenv"
)

// ownOpVersion is a test-only contract: openapi.yaml plus an operation
// the current contract does not have (as per_month is 2024.8's alone once
// /api/v3/ speaks 2026.8), served by the contract's own handler.
const ownOpVersion = "2099.2"

// specWithOwnOperation is openapi.yaml plus GET /test/ping/
// (test_ping_retrieve), answered as users/me is but for its 200: {"pong"}.
func specWithOwnOperation(t *testing.T) []byte {
	doc, err := openapi3.NewLoader().LoadFromData(testenv.Spec(t))
	if err != nil {
		t.Fatal(err)
	}
	doc.Info.Version = ownOpVersion + ".0-test"
	me := doc.Paths.Find("/core/users/me/").Get
	op := *me
	op.OperationID = "test_ping_retrieve"
	op.Responses = openapi3.NewResponses()
	for status, r := range me.Responses.Map() {
		op.Responses.Set(status, r)
	}
	pong := openapi3.NewObjectSchema().WithProperty("pong", openapi3.NewStringSchema()).WithRequired([]string{"pong"})
	op.Responses.Set("200", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("pong").WithJSONSchema(pong)})
	doc.Paths.Set("/test/ping/", &openapi3.PathItem{Get: &op})
	raw, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// An operation only an older contract has is served on that contract's
// mount by the contract's own handler, behind the mount's authentication
// and response validation, and nowhere else; a contract with such an
// operation and no handler for it, or a handler for an operation the
// current contract serves, is refused at start.
func TestContractServesItsOwnOperations(t *testing.T) {
	answer := map[string]any{"pong": "yes"}
	ping := func(_ *server.Server, c echo.Context) error { return c.JSON(http.StatusOK, answer) }
	contract := server.Contract{Version: ownOpVersion, Spec: specWithOwnOperation(t),
		Operations: map[string]server.OperationHandler{"test_ping_retrieve": ping}}
	e := testenv.NewWithConfig(t, server.Config{Contracts: append([]server.Contract{contract}, server.Registry...)})
	get := func(base, key string) testenv.Response {
		return e.Serve(at(testenv.NewRequest(t, http.MethodGet, "/test/ping/", key, nil), base))
	}
	if r := get(server.CompatBase(ownOpVersion), testenv.AliceKey); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"pong":"yes"`) {
		t.Fatalf("the contract's own operation on its mount: %d %s", r.Status, r.Body)
	}
	if r := get(server.CompatBase(ownOpVersion), ""); r.Status != http.StatusForbidden {
		t.Fatalf("without credentials: %d %s, want 403 as for every operation", r.Status, r.Body)
	}
	for _, base := range []string{server.BaseURL, server.CompatBase("2024.8")} {
		if r := get(base, testenv.AliceKey); r.Status != http.StatusNotFound {
			t.Fatalf("the operation on %s, whose contract lacks it: %d %s", base, r.Status, r.Body)
		}
	}
	answer = map[string]any{"pong": 1} // not what the contract says
	if r := get(server.CompatBase(ownOpVersion), testenv.AliceKey); r.Status != http.StatusInternalServerError {
		t.Fatalf("an answer its contract refuses: %d %s, want the response validator's 500", r.Status, r.Body)
	}

	for name, c := range map[string]server.Contract{
		"no handler":              {Version: ownOpVersion, Spec: contract.Spec},
		"a handler for a current": {Version: ownOpVersion, Spec: contract.Spec, Operations: map[string]server.OperationHandler{"test_ping_retrieve": ping, "core_users_me_retrieve": ping}},
	} {
		if _, err := server.New(server.Config{Store: testenv.OpenStore(t), Spec: testenv.Spec(t), Contracts: []server.Contract{c}}); err == nil {
			t.Errorf("%s: the contract was served", name)
		}
	}
}
