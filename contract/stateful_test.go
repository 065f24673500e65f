package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pgregory.net/rapid"

	"akconn/store"
	"akconn/testenv"
)

// resource names the operations of one resource for the lifecycle test.
type resource struct {
	prefix string // operationId prefix: sources_user_connections_oauth
	owner  string // key of the creating (and owning) caller
	other  string // key of a caller who must not reach the object
	// otherRead and otherWrite are what the other caller gets.
	otherRead, otherWrite int
	param, idField        string // path parameter and the response field filling it
	require               []string
}

var resources = []resource{
	{"sources_user_connections_oauth", testenv.AliceKey, testenv.BobKey, 404, 404, "id", "pk", []string{"source"}},
	{"sources_oauth", testenv.AdminKey, testenv.AliceKey, 200, 403, "slug", "slug", nil},
	{"core_tokens", testenv.AliceKey, testenv.BobKey, 404, 404, "identifier", "identifier", nil},
	{"core_users", testenv.AdminKey, testenv.AliceKey, 404, 404, "id", "pk", nil},
}

// TestLifecycles runs create → retrieve → list contains → partial update →
// retrieve shows it → delete → retrieve 404 for every resource with
// generated bodies, and checks that another user cannot reach the object.
// After each step, every other mount shows the object (a read valid for
// its own contract, and listed) where its contract can express it, and
// has it absent (404, unlisted) where not: server.Shown's rules.
func TestLifecycles(t *testing.T) {
	forEachMount(t, testLifecycles)
}

func testLifecycles(t *testing.T, m *mount) {
	ops := m.ops
	for _, r := range resources {
		t.Run(r.prefix, func(t *testing.T) {
			env := newEnv(t)
			f := &fixture{t: t, env: env, m: m}
			op := func(suffix string) *operation { return ops[r.prefix+"_"+suffix] }
			send := func(o *operation, key, id string, body any, query string) testenv.Response {
				t.Helper()
				params := map[string]string{}
				if id != "" {
					params[r.param] = id
				}
				return call(t, env, o, params, query, key, m.request(t, o.Method, o.url(params, query), key, body))
			}
			// elsewhere checks the object id, as read on m, on every other
			// mount (nil: deleted).
			elsewhere := func(rt *rapid.T, id string, obj map[string]any, when string) {
				t.Helper()
				for _, n := range allMounts(t) {
					if n == m {
						continue
					}
					nop := func(suffix string) *operation { return n.ops[r.prefix+"_"+suffix] }
					params := map[string]string{r.param: id}
					got := call(t, env, nop("retrieve"), params, "", r.owner, n.request(t, http.MethodGet, nop("retrieve").url(params, ""), r.owner, nil))
					listed := listContains(t, call(t, env, nop("list"), nil, "page_size=1000", r.owner,
						n.request(t, http.MethodGet, nop("list").url(nil, "page_size=1000"), r.owner, nil)), r.idField, id)
					shown := obj != nil && expressible(n, r, obj)
					if shown && (got.Status != http.StatusOK || !listed) || !shown && (got.Status != http.StatusNotFound || listed) {
						rt.Fatalf("%s, on %s: retrieve %d (listed: %v), want it shown: %v\n%s", when, n.name, got.Status, listed, shown, got.Body)
					}
				}
			}
			rapid.Check(t, func(rt *rapid.T) {
				g := &generator{t: rt, hooks: f.hooks(r.owner)}
				body := g.object(op("create").requestSchema(), "create")
				g.require(op("create").requestSchema(), body, r.require)
				fixURLs(body)
				created := send(op("create"), r.owner, "", body, "")
				if created.Status != http.StatusCreated {
					rt.Fatalf("create: %d %s", created.Status, created.Body)
				}
				id := idOf(t, created, r.idField)
				got := send(op("retrieve"), r.owner, id, nil, "")
				assertShows(rt, body, got.JSON(t), "after create")
				elsewhere(rt, id, got.JSON(t).(map[string]any), "after create")

				list := send(op("list"), r.owner, "", nil, "page_size=1000")
				if !listContains(t, list, r.idField, id) {
					rt.Fatalf("list does not contain %s", id)
				}
				// Another user: reads and writes are refused, lists hide it.
				if s := send(op("retrieve"), r.other, id, nil, "").Status; s != r.otherRead {
					rt.Fatalf("other user retrieve: %d, want %d", s, r.otherRead)
				}
				if s := send(op("partial_update"), r.other, id, map[string]any{}, "").Status; s != r.otherWrite {
					rt.Fatalf("other user update: %d, want %d", s, r.otherWrite)
				}
				if s := send(op("destroy"), r.other, id, nil, "").Status; s != r.otherWrite {
					rt.Fatalf("other user delete: %d, want %d", s, r.otherWrite)
				}
				if r.otherRead == 404 && listContains(t, send(op("list"), r.other, "", nil, "page_size=1000"), r.idField, id) {
					rt.Fatalf("other user's list contains %s", id)
				}

				patch := g.object(op("partial_update").requestSchema(), "patch")
				fixPatchURLs(patch, body["provider_type"])
				updated := send(op("partial_update"), r.owner, id, patch, "")
				if updated.Status != http.StatusOK {
					rt.Fatalf("partial update: %d %s", updated.Status, updated.Body)
				}
				id = idOf(t, updated, r.idField)
				got = send(op("retrieve"), r.owner, id, nil, "")
				assertShows(rt, patch, got.JSON(t), "after partial update")
				elsewhere(rt, id, got.JSON(t).(map[string]any), "after partial update")

				if s := send(op("destroy"), r.owner, id, nil, "").Status; s != http.StatusNoContent {
					rt.Fatalf("delete: %d", s)
				}
				if s := send(op("retrieve"), r.owner, id, nil, "").Status; s != http.StatusNotFound {
					rt.Fatalf("retrieve after delete: %d", s)
				}
				elsewhere(rt, id, nil, "after delete")
			})
			for _, secret := range []string{"contract-access-token", "contract-consumer-secret", testenv.AliceKey} {
				if strings.Contains(env.Logs.String(), secret) {
					t.Fatalf("a secret reached the log")
				}
			}
		})
	}
}

// renamed are the provider types authentik renamed: one type, which a
// contract knows by one of the names (docs/upstream/2024.8-to-2026.8.md).
var renamed = map[any]any{"azuread": "entraid", "entraid": "azuread"}

// expressible reports whether n's contract can express obj, an object of
// r as another mount reads it, by n's own response schema: a source's
// provider type must be one of n's (under either name), a connection's
// identifier within n's maxLength.
func expressible(n *mount, r resource, obj map[string]any) bool {
	s := n.ops[r.prefix+"_retrieve"].responseSchema(http.StatusOK)
	switch r.prefix {
	case "sources_oauth":
		enum := unwrapped(s.Properties["provider_type"].Value).Enum
		if !slices.Contains(enum, obj["provider_type"]) && !slices.Contains(enum, renamed[obj["provider_type"]]) {
			return false
		}
		for _, field := range []string{"request_token_url", "authorization_url", "access_token_url", "profile_url"} {
			v, _ := obj[field].(string)
			if max := unwrapped(s.Properties[field].Value).MaxLength; max != nil && uint64(utf8.RuneCountInString(v)) > *max {
				return false
			}
		}
		return true
	case "sources_user_connections_oauth":
		max := unwrapped(s.Properties["identifier"].Value).MaxLength
		return max == nil || uint64(utf8.RuneCountInString(obj["identifier"].(string))) <= *max
	}
	return true
}

func idOf(t testing.TB, resp testenv.Response, field string) string {
	t.Helper()
	switch v := resp.JSON(t).(map[string]any)[field].(type) {
	case float64:
		return fmt.Sprint(int64(v))
	case string:
		return v
	default:
		t.Fatalf("no %s in %s", field, resp.Body)
		return ""
	}
}

func listContains(t testing.TB, resp testenv.Response, field, id string) bool {
	t.Helper()
	for _, item := range resp.JSON(t).(map[string]any)["results"].([]any) {
		if fmt.Sprint(normalizeID(item.(map[string]any)[field])) == id {
			return true
		}
	}
	return false
}

func normalizeID(v any) any {
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	return v
}

// writeOnly fields are accepted but never shown.
var writeOnly = map[string]bool{"access_token": true, "consumer_secret": true}

// assertShows checks that every sent (readable) field reads back as sent.
func assertShows(t *rapid.T, sent map[string]any, got any, when string) {
	obj := got.(map[string]any)
	raw, _ := json.Marshal(sent)
	var want map[string]any
	_ = json.Unmarshal(raw, &want)
	for k, w := range want {
		if writeOnly[k] {
			continue
		}
		g, ok := obj[k]
		if src, nested := g.(map[string]any); k == "source" && nested { // sent as a pk, shown by 2024.8 as the nested source
			g, ok = src["pk"], true
		}
		if !ok {
			t.Fatalf("%s: %s missing from %v", when, k, obj)
		}
		if !sameValue(w, g) {
			t.Fatalf("%s: %s is %#v, sent %#v", when, k, g, w)
		}
		if src, ok := obj["source_obj"].(map[string]any); k == "source" && ok && !sameValue(w, src["pk"]) {
			t.Fatalf("%s: source_obj is source %#v, sent %#v", when, src["pk"], w)
		}
	}
}

func sameValue(want, got any) bool {
	if ws, ok := want.(string); ok {
		if gs, ok := got.(string); ok {
			wt, werr := time.Parse(time.RFC3339Nano, ws)
			gt, gerr := time.Parse(time.RFC3339Nano, gs)
			if werr == nil && gerr == nil {
				return wt.Equal(gt)
			}
		}
	}
	return reflect.DeepEqual(want, got)
}

// TestUsersSeeThemselves: a user created with a generated body, holding an
// API token, reads itself through users/me on every mount, answered as
// that mount's contract has it (UserSelf); an inactive one is refused.
func TestUsersSeeThemselves(t *testing.T) {
	forEachMount(t, func(t *testing.T, m *mount) {
		env := newEnv(t)
		f := &fixture{t: t, env: env, m: m}
		rapid.Check(t, func(rt *rapid.T) {
			body, created := f.createGenerated(rt, "core_users_create", "user")
			pk := int64(created.JSON(t).(map[string]any)["pk"].(float64))
			key := unique("me-key-0123456789")
			if err := env.Store.CreateToken(context.Background(), &store.Token{Identifier: unique("me"), Key: key, Intent: store.IntentAPI, UserID: pk}); err != nil {
				t.Fatal(err)
			}
			want := http.StatusOK
			if body["is_active"] == false {
				want = http.StatusForbidden
			}
			for _, n := range allMounts(t) {
				me := n.ops["core_users_me_retrieve"]
				req := n.request(t, http.MethodGet, me.url(nil, ""), key, nil)
				resp := call(t, env, me, nil, "", key, req)
				if resp.Status != want {
					rt.Fatalf("users/me on %s as %v: %d %s, want %d", n.name, body["username"], resp.Status, resp.Body, want)
				}
				if want == http.StatusOK {
					if got := resp.JSON(t).(map[string]any)["user"].(map[string]any)["username"]; got != body["username"] {
						rt.Fatalf("users/me on %s: username %v, created %v", n.name, got, body["username"])
					}
				}
			}
		})
	})
}

// TestEventsAcrossMounts: an event made from a generated body is read, and
// listed, on every other mount whose contract has its action, and is
// absent there (404, left out of lists) where not: server.Shown's rule for
// the actions added since a contract.
func TestEventsAcrossMounts(t *testing.T) {
	forEachMount(t, func(t *testing.T, m *mount) {
		env := newEnv(t)
		f := &fixture{t: t, env: env, m: m}
		rapid.Check(t, func(rt *rapid.T) {
			body, created := f.createGenerated(rt, "events_events_create", "event")
			pk := idOf(t, created, "pk")
			for _, n := range allMounts(t) {
				retrieve, list := n.ops["events_events_retrieve"], n.ops["events_events_list"]
				params := map[string]string{"event_uuid": pk}
				got := call(t, env, retrieve, params, "", testenv.AdminKey, n.request(t, http.MethodGet, retrieve.url(params, ""), testenv.AdminKey, nil))
				query := url.Values{"action": {body["action"].(string)}, "page_size": {"1000"}}.Encode()
				listed := listContains(t, call(t, env, list, nil, query, testenv.AdminKey, n.request(t, http.MethodGet, list.url(nil, query), testenv.AdminKey, nil)), "pk", pk)
				enum := unwrapped(retrieve.responseSchema(http.StatusOK).Properties["action"].Value).Enum
				shown := slices.Contains(enum, body["action"])
				if shown && (got.Status != http.StatusOK || !listed) || !shown && (got.Status != http.StatusNotFound || listed) {
					rt.Fatalf("event %s of %v, on %s: retrieve %d (listed: %v), want it shown: %v\n%s", pk, body["action"], n.name, got.Status, listed, shown, got.Body)
				}
			}
		})
	})
}

// createGenerated creates, as the superuser, an object of operation op
// from a body generated for its request schema (named kind in the draws),
// and returns the body and the answer, failing unless it is a 201.
func (f *fixture) createGenerated(rt *rapid.T, op, kind string) (map[string]any, testenv.Response) {
	create := f.m.ops[op]
	g := &generator{t: rt, hooks: f.hooks(testenv.AdminKey)}
	body := g.object(create.requestSchema(), kind)
	created := call(f.t, f.env, create, nil, "", testenv.AdminKey,
		f.m.request(f.t, http.MethodPost, create.url(nil, ""), testenv.AdminKey, body))
	if created.Status != http.StatusCreated {
		rt.Fatalf("create: %d %s", created.Status, created.Body)
	}
	return body, created
}
