package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"akconn/testenv"
)

// conditional sends a request with one conditional header.
func (v *env) conditional(method, path, key string, body any, header, value string) response {
	v.T.Helper()
	req := testenv.NewRequest(v.T, method, path, key, body)
	req.Header.Set(header, value)
	r := v.Serve(req)
	return response{Status: r.Status, Body: string(r.Body), Header: r.Header}
}

// object is one kind of single object, with a path to one of them and a
// change any owner may make to it.
type object struct {
	name, path, key string
	change          map[string]any
}

func objects(v *env) []object {
	src := v.createSource("github")
	conn := v.createConnection(aliceKey, src, "ext-1")
	token := v.do(http.MethodPost, "/core/tokens/", aliceKey, map[string]any{"identifier": "alice-ci"})
	expect(v.T, token, http.StatusCreated)
	return []object{
		{"connection", fmt.Sprintf("%s%d/", connections, conn), aliceKey, map[string]any{"identifier": "ext-2"}},
		{"source", "/sources/oauth/github/", adminKey, map[string]any{"name": "GitHub again"}},
		{"user", fmt.Sprintf("/core/users/%d/", v.Alice.ID), adminKey, map[string]any{"name": "Alice Liddell"}},
		{"token", "/core/tokens/alice-ci/", aliceKey, map[string]any{"description": "for CI"}},
	}
}

// Every single-object response carries a strong ETag that a GET with
// If-None-Match turns into a 304 without a body, and that every committed
// change replaces.
func TestETagAndIfNoneMatch(t *testing.T) {
	v := newEnv(t)
	for _, o := range objects(v) {
		t.Run(o.name, func(t *testing.T) {
			r := v.do(http.MethodGet, o.path, o.key, nil)
			expect(t, r, http.StatusOK)
			tag := r.Header.Get("ETag")
			if !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `"`) || len(tag) < 4 {
				t.Fatalf("ETag %q is not a strong entity tag", tag)
			}
			for _, match := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
				r := v.conditional(http.MethodGet, o.path, o.key, nil, "If-None-Match", match)
				if r.Status != http.StatusNotModified || r.Body != "" || r.Header.Get("ETag") != tag {
					t.Errorf("If-None-Match %s: %d %q ETag %q", match, r.Status, r.Body, r.Header.Get("ETag"))
				}
			}
			if r := v.conditional(http.MethodHead, o.path, o.key, nil, "If-None-Match", tag); r.Status != http.StatusNotModified {
				t.Errorf("HEAD with If-None-Match: %d", r.Status)
			}
			if r := v.conditional(http.MethodGet, o.path, o.key, nil, "If-None-Match", `"other"`); r.Status != http.StatusOK || r.Header.Get("ETag") != tag {
				t.Errorf("If-None-Match of another tag: %d %q", r.Status, r.Header.Get("ETag"))
			}
			changed := v.do(http.MethodPatch, o.path, o.key, o.change)
			expect(t, changed, http.StatusOK)
			next := changed.Header.Get("ETag")
			if next == "" || next == tag {
				t.Fatalf("the change's ETag %q (was %q)", next, tag)
			}
			if r := v.do(http.MethodGet, o.path, o.key, nil); r.Header.Get("ETag") != next {
				t.Errorf("GET after the change: ETag %q, want the PATCH's %q", r.Header.Get("ETag"), next)
			}
			if r := v.conditional(http.MethodGet, o.path, o.key, nil, "If-None-Match", tag); r.Status != http.StatusOK {
				t.Errorf("If-None-Match of the old tag: %d", r.Status)
			}
		})
	}
}

// A write whose If-Match names no current tag answers 412 and changes
// nothing, writes no event; the current tag (or *) lets it through; a weak
// tag never matches (strong comparison).
func TestIfMatchRefusesStaleWrites(t *testing.T) {
	v := newEnv(t)
	for _, o := range objects(v) {
		t.Run(o.name, func(t *testing.T) {
			tag := v.do(http.MethodGet, o.path, o.key, nil).Header.Get("ETag")
			expect(t, v.do(http.MethodPatch, o.path, o.key, o.change), http.StatusOK) // someone else's change
			current := v.do(http.MethodGet, o.path, o.key, nil)
			before, events := current.Body, countRows(t, v.Store, eventModel)
			for _, method := range []string{http.MethodPatch, http.MethodPut, http.MethodDelete} {
				for _, stale := range []string{tag, "W/" + current.Header.Get("ETag"), `"nope"`} {
					var body any
					if method != http.MethodDelete {
						body = putBody(v, o, current)
					}
					r := v.conditional(method, o.path, o.key, body, "If-Match", stale)
					if r.Status != http.StatusPreconditionFailed || !strings.Contains(r.Body, `"detail":"The object has changed`) {
						t.Fatalf("%s If-Match %s: %d %s", method, stale, r.Status, r.Body)
					}
					if r.Header.Get("ETag") != current.Header.Get("ETag") {
						t.Errorf("the 412 carries ETag %q, want the current %q", r.Header.Get("ETag"), current.Header.Get("ETag"))
					}
				}
			}
			if after := v.do(http.MethodGet, o.path, o.key, nil).Body; after != before {
				t.Fatalf("a refused write changed the object:\n%s\n%s", before, after)
			}
			if n := countRows(t, v.Store, eventModel); n != events {
				t.Fatalf("refused writes wrote %d events", n-events)
			}
			r := v.conditional(http.MethodPatch, o.path, o.key, o.change, "If-Match", current.Header.Get("ETag"))
			expect(t, r, http.StatusOK)
			expect(t, v.conditional(http.MethodPatch, o.path, o.key, o.change, "If-Match", "*"), http.StatusOK)
			expect(t, v.conditional(http.MethodPatch, o.path, o.key, o.change, "If-Match", `"a", `+v.do(http.MethodGet, o.path, o.key, nil).Header.Get("ETag")), http.StatusOK)
		})
	}
}

// putBody is a full body for PUT of o: its current state with o's change.
func putBody(v *env, o object, current response) map[string]any {
	body := current.JSON(v.T)
	for k, val := range o.change {
		body[k] = val
	}
	switch o.name {
	case "connection":
		body["source"] = body["source"].(map[string]any)["pk"]
	case "source":
		body["consumer_secret"] = "a-new-secret" // write-only, and required by PUT
	}
	return body
}

// A connection shows its source: a change of the source is a change of the
// connection's representation, so its ETag changes too.
func TestConnectionETagFollowsItsSource(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	path := fmt.Sprintf("%s%d/", connections, v.createConnection(aliceKey, src, "ext-1"))
	tag := v.do(http.MethodGet, path, aliceKey, nil).Header.Get("ETag")
	expect(t, v.do(http.MethodPatch, "/sources/oauth/github/", adminKey, map[string]any{"name": "Renamed"}), http.StatusOK)
	if r := v.conditional(http.MethodGet, path, aliceKey, nil, "If-None-Match", tag); r.Status != http.StatusOK {
		t.Fatalf("after its source changed, the connection still matches its old ETag: %d", r.Status)
	}
	expect(t, v.conditional(http.MethodPatch, path, aliceKey, map[string]any{"identifier": "x"}, "If-Match", tag), http.StatusPreconditionFailed)
}

// Another user's object is 404 whatever If-Match says: a 412 would tell
// that it exists.
func TestIfMatchOnAnotherUsersObjectIs404(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	path := fmt.Sprintf("%s%d/", connections, v.createConnection(aliceKey, src, "ext-1"))
	for _, method := range []string{http.MethodPatch, http.MethodDelete} {
		expect(t, v.conditional(method, path, bobKey, map[string]any{"identifier": "x"}, "If-Match", `"stale"`), http.StatusNotFound)
	}
	expect(t, v.conditional(http.MethodGet, path, bobKey, nil, "If-None-Match", "*"), http.StatusNotFound)
}

// Writers that all read the same version and PATCH with its ETag: exactly
// one wins, every other one is told 412, and the winner's change is the
// one stored — two writers, and 64.
func TestConcurrentIfMatchWritersOneWins(t *testing.T) {
	for _, n := range []int{2, writers} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			v := newEnv(t)
			src := v.createSource("github")
			id := v.createConnection(aliceKey, src, "ext-0")
			path := fmt.Sprintf("%s%d/", connections, id)
			tag := v.do(http.MethodGet, path, aliceKey, nil).Header.Get("ETag")
			rs := make([]response, n)
			hammerEach(n, func(i int) {
				rs[i] = v.conditional(http.MethodPatch, path, aliceKey, map[string]any{"identifier": fmt.Sprintf("writer-%d", i)}, "If-Match", tag)
			})
			counts := tally(t, rs)
			if counts[http.StatusOK] != 1 || counts[http.StatusPreconditionFailed] != n-1 {
				t.Fatalf("statuses %v, want one 200 and %d 412", counts, n-1)
			}
			stored, _ := v.storedConnection(id)
			for i, r := range rs {
				if r.Status == http.StatusOK && stored.Identifier != fmt.Sprintf("writer-%d", i) {
					t.Fatalf("writer %d won but %q is stored", i, stored.Identifier)
				}
			}
			if n := len(v.eventsOf(adminKey, "model_updated")); n != 1 {
				t.Fatalf("%d model_updated events, want 1", n)
			}
		})
	}
}
