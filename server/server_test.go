package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"akconn/server"
)

// corruptSource stores a value the spec forbids, so that the next response
// carrying it breaks the contract.
func corruptSource(t *testing.T, v *env, slug string) {
	t.Helper()
	if err := v.store.DB().Exec("UPDATE oauth_sources SET policy_engine_mode = 'bogus' WHERE slug = ?", slug).Error; err != nil {
		t.Fatal(err)
	}
}

func TestResponseValidationEnforce(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "gh-1")
	corruptSource(t, v, "github")
	r := v.do(http.MethodGet, fmt.Sprintf("%s%d/", connections, id), aliceKey, nil)
	expect(t, r, http.StatusInternalServerError)
	if strings.TrimSpace(r.Body) != `{"detail":"Internal server error."}` {
		t.Fatalf("body %s", r.Body)
	}
	if !strings.Contains(v.logs.String(), `"msg":"response breaks the spec"`) || !strings.Contains(v.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("no error log line: %s", v.logs.String())
	}
}

func TestResponseValidationLogAndOff(t *testing.T) {
	for mode, logged := range map[server.ResponseValidation]bool{server.ResponseLog: true, server.ResponseOff: false} {
		t.Run(string(mode), func(t *testing.T) {
			v := newEnvWith(t, mode)
			v.createSource("github")
			corruptSource(t, v, "github")
			r := v.do(http.MethodGet, sources+"github/", aliceKey, nil)
			expect(t, r, http.StatusOK)
			if r.JSON(t)["policy_engine_mode"] != "bogus" {
				t.Fatalf("body %s", r.Body)
			}
			if got := strings.Contains(v.logs.String(), "response breaks the spec"); got != logged {
				t.Fatalf("logged=%v, want %v: %s", got, logged, v.logs.String())
			}
		})
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	v := newEnv(t)
	r := v.do(http.MethodGet, "/nothing/here/", aliceKey, nil)
	expect(t, r, http.StatusNotFound)
	if r.JSON(t)["detail"] != "Not found." {
		t.Fatalf("body %s", r.Body)
	}
	r = v.do(http.MethodPost, connections+"1/", aliceKey, map[string]any{})
	expect(t, r, http.StatusMethodNotAllowed)
	if r.JSON(t)["detail"] != `Method "POST" not allowed.` {
		t.Fatalf("body %s", r.Body)
	}
}

func TestHealthAndSchema(t *testing.T) {
	v := newEnv(t)
	for _, path := range []string{"/-/health/live/", "/-/health/ready/"} {
		rec := httptest.NewRecorder()
		v.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNoContent {
			t.Fatalf("%s: %d", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v3/schema/", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(spec(t)) {
		t.Fatalf("schema: %d", rec.Code)
	}
	_ = v.store.Close()
	rec = httptest.NewRecorder()
	v.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/health/ready/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("ready with a closed database: %d", rec.Code)
	}
}

func TestOneLogLinePerRequest(t *testing.T) {
	v := newEnv(t)
	v.do(http.MethodGet, connections, aliceKey, nil)
	v.do(http.MethodGet, connections, "", nil)
	lines := strings.Count(v.logs.String(), `"msg":"request"`)
	if lines != 2 {
		t.Fatalf("%d request lines: %s", lines, v.logs.String())
	}
	if !strings.Contains(v.logs.String(), `"status":403`) || !strings.Contains(v.logs.String(), fmt.Sprintf(`"user":%d`, v.alice.ID)) {
		t.Fatalf("log: %s", v.logs.String())
	}
}
