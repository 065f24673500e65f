package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"akconn/server"
	"akconn/testenv"
)

// corruptSource stores a value the spec forbids, so that the next response
// carrying it breaks the contract. It bumps the source's version, as every
// write of a source does (the store's cache of sources is checked against
// it).
func corruptSource(t *testing.T, v *env, slug string) {
	t.Helper()
	if err := v.Store.DB().Exec("UPDATE oauth_sources SET policy_engine_mode = 'bogus', version = version + 1 WHERE slug = ?", slug).Error; err != nil {
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
	if !strings.Contains(v.Logs.String(), `"msg":"response breaks the spec"`) || !strings.Contains(v.Logs.String(), `"level":"ERROR"`) {
		t.Fatalf("no error log line: %s", v.Logs.String())
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
			if got := strings.Contains(v.Logs.String(), "response breaks the spec"); got != logged {
				t.Fatalf("logged=%v, want %v: %s", got, logged, v.Logs.String())
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
	v := &env{testenv.NewCurrent(t)}
	for _, path := range []string{"/-/health/live/", "/-/health/ready/"} {
		rec := httptest.NewRecorder()
		v.Echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNoContent {
			t.Fatalf("%s: %d", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	v.Echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v3/schema/", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(spec(t)) {
		t.Fatalf("schema: %d", rec.Code)
	}
	_ = v.Store.Close()
	rec = httptest.NewRecorder()
	v.Echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/health/ready/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("ready with a closed database: %d", rec.Code)
	}
}

func TestOneLogLinePerRequest(t *testing.T) {
	v := newEnv(t)
	v.do(http.MethodGet, connections, aliceKey, nil)
	v.do(http.MethodGet, connections, "", nil)
	lines := strings.Count(v.Logs.String(), `"msg":"request"`)
	if lines != 2 {
		t.Fatalf("%d request lines: %s", lines, v.Logs.String())
	}
	if !strings.Contains(v.Logs.String(), `"status":403`) || !strings.Contains(v.Logs.String(), fmt.Sprintf(`"user":%d`, v.Alice.ID)) {
		t.Fatalf("log: %s", v.Logs.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(v.Logs.String(), "\n", 2)[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"time", "level", "msg", "method", "path", "route", "status", "duration_ms", "request_id", "user"} {
		if _, ok := first[key]; !ok {
			t.Errorf("the request line lacks %q: %v", key, first)
		}
	}
	if when, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(first["time"])); time.Since(when) > time.Minute || first["level"] != "INFO" {
		t.Errorf("the request line's time and level: %v %v", first["time"], first["level"])
	}
}

// A client that disconnects mid-request is not a server error: its request
// is logged once, at info, with status 499, and nothing at ERROR. A
// server-side deadline stays a logged 500.
func TestClientGoneIsNotAServerError(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	v.createConnection(aliceKey, src, "gh-1")
	expect(t, v.do(http.MethodGet, connections, adminKey, nil), http.StatusOK) // the token is now cached
	v.Logs.Reset()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := testenv.NewRequest(t, http.MethodGet, "/sources/user_connections/oauth/", adminKey, nil).WithContext(ctx)
	if r := v.Serve(req); r.Status != server.StatusClientClosedRequest || len(r.Body) != 0 {
		t.Fatalf("cancelled list: %d %s", r.Status, r.Body)
	}
	logs := v.Logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) || strings.Contains(logs, `"status":500`) {
		t.Fatalf("a client that went away was logged as a server error:\n%s", logs)
	}
	if strings.Count(logs, "\n") != 1 || !strings.Contains(logs, `"level":"INFO"`) || !strings.Contains(logs, `"status":499`) {
		t.Fatalf("want one info line with status 499:\n%s", logs)
	}

	v.Logs.Reset()
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	req = testenv.NewRequest(t, http.MethodGet, "/sources/user_connections/oauth/", adminKey, nil).WithContext(ctx)
	if r := v.Serve(req); r.Status != http.StatusInternalServerError {
		t.Fatalf("list past its deadline: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(v.Logs.String(), `"level":"ERROR"`) {
		t.Fatalf("a server timeout was not logged as an error:\n%s", v.Logs.String())
	}
}
