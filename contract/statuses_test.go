package contract_test

import (
	"net/http"
	"net/url"
	"testing"

	"akconn/testenv"
)

// missing are path parameter values that name no object.
var missing = map[string]string{
	"id":         "2147480000",
	"slug":       "no-such-source",
	"identifier": "no-such-token",
	"event_uuid": "00000000-0000-4000-8000-000000000000",
}

// TestDocumentedStatuses asks every operation of every mount for the
// documented answers the other tests have no need of: 403 without
// credentials, 404 for an object that does not exist or a page past the
// end, 304 for a current If-None-Match and 412 for a stale If-Match. With
// the rest of the suite, it answers the coverage guard (TestMain).
func TestDocumentedStatuses(t *testing.T) {
	forEachMount(t, testDocumentedStatuses)
}

func testDocumentedStatuses(t *testing.T, m *mount) {
	env := newEnv(t)
	f := &fixture{t: t, env: env, m: m}
	for _, id := range sortedIDs(m.ops) {
		op, sc := m.ops[id], scenarios[id]
		if sc.prepare == nil {
			continue // reported by TestEveryOperationHasAScenario
		}
		documents := func(status int) bool { return op.route.Operation.Responses.Status(status) != nil }
		var body any
		if op.requestSchema() != nil {
			body = baseBody(f, op, sc)
		}
		// The query parameters op requires, valid, so that each answer is
		// for the one thing wrong.
		required := baseQuery(t, op)
		send := func(params map[string]string, query, key string, header ...string) testenv.Response {
			t.Helper()
			q, _ := url.ParseQuery(query)
			for name, values := range required {
				if !q.Has(name) {
					q[name] = values
				}
			}
			query = q.Encode()
			req := m.request(t, op.Method, op.url(params, query), key, body)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			return call(t, env, op, params, query, key, req)
		}
		expect := func(what string, want int, r testenv.Response) {
			t.Helper()
			if r.Status != want {
				t.Errorf("%s, %s: %d %s, want %d", describe(op), what, r.Status, r.Body, want)
			}
		}
		params := sc.prepare(f)
		if documents(http.StatusForbidden) {
			expect("no credentials", http.StatusForbidden, send(params, "", ""))
		}
		if documents(http.StatusNotFound) && !refused(sc) {
			switch {
			case len(params) > 0:
				absent := map[string]string{}
				for name := range params {
					absent[name] = missing[name]
				}
				expect("no such object", http.StatusNotFound, send(absent, "", sc.key))
			case op.route.Operation.Parameters.GetByInAndName("query", "page") != nil:
				expect("page past the end", http.StatusNotFound, send(nil, "page=1000000", sc.key))
			}
		}
		if documents(http.StatusNotModified) {
			tag := send(params, "", sc.key).Header.Get("ETag")
			expect("If-None-Match: its tag", http.StatusNotModified, send(params, "", sc.key, "If-None-Match", tag))
		}
		if documents(http.StatusPreconditionFailed) {
			expect("If-Match: a stale tag", http.StatusPreconditionFailed, send(params, "", sc.key, "If-Match", `"stale"`))
		}
	}
}
