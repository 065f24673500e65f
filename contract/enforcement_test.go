package contract_test

import (
	"net/http"
	"strings"
	"testing"

	"akconn/testenv"
)

// TestBrokenResponsesNeverLeave corrupts stored data so that responses
// would break the contract, and expects the server's response validator
// to replace each by a 500 GenericError and log it.
func TestBrokenResponsesNeverLeave(t *testing.T) {
	forEachMount(t, testBrokenResponsesNeverLeave)
}

func testBrokenResponsesNeverLeave(t *testing.T, m *mount) {
	env := newEnv(t)
	f := &fixture{t: t, env: env, m: m}
	conn := f.connection(testenv.AliceKey)
	// With its version bumped, as every write of a source does: the store's
	// cache of sources is checked against it.
	if err := env.Store.DB().Exec("UPDATE oauth_sources SET policy_engine_mode = 'bogus', version = version + 1").Error; err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/sources/user_connections/oauth/" + conn + "/", "/sources/user_connections/oauth/", "/sources/oauth/"} {
		resp := env.Serve(m.request(t, http.MethodGet, path, testenv.AliceKey, nil))
		if resp.Status != http.StatusInternalServerError || strings.TrimSpace(string(resp.Body)) != `{"detail":"Internal server error."}` {
			t.Errorf("GET %s with a broken source: %d %s", path, resp.Status, resp.Body)
		}
		if strings.Contains(string(resp.Body), "bogus") {
			t.Errorf("GET %s: the broken value left the server", path)
		}
	}
	if n := strings.Count(env.Logs.String(), `"msg":"response breaks the spec"`); n != 3 {
		t.Errorf("%d error log lines for 3 broken responses", n)
	}
}
