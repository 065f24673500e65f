package server_test

// Harness of the fuzz targets in fuzz_test.go: one environment per target,
// the invariants every response must keep, and the restore between inputs.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"akconn/server"
	"akconn/store"
)

// Secrets stored during setup. They are long and arbitrary so that no
// mutation of the seeds produces them by chance: seeing one in a response
// means the server read it from storage and sent it.
const (
	fuzzAccessToken    = "fz-access-token-7c1e4b9a2d6f80354be1"
	fuzzConsumerSecret = "fz-consumer-secret-3a8d0f5e9b2c46171d"
)

// Fixed primary keys for the setup sources, so that seeds can name them.
const (
	fuzzVaultSourceID  = "5eed0000-0000-4000-8000-00000000000a"
	fuzzTargetSourceID = "5eed0000-0000-4000-8000-00000000000b"
)

const (
	fuzzVaultSlug      = "fz-vault"
	fuzzTargetSlug     = "fz-target"
	fuzzAliceTokenID   = "fz-alice-token"
	fuzzAdminTokenID   = "fz-admin-token"
	fuzzVictimUsername = "fz-victim"
)

// fuzzAllowed is every status any fuzzed request may answer.
var fuzzAllowed = map[int]bool{200: true, 201: true, 204: true, 400: true, 403: true, 404: true, 405: true, 413: true, 415: true}

var (
	fuzzStatusesOnce sync.Once
	fuzzStatuses     map[string]map[int]bool
	fuzzStatusesErr  error
)

// documentedStatuses maps "METHOD echo-route" (as gen registers it, e.g.
// "GET /api/v3/core/users/:id/") to the statuses openapi.yaml documents.
func documentedStatuses(t testing.TB) map[string]map[int]bool {
	t.Helper()
	fuzzStatusesOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(spec(t))
		if err != nil {
			fuzzStatusesErr = err
			return
		}
		fuzzStatuses = map[string]map[int]bool{}
		for path, item := range doc.Paths.Map() {
			route := server.BaseURL + path
			for strings.Contains(route, "{") {
				i := strings.Index(route, "{")
				j := strings.Index(route[i:], "}")
				route = route[:i] + ":" + route[i+1:i+j] + route[i+j+1:]
			}
			for method, op := range item.Operations() {
				codes := map[int]bool{}
				for code := range op.Responses.Map() {
					var n int
					if _, err := fmt.Sscanf(code, "%d", &n); err == nil {
						codes[n] = true
					}
				}
				fuzzStatuses[method+" "+route] = codes
			}
		}
	})
	if fuzzStatusesErr != nil {
		t.Fatalf("load spec: %v", fuzzStatusesErr)
	}
	return fuzzStatuses
}

// fuzzEnv is an env with the objects the fuzz targets aim at.
type fuzzEnv struct {
	*env
	statuses map[string]map[int]bool
	// secrets (stored values) and keys (API token keys) must never appear
	// in a response; view_key alone reveals keys.
	secrets, keys []string
	// Targets of the body fuzzer's updates.
	aliceConn, adminConn int64
	victim               int64
	// snapshot holds every row stored by the setup; restore puts it back.
	snapshot struct {
		users   []store.User
		sources []store.OAuthSource
		tokens  []store.Token
		conns   []store.Connection
	}
}

// newFuzzEnv builds the server and stores, besides admin, alice and bob:
//
//   - source fz-vault (consumer secret fuzzConsumerSecret), never updated;
//   - source fz-target (same secret), updated by the body fuzzer;
//   - connections of alice and bob to fz-vault and of admin to fz-target,
//     each with access token fuzzAccessToken (bob's is never updated);
//   - tokens fz-alice-token and fz-admin-token, updated by the body fuzzer;
//   - user fz-victim, updated by the body fuzzer.
func newFuzzEnv(f testing.TB) *fuzzEnv {
	f.Helper()
	v := newEnv(f)
	fe := &fuzzEnv{env: v, statuses: documentedStatuses(f)}
	db := v.Store.DB()

	for slug, id := range map[string]string{fuzzVaultSlug: fuzzVaultSourceID, fuzzTargetSlug: fuzzTargetSourceID} {
		r := v.do(http.MethodPost, "/sources/oauth/", adminKey, map[string]any{
			"name": "Source " + slug, "slug": slug, "provider_type": "github",
			"consumer_key": "key-" + slug, "consumer_secret": fuzzConsumerSecret,
		})
		expect(f, r, http.StatusCreated)
		if err := db.Model(&store.OAuthSource{}).Where("slug = ?", slug).Update("id", id).Error; err != nil {
			f.Fatalf("fix source pk: %v", err)
		}
	}
	conn := func(key, source, identifier string) int64 {
		r := v.do(http.MethodPost, "/sources/user_connections/oauth/", key, map[string]any{
			"source": source, "identifier": identifier, "access_token": fuzzAccessToken,
		})
		expect(f, r, http.StatusCreated)
		return int64(r.JSON(f)["pk"].(float64))
	}
	fe.aliceConn = conn(aliceKey, fuzzVaultSourceID, "fz-alice")
	conn(bobKey, fuzzVaultSourceID, "fz-bob")
	fe.adminConn = conn(adminKey, fuzzTargetSourceID, "fz-admin")

	fe.secrets = []string{fuzzAccessToken, fuzzConsumerSecret}
	fe.keys = []string{bobKey, aliceKey, adminKey}
	for identifier, owner := range map[string]*store.User{fuzzAliceTokenID: v.Alice, fuzzAdminTokenID: v.Admin} {
		t := &store.Token{Identifier: identifier, Key: store.NewKey(), Intent: store.IntentAPI, UserID: owner.ID, Description: "fuzz target"}
		if err := v.Store.CreateToken(f.Context(), t); err != nil {
			f.Fatalf("create token: %v", err)
		}
		fe.keys = append(fe.keys, t.Key)
	}

	victim := store.NewUser(fuzzVictimUsername, false)
	if err := v.Store.CreateUser(f.Context(), victim); err != nil {
		f.Fatalf("create user: %v", err)
	}
	fe.victim = victim.ID

	snap := &fe.snapshot
	for _, q := range []error{
		db.Order("id").Find(&snap.users).Error,
		db.Order("id").Find(&snap.sources).Error,
		db.Order("id").Find(&snap.tokens).Error,
		db.Order("id").Find(&snap.conns).Error,
	} {
		if q != nil {
			f.Fatalf("snapshot: %v", q)
		}
	}
	return fe
}

// restore puts every table back to the rows the setup stored.
func (fe *fuzzEnv) restore(t testing.TB) {
	snap := &fe.snapshot
	err := fe.Store.DB().Transaction(func(tx *gorm.DB) error {
		for _, table := range []string{"connections", "tokens", "oauth_sources", "users"} {
			if err := tx.Exec("DELETE FROM " + table).Error; err != nil {
				return err
			}
		}
		for _, rows := range []any{&snap.users, &snap.sources, &snap.tokens, &snap.conns} {
			if err := tx.Omit(clause.Associations).Create(rows).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Errorf, not Fatalf: restore runs deferred, maybe after a Fatalf.
		t.Errorf("restore setup state: %v", err)
	}
}

// changed says whether a request may have written to the database.
func changed(r fuzzResult) bool {
	return r.method != http.MethodGet && (r.status < 400 || r.status >= 500)
}

func (fe *fuzzEnv) resetLogs() {
	fe.Logs.Reset()
}

// fuzzResult is one finished request.
type fuzzResult struct {
	method, target, route string
	status                int
	header                http.Header
	body                  string
}

// send serves one request through the real router. target is the URL after
// /api/v3, query included. ok is false when Go cannot build the request.
func (fe *fuzzEnv) send(method, target, key string, body []byte) (res fuzzResult, ok bool) {
	var req *http.Request
	var err error
	if body == nil {
		req, err = http.NewRequest(method, "http://akconn.test"+server.BaseURL+target, nil)
	} else {
		req, err = http.NewRequest(method, "http://akconn.test"+server.BaseURL+target, bytes.NewReader(body))
	}
	if err != nil {
		return res, false
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	// The route echo picks, found the way ServeHTTP finds it.
	c := fe.Echo.NewContext(req, nil)
	fe.Echo.Router().Find(req.Method, echo.GetPath(req), c)
	route := c.Path()

	fe.resetLogs()
	rec := httptest.NewRecorder()
	fe.Echo.ServeHTTP(rec, req)
	return fuzzResult{method: method, target: target, route: route, status: rec.Code, header: rec.Header(), body: rec.Body.String()}, true
}

// check asserts the invariants on r. input is what the fuzzer chose (body,
// query or segment): a secret it holds itself may be echoed back.
func (fe *fuzzEnv) check(t *testing.T, r fuzzResult, input string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		body := r.body
		if len(body) > 2000 {
			body = body[:2000] + "...(truncated)"
		}
		t.Fatalf("%s %q (route %s): %s\nstatus %d\nbody: %s\nserver log:\n%s",
			r.method, r.target, r.route, fmt.Sprintf(format, args...), r.status, body, fe.Logs.String())
	}
	if r.status >= 500 {
		fail("server error")
	}
	if !fuzzAllowed[r.status] {
		fail("status outside the allowed set")
	}
	if documented, known := fe.statuses[r.method+" "+r.route]; known {
		if !documented[r.status] {
			fail("status not documented for the operation")
		}
	} else if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
		fail("no operation matched, yet the status is neither 404 nor 405")
	}

	switch {
	case r.status == http.StatusNoContent:
		if r.body != "" {
			fail("204 with a body")
		}
	case r.status >= 400:
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			fail("error with Content-Type %q", ct)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(r.body), &obj); err != nil || obj == nil {
			fail("error body is not a JSON object (%v)", err)
		}
		if detail, has := obj["detail"]; has || r.status != http.StatusBadRequest {
			if _, isString := detail.(string); !isString {
				fail("GenericError without a string detail")
			}
			if code, has := obj["code"]; has {
				if _, isString := code.(string); !isString {
					fail("GenericError code is not a string")
				}
			}
			break
		}
		if len(obj) == 0 {
			fail("empty ValidationError")
		}
		for field, val := range obj {
			msgs, isList := val.([]any)
			if !isList || len(msgs) == 0 {
				fail("ValidationError field %q is not a non-empty list", field)
			}
			for _, m := range msgs {
				if _, isString := m.(string); !isString {
					fail("ValidationError field %q holds a non-string message", field)
				}
			}
		}
	default:
		if !json.Valid([]byte(r.body)) {
			fail("success body is not JSON")
		}
	}

	hidden := fe.secrets
	if !strings.HasSuffix(r.route, "/view_key/") {
		hidden = append(hidden[:len(hidden):len(hidden)], fe.keys...)
	}
	decoded := input
	if u, err := url.QueryUnescape(input); err == nil {
		decoded = u
	}
	for _, s := range hidden {
		if strings.Contains(r.body, s) && !strings.Contains(input, s) && !strings.Contains(decoded, s) {
			fail("response leaks the stored secret %q", s)
		}
	}
}

// bodyOp is one operation that takes a JSON body.
type bodyOp struct {
	method string
	key    string
	path   func(fe *fuzzEnv) string
}
