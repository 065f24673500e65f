package contract_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"akconn/testenv"
)

// violation is one broken constraint of a property.
type violation struct {
	what  string
	value any
}

// violations lists, for a property schema, a value breaking each of its
// constraints in turn.
func violations(s *openapi3.Schema) []violation {
	if len(s.AllOf) == 1 && s.AllOf[0].Value != nil {
		inner := *s.AllOf[0].Value
		inner.Nullable = inner.Nullable || s.Nullable
		s = &inner
	}
	var out []violation
	if s.Type == nil || len(*s.Type) == 0 {
		return nil // any JSON value is valid
	}
	if !s.Nullable {
		out = append(out, violation{"null", nil})
	}
	switch {
	case s.Type.Is("string"):
		out = append(out, violation{"type", 12345})
	case s.Type.Is("integer"):
		out = append(out, violation{"type", "not-a-number"}, violation{"type (fraction)", 1.5})
	case s.Type.Is("boolean"):
		out = append(out, violation{"type", "maybe"})
	case s.Type.Is("array"):
		out = append(out, violation{"type", "not-a-list"})
		for _, iv := range violations(s.Items.Value) {
			if iv.value != nil {
				out = append(out, violation{"item " + iv.what, []any{iv.value}})
			}
		}
	case s.Type.Is("object"):
		out = append(out, violation{"type", []any{1}})
	}
	if len(s.Enum) > 0 {
		out = append(out, violation{"enum", "not-a-choice ✗"})
	}
	if s.MaxLength != nil {
		out = append(out, violation{"maxLength", strings.Repeat("a", int(*s.MaxLength)+1)})
	}
	if s.MinLength > 0 {
		out = append(out, violation{"minLength", ""})
		if s.Format == "" && len(s.Enum) == 0 {
			// Blank once trimmed, as Django REST framework trims text.
			out = append(out, violation{"minLength (whitespace only)", " \t\u00a0 "})
		}
	}
	if s.Pattern != "" {
		out = append(out, violation{"pattern", "not a slug!"})
	}
	switch s.Format {
	case "uuid":
		out = append(out, violation{"format", "not-a-uuid"})
	case "date-time":
		out = append(out, violation{"format", "next tuesday"})
	case "email":
		out = append(out, violation{"format", "not-an-email"})
	}
	return out
}

// noSuchPK names no object: roles and groups are not modelled, so every
// pk in a user's roles or groups names none (authentik's 400 "Invalid pk
// … - object does not exist.").
const noSuchPK = "00000000-0000-4000-8000-000000000001"

// violationsByRule lists, for the property name of a request schema, the
// values the server refuses by a business rule its schema does not
// express; each answers 400 naming the field, as a schema violation does.
func violationsByRule(name string, s *openapi3.Schema) []violation {
	switch {
	case s.Type == nil || len(*s.Type) == 0:
		// A free-form field (2024.8's event user, context and brand, and
		// source oidc_jwks) takes objects only, the current contract's
		// type, which the store keeps.
		return []violation{{"an object (a number)", 12345}, {"an object (a list)", []any{1}},
			{"an object (text)", "text"}, {"an object (a boolean)", true}, {"an object (null)", nil}}
	case (name == "roles" || name == "groups") && s.Type.Is("array"):
		return []violation{{"pks naming no object (none exist: not modelled)", []any{noSuchPK}}}
	case name == "icon" && s.Type.Is("string"):
		// This server stores no files: an icon is a URL or a /static path.
		return []violation{{"a reference needing no file (an upload's name)", "source-icons/github.png"},
			{"a reference needing no file (a relative URL)", "//cdn.example/icon.png"},
			{"a reference needing no file (a /static path leaving /static)", "/static/../media/icon.png"},
			{"a reference needing no file (a scheme of none of those)", "ftp://cdn.example/icon.png"}}
	}
	return nil
}

// baseBody is a deterministic valid body for op, as sc's caller.
func baseBody(f *fixture, op *operation, sc scenario) map[string]any {
	s := op.requestSchema()
	body := map[string]any{}
	for name, ref := range s.Properties {
		p := ref.Value
		if p.ReadOnly || !contains(s.Required, name) && !contains(sc.require, name) {
			continue
		}
		switch name {
		case "source":
			body[name], _ = f.source()
		case "slug", "identifier", "username":
			body[name] = unique("base")
		default:
			body[name] = simpleValue(p)
		}
	}
	fixURLs(body)
	return body
}

func simpleValue(s *openapi3.Schema) any {
	switch {
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 1
	case s.Type.Is("boolean"):
		return true
	case s.Type.Is("array"):
		return []any{}
	case s.Type.Is("object"):
		return map[string]any{}
	}
	return "x"
}

// fingerprint captures what a rejected request must not change: the rows
// of every table.
func fingerprint(t testing.TB, env *testenv.Env) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "tokens", "oauth_sources", "connections", "events", "event_counts"} {
		var rows []map[string]any
		if err := env.Store.DB().Table(table).Order("1").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(rows)
		fmt.Fprintf(&b, "%s:%s\n", table, raw)
	}
	return b.String()
}

// TestInvalidBodies breaks every constraint of every request property in
// turn, and drops every required property: each answers 400 naming the
// field (405 on an operation refused whatever the body), and changes
// nothing, nor writes an event.
func TestInvalidBodies(t *testing.T) {
	forEachMount(t, testInvalidBodies)
	if wholeRun() {
		for key := range knownRejections {
			if !consulted[key] {
				t.Errorf("knownRejections names %q, which no check of the run is", key)
			}
		}
	}
}

func testInvalidBodies(t *testing.T, m *mount) {
	ops := m.ops
	for _, id := range sortedIDs(ops) {
		op, sc := ops[id], scenarios[id]
		s := op.requestSchema()
		if s == nil || sc.prepare == nil {
			continue
		}
		t.Run(id, func(t *testing.T) {
			env := newEnv(t)
			f := &fixture{t: t, env: env, m: m}
			params := sc.prepare(f)
			names := make([]string, 0, len(s.Properties))
			for name := range s.Properties {
				names = append(names, name)
			}
			sort.Strings(names)
			reject := func(field, what string, body map[string]any) {
				t.Helper()
				var failures []string
				before := fingerprint(t, env)
				req := m.request(t, op.Method, op.url(params, ""), sc.key, body)
				resp := call(t, env, op, params, "", sc.key, req)
				if sc.status == http.StatusMethodNotAllowed {
					if resp.Status != sc.status {
						failures = append(failures, fmt.Sprintf("%s with %s broken (%s): %d %s, want 405", field, what, describe(op), resp.Status, resp.Body))
					}
				} else if resp.Status != http.StatusBadRequest || !contains(fieldsOf(t, resp), field) {
					failures = append(failures, fmt.Sprintf("%s with %s broken (%s): %d %s", field, what, describe(op), resp.Status, resp.Body))
				}
				if fingerprint(t, env) != before {
					failures = append(failures, fmt.Sprintf("%s with %s broken changed stored data", field, what))
				}
				key := strings.Join([]string{m.version, op.ID, field, what}, " ")
				if issue, known := knownRejections[key]; known {
					consulted[key] = true
					if len(failures) == 0 {
						t.Errorf("%s: passes: drop it from knownRejections (%s)", key, issue)
					}
					for _, f := range failures {
						t.Logf("known server issue (%s): %s", issue, f)
					}
					return
				}
				for _, f := range failures {
					t.Error(f)
				}
			}
			// The premise: the base body, each rejected body but for one
			// thing, is answered with success (on an object of its own, as
			// it may rename it).
			own := sc.prepare(f)
			if resp := call(t, env, op, own, "", sc.key, m.request(t, op.Method, op.url(own, ""), sc.key, baseBody(f, op, sc))); resp.Status != sc.status {
				t.Fatalf("%s: the base body: %d %s, want %d", describe(op), resp.Status, resp.Body, sc.status)
			}
			for _, name := range names {
				p := s.Properties[name].Value
				if p.ReadOnly {
					continue
				}
				for _, v := range append(violations(p), violationsByRule(name, p)...) {
					body := baseBody(f, op, sc)
					body[name] = v.value
					reject(name, v.what, body)
				}
				if contains(s.Required, name) {
					body := baseBody(f, op, sc)
					delete(body, name)
					reject(name, "required", body)
				}
			}
		})
	}
}

// TestInvalidParameters sends query and path parameters of the wrong type
// or out of their enum, or refused by a business rule, and leaves out each
// required one: 400 naming the parameter. The other required parameters
// keep their valid base values, so that only the one is wrong.
func TestInvalidParameters(t *testing.T) {
	forEachMount(t, testInvalidParameters)
}

func testInvalidParameters(t *testing.T, m *mount) {
	ops := m.ops
	env := newEnv(t)
	f := &fixture{t: t, env: env, m: m}
	for _, id := range sortedIDs(ops) {
		op, sc := ops[id], scenarios[id]
		if sc.prepare == nil || refused(sc) {
			continue
		}
		params := sc.prepare(f)
		send := func(p *openapi3.Parameter, bad string, ps map[string]string, q url.Values) {
			t.Helper()
			query := q.Encode()
			var body any
			if op.requestSchema() != nil {
				body = baseBody(f, op, sc)
			}
			req := m.request(t, op.Method, op.url(ps, query), sc.key, body)
			resp := call(t, env, op, ps, query, sc.key, req)
			if resp.Status != http.StatusBadRequest || !contains(fieldsOf(t, resp), p.Name) {
				t.Errorf("%s: %s=%q: %d %s", describe(op), p.Name, bad, resp.Status, resp.Body)
			}
		}
		for _, ref := range append(op.route.PathItem.Parameters, op.route.Operation.Parameters...) {
			p := ref.Value
			for _, bad := range append(badParameterValues(p.Schema.Value), badParameterValuesByRule[p.Name]...) {
				ps, query := params, baseQuery(t, op)
				if p.In == "path" {
					ps = map[string]string{}
					for k, v := range params {
						ps[k] = v
					}
					ps[p.Name] = url.PathEscape(bad)
				} else {
					query.Set(p.Name, bad)
				}
				send(p, bad, ps, query)
			}
			if p.In == "query" && p.Required {
				query := baseQuery(t, op)
				query.Del(p.Name)
				send(p, "(left out)", params, query)
			}
		}
	}
}

// baseParameterValues are valid values of the query parameters some
// operation requires.
var baseParameterValues = map[string]string{
	"count_steps": "hours=24", // stats
}

// baseQuery holds a valid value for each query parameter op requires.
func baseQuery(t testing.TB, op *operation) url.Values {
	t.Helper()
	q := url.Values{}
	for _, ref := range op.route.Operation.Parameters {
		if p := ref.Value; p.In == "query" && p.Required {
			v, ok := baseParameterValues[p.Name]
			if !ok {
				t.Fatalf("%s requires query parameter %s: give it a valid value in baseParameterValues", describe(op), p.Name)
			}
			q.Set(p.Name, v)
		}
	}
	return q
}

// badParameterValuesByRule are values of query parameters the server
// refuses by a rule their schemas do not express.
var badParameterValuesByRule = map[string][]string{
	// stats' steps are timedelta strings ("hours=3;minutes=1"): each answers
	// {"count_steps": {"0": ["… is not in the correct format of …"]}}.
	"count_steps": {"24d", "hours", "hours=3,seconds=2", "hours=three", "fortnights=2", "hours=3;;", "hours=inf"},
	// Roles are not modelled: every role named is a choice that does not
	// exist (django-filter's 400).
	"roles_by_name": {"admins"},
	"roles_by_pk":   {noSuchPK},
}

func badParameterValues(s *openapi3.Schema) []string {
	switch {
	case s.Type.Is("integer"):
		return []string{"abc", "1.5", "99999999999999999999999"}
	case s.Type.Is("boolean"):
		return []string{"maybe"}
	case s.Type.Is("array"):
		if len(s.Items.Value.Enum) > 0 {
			return []string{"robot"}
		}
		if s.Items.Value.Format == "uuid" {
			return []string{"not-a-uuid"}
		}
		if s.Items.Value.MinLength > 0 {
			return []string{""}
		}
	case len(s.Enum) > 0:
		return []string{"nope"}
	case s.Format == "uuid", s.Format == "date-time":
		return []string{"nope"}
	}
	return nil
}

// TestMalformedBodies: wrong media type, malformed and truncated JSON, a
// list instead of an object, and a body over the limit.
func TestMalformedBodies(t *testing.T) {
	forEachMount(t, testMalformedBodies)
}

func testMalformedBodies(t *testing.T, m *mount) {
	ops := m.ops
	env := newEnv(t)
	f := &fixture{t: t, env: env, m: m}
	for _, id := range sortedIDs(ops) {
		op, sc := ops[id], scenarios[id]
		if op.requestSchema() == nil || sc.prepare == nil || refused(sc) {
			continue
		}
		params := sc.prepare(f)
		valid, _ := json.Marshal(baseBody(f, op, sc))
		for _, tc := range []struct {
			name, contentType string
			body              []byte
			status            int
			detail            string
		}{
			{"text/plain", "text/plain", valid, 415, "Unsupported media type"},
			{"malformed", "application/json", []byte(`{"identifier": `), 400, "JSON parse error - "},
			{"truncated", "application/json", valid[:len(valid)/2], 400, "JSON parse error - "},
			{"not JSON", "application/json", []byte(`identifier=x`), 400, "JSON parse error - "},
			{"oversized", "application/json", append(append([]byte(`{"x": "`), bytes.Repeat([]byte("a"), 2<<20)...), '"', '}'), 413, "Request body too large."},
			{"two JSON values", "application/json", append(append([]byte{}, valid...), valid...), 400, "JSON parse error - Extra data: "},
			{"data after the value", "application/json", append(append([]byte{}, valid...), " garbage"...), 400, "JSON parse error - Extra data: "},
			{"nested too deep", "application/json", []byte(`{"x": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), 400, "JSON parse error - nested more than"},
			{"too many values", "application/json", tooManyValues(op), 400, "JSON parse error - more than"},
		} {
			before := fingerprint(t, env)
			req := m.request(t, op.Method, op.url(params, ""), sc.key, tc.body)
			req.Header.Set("Content-Type", tc.contentType)
			resp := call(t, env, op, params, "", sc.key, req)
			var m map[string]any
			_ = json.Unmarshal(resp.Body, &m)
			if detail, _ := m["detail"].(string); resp.Status != tc.status || !strings.HasPrefix(detail, tc.detail) {
				t.Errorf("%s, %s body: %d %s", describe(op), tc.name, resp.Status, resp.Body)
			}
			if fingerprint(t, env) != before {
				t.Errorf("%s, %s body changed stored data", describe(op), tc.name)
			}
		}
		req := m.request(t, op.Method, op.url(params, ""), sc.key, `[{"identifier": "x"}]`)
		if resp := call(t, env, op, params, "", sc.key, req); resp.Status != 400 || !contains(fieldsOf(t, resp), "non_field_errors") {
			t.Errorf("%s, list body: %d %s", describe(op), resp.Status, resp.Body)
		}
	}
}

// refused reports whether sc's operation is refused to everyone whatever
// the request (the append-only events): TestInvalidBodies checks that it
// answers 405 to every broken body and writes nothing.
func refused(sc scenario) bool { return sc.status == http.StatusMethodNotAllowed }

// tooManyValues is a body whose one writable member of op holds more
// values than the server decodes.
func tooManyValues(op *operation) []byte {
	name := ""
	for n, p := range op.requestSchema().Properties {
		if !p.Value.ReadOnly && (name == "" || n < name) {
			name = n
		}
	}
	return []byte(`{"` + name + `": [` + strings.Repeat("0,", 20000) + `0]}`)
}
