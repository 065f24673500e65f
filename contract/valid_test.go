package contract_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"akconn/testenv"
)

// TestValidRequests sends requests drawn from each operation's schemas
// (bodies and query parameters) and expects the documented success.
func TestValidRequests(t *testing.T) {
	forEachMount(t, testValidRequests)
}

func testValidRequests(t *testing.T, m *mount) {
	ops := m.ops
	for _, id := range sortedIDs(ops) {
		op, sc := ops[id], scenarios[id]
		if sc.prepare == nil {
			continue // reported by the coverage guard
		}
		t.Run(id, func(t *testing.T) {
			env := newEnv(t)
			f := &fixture{t: t, env: env, m: m}
			rapid.Check(t, func(rt *rapid.T) {
				params := sc.prepare(f)
				g := &generator{t: rt, hooks: f.hooks(sc.key)}
				var body any
				if s := op.requestSchema(); s != nil {
					b := g.object(s, "body")
					g.require(s, b, sc.require)
					fixURLs(b)
					body = b
				}
				query := g.query(op, sc.key, f)
				req := m.request(t, op.Method, op.url(params, query), sc.key, body)
				resp := call(t, env, op, params, query, sc.key, req)
				if resp.Status != sc.status {
					rt.Fatalf("%s: %d, want %d\nrequest: %v\nbody: %s", describe(op), resp.Status, sc.status, body, resp.Body)
				}
			})
		})
	}
}

// query draws valid query parameters for an operation: every required
// one and some of the others; paging stays on the first page so that
// success is expected.
func (g *generator) query(op *operation, key string, f *fixture) string {
	v := url.Values{}
	params := op.route.Operation.Parameters
	for _, ref := range params {
		p := ref.Value
		if p.In != "query" || !p.Required && rapid.IntRange(0, 2).Draw(g.t, p.Name+":present") != 0 {
			continue
		}
		s := p.Schema.Value
		switch p.Name {
		case "count_steps": // stats: timedelta strings (authentik's timedelta_from_string)
			for _, step := range rapid.SliceOfN(rapid.Custom(drawTimedelta), 1, 4).Draw(g.t, "count_steps") {
				v.Add(p.Name, step)
			}
		case "roles_by_name", "roles_by_pk":
			// Roles are not modelled: every role named is a choice that does
			// not exist (400, TestInvalidParameters); an empty value is
			// ignored, as django-filter ignores it.
			v.Set(p.Name, "")
		case "page":
			v.Set("page", "1")
		case "page_size":
			v.Set("page_size", strconv.Itoa(rapid.IntRange(1, 5000).Draw(g.t, "page_size")))
		case "user":
			v.Set("user", strconv.FormatInt(map[string]int64{testenv.AliceKey: f.env.Alice.ID, testenv.AdminKey: f.env.Admin.ID}[key], 10))
		case "ordering":
			v.Set("ordering", strings.Join(rapid.SliceOfN(rapid.SampledFrom([]string{"pk", "-pk", "name", "-created", "identifier", "source__slug", "username", "nonsense"}), 1, 3).Draw(g.t, "ordering"), ","))
		case "attributes":
			v.Set("attributes", `{"team": "blue"}`)
		case "query": // per_month's Django lookups, a JSON object
			v.Set("query", rapid.SampledFrom([]string{`{}`, `{"user__username": "alice"}`, `{"context__model__app": "authentik_core", "user__pk": 2}`}).Draw(g.t, "query"))
		default:
			if s.Type.Is("array") {
				for _, item := range g.value(s, p.Name).([]any) {
					v.Add(p.Name, fmt.Sprint(item))
				}
				continue
			}
			v.Set(p.Name, queryValue(g.value(s, p.Name)))
		}
	}
	return v.Encode()
}

func queryValue(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// timedeltaUnits are the keys of a timedelta string (authentik's
// authentik/lib/utils/time.py).
var timedeltaUnits = []string{"microseconds", "milliseconds", "seconds", "minutes", "hours", "days", "weeks"}

// drawTimedelta draws a timedelta string: "key=value" pairs joined by
// ';', values integers or decimals, keys in any case.
func drawTimedelta(t *rapid.T) string {
	pairs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) string {
		unit := rapid.SampledFrom(timedeltaUnits).Draw(t, "unit")
		if rapid.IntRange(0, 4).Draw(t, "unit:upper") == 0 {
			unit = strings.ToUpper(unit)
		}
		value := strconv.Itoa(rapid.IntRange(0, 1000).Draw(t, "value"))
		if rapid.IntRange(0, 3).Draw(t, "value:fraction") == 0 {
			value += "." + strconv.Itoa(rapid.IntRange(0, 99).Draw(t, "fraction"))
		}
		return unit + "=" + value
	}), 1, 3).Draw(t, "pairs")
	return strings.Join(pairs, ";")
}
