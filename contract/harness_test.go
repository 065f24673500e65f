package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"akconn/server"
	"akconn/testenv"
)

// mount is one base path the server serves a contract at, with the spec
// it serves there, which the suite loads and checks its answers against.
type mount struct {
	name    string // of its subtests: "api" (BaseURL) or "compat-VERSION"
	base    string
	version string // of the contract it speaks: "2026.8"
	schema  []byte // as the suite loaded it, to compare with the served one
	ops     map[string]*operation
}

// operation is one operation of a mount's spec.
type operation struct {
	ID     string
	Method string
	Path   string // template, relative to the mount: /core/users/{id}/
	mount  *mount
	route  *routers.Route
}

var (
	loadOnce sync.Once
	mounts   []*mount
	loadErr  error
)

// apiVersion is the contract /api/v3/ speaks in the suite's servers
// (newEnv) and in the mounts it plans (loadMounts): one value for both, so
// that the spec the suite checks /api/v3/ against is the one served there.
// It is testenv's default, 2024.8, as `--api-version 2024.8` runs; the
// current contract is served, with the same handlers and changes, at
// /compat/2026.8/api/v3/ ("compat-2026.8"), so each contract is covered
// on at least one mount whatever this says (TestEveryContractHasAMount).
const apiVersion = testenv.DefaultAPIVersion

// newEnv builds the suite's server: response validation enforced, the
// production token cache, /api/v3/ speaking apiVersion.
func newEnv(t testing.TB) *testenv.Env {
	t.Helper()
	return testenv.NewWithConfig(t, server.Config{ResponseValidation: server.ResponseEnforce,
		AuthCacheTTL: testenv.DefaultAuthCacheTTL, APIVersion: apiVersion})
}

// allMounts lists every mount of the server newEnv builds (openapi.yaml
// and server.Registry, as server.Mounts plans them), each with its spec
// loaded once by the suite, independently of the server's validators. A
// contract added to the registry is covered with no change here.
func allMounts(t testing.TB) []*mount {
	t.Helper()
	if err := loadMounts(); err != nil {
		t.Fatal(err)
	}
	return mounts
}

// loadMounts fills mounts, once.
func loadMounts() error {
	loadOnce.Do(func() {
		spec, err := os.ReadFile(testenv.SpecPath())
		if err != nil {
			loadErr = err
			return
		}
		served, err := server.Mounts(spec, server.Registry, apiVersion)
		if err != nil {
			loadErr = err
			return
		}
		for _, sm := range served {
			d, err := openapi3.NewLoader().LoadFromData(sm.Schema)
			if err != nil {
				loadErr = fmt.Errorf("spec of %s: %w", sm.Base, err)
				return
			}
			m := &mount{name: "compat-" + sm.Version, base: sm.Base, version: sm.Version, schema: sm.Schema, ops: map[string]*operation{}}
			if sm.Base == server.BaseURL {
				m.name = "api"
			}
			for path, item := range d.Paths.Map() {
				for method, op := range item.Operations() {
					m.ops[op.OperationID] = &operation{ID: op.OperationID, Method: method, Path: path, mount: m,
						route: &routers.Route{Spec: d, Path: path, PathItem: item, Method: method, Operation: op}}
				}
			}
			mounts = append(mounts, m)
		}
	})
	return loadErr
}

// forEachMount runs f as a subtest on every mount.
func forEachMount(t *testing.T, f func(t *testing.T, m *mount)) {
	for _, m := range allMounts(t) {
		t.Run(m.name, func(t *testing.T) { f(t, m) })
	}
}

// request builds a request to path, relative to the mount.
func (m *mount) request(t testing.TB, method, path, key string, body any) *http.Request {
	t.Helper()
	return testenv.NewRequestAt(t, m.base, method, path, key, body)
}

func sortedIDs(m map[string]*operation) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// requestSchema is the JSON body schema of op, or nil.
func (op *operation) requestSchema() *openapi3.Schema {
	rb := op.route.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	mt := rb.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// responseSchema is the JSON body schema of op's answer with status.
func (op *operation) responseSchema(status int) *openapi3.Schema {
	return op.route.Operation.Responses.Status(status).Value.Content.Get("application/json").Schema.Value
}

// unwrapped is s, or the one schema of its allOf.
func unwrapped(s *openapi3.Schema) *openapi3.Schema {
	if len(s.AllOf) == 1 && s.AllOf[0].Value != nil {
		return s.AllOf[0].Value
	}
	return s
}

// url fills the path template with params and adds the query.
func (op *operation) url(params map[string]string, query string) string {
	p := op.Path
	for k, v := range params {
		p = strings.ReplaceAll(p, "{"+k+"}", v)
	}
	if query != "" {
		p += "?" + query
	}
	return p
}

var uuidRE = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

// validation is the suite's own response check, independent of the
// server's validator, so that removing that validator cannot hide a
// broken response.
var validation = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidRE)),
		openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(`^$|`+openapi3.FormatOfStringForEmail)),
	},
}

// coverage records the statuses each operation answered on each mount
// during the run (mount name → operationId → status → count).
var coverage = struct {
	sync.Mutex
	seen map[string]map[string]map[int]int
}{seen: map[string]map[string]map[int]int{}}

func record(op *operation, status int) {
	coverage.Lock()
	defer coverage.Unlock()
	byOp := coverage.seen[op.mount.name]
	if byOp == nil {
		byOp = map[string]map[int]int{}
		coverage.seen[op.mount.name] = byOp
	}
	if byOp[op.ID] == nil {
		byOp[op.ID] = map[int]int{}
	}
	byOp[op.ID][status]++
}

// secretKeys are body keys that must never appear in a response (the
// token key only in view_key).
var secretKeys = []string{"access_token", "consumer_secret"}

// call sends a request for op and checks the answer against the contract:
// never a 5xx, a documented status, a body valid for that status, and no
// write-only or secret field. It returns the response for further checks.
func call(t testing.TB, env *testenv.Env, op *operation, params map[string]string, query, key string, req *http.Request) testenv.Response {
	t.Helper()
	if req == nil {
		t.Fatalf("%s: no request", op.ID)
	}
	resp := env.Serve(req)
	record(op, resp.Status)
	if resp.Status >= 500 {
		t.Fatalf("%s %s: %d %s", op.Method, req.URL, resp.Status, resp.Body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: op.route, Options: validation},
		Status:                 resp.Status,
		Header:                 resp.Header,
		Options:                validation,
	}
	in.SetBodyBytes(resp.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s: response breaks the contract: %v\nbody: %s", op.Method, req.URL, err, resp.Body)
	}
	if len(resp.Body) > 0 && resp.Status < 400 { // an error may name a write-only field, never its value
		var body any
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			t.Fatalf("%s: body is not JSON: %s", op.ID, resp.Body)
		}
		forbidden := secretKeys
		if op.ID != "core_tokens_view_key_retrieve" {
			forbidden = append(forbidden, "key")
		}
		if k := findKey(body, forbidden); k != "" {
			t.Fatalf("%s: response carries %q: %s", op.ID, k, resp.Body)
		}
	}
	for _, secret := range []string{testenv.BobKey, testenv.AliceKey, testenv.AdminKey, "contract-access-token", "contract-consumer-secret"} {
		if strings.Contains(string(resp.Body), secret) {
			t.Fatalf("%s: response carries a secret", op.ID)
		}
	}
	if resp.Status >= 400 {
		checkErrorShape(t, op, resp)
	}
	return resp
}

// checkErrorShape asserts authentik's error shapes: {"detail": "..."} or a
// ValidationError whose fields each hold a list of messages, or, for the
// items of a list (Django REST framework's ListField), an object of such
// lists by item index: {"count_steps": {"0": ["…"]}}.
func checkErrorShape(t testing.TB, op *operation, resp testenv.Response) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil || len(m) == 0 {
		t.Fatalf("%s: %d error body is not a JSON object: %s", op.ID, resp.Status, resp.Body)
	}
	if d, ok := m["detail"].(string); ok && d != "" {
		return
	}
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("%s: %d without a detail: %s", op.ID, resp.Status, resp.Body)
	}
	for field, v := range m {
		if items, ok := v.(map[string]any); ok && len(items) > 0 {
			for index, v := range items {
				if _, err := strconv.Atoi(index); err != nil {
					t.Fatalf("%s: field %q holds errors by %q, not by item index: %s", op.ID, field, index, resp.Body)
				}
				checkMessages(t, op, field+"."+index, v, resp)
			}
			continue
		}
		checkMessages(t, op, field, v, resp)
	}
}

// checkMessages asserts that v, the errors of field, is a list of
// messages, none raw.
func checkMessages(t testing.TB, op *operation, field string, v any, resp testenv.Response) {
	t.Helper()
	msgs, ok := v.([]any)
	if !ok || len(msgs) == 0 {
		t.Fatalf("%s: field %q does not hold a list of messages: %s", op.ID, field, resp.Body)
	}
	for _, msg := range msgs {
		if s, ok := msg.(string); !ok || s == "" || strings.Contains(s, "kin-openapi") || strings.Contains(s, "schema") {
			t.Fatalf("%s: field %q has a raw message: %s", op.ID, field, resp.Body)
		}
	}
}

// findKey returns the first of keys present anywhere in v.
func findKey(v any, keys []string) string {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range keys {
			if _, ok := x[k]; ok {
				return k
			}
		}
		for _, c := range x {
			if k := findKey(c, keys); k != "" {
				return k
			}
		}
	case []any:
		for _, c := range x {
			if k := findKey(c, keys); k != "" {
				return k
			}
		}
	}
	return ""
}

// fieldsOf lists the field names of a 400 ValidationError.
func fieldsOf(t testing.TB, resp testenv.Response) []string {
	t.Helper()
	var m map[string]any
	_ = json.Unmarshal(resp.Body, &m)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func describe(op *operation) string {
	return fmt.Sprintf("%s (%s %s%s)", op.ID, op.Method, op.mount.base, op.Path)
}
