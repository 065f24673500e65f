package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"akconn/server"
	"akconn/store"
	"akconn/testenv"
)

var eventModel = &store.Event{}

// eventList lists events as the holder of key with the given query.
func (v *env) eventList(key, query string) (results []map[string]any, count int) {
	v.T.Helper()
	r := v.do(http.MethodGet, "/events/events/?"+query, key, nil)
	expect(v.T, r, http.StatusOK)
	var page struct {
		Pagination struct {
			Count int `json:"count"`
		} `json:"pagination"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.Body), &page); err != nil {
		v.T.Fatal(err)
	}
	return page.Results, page.Pagination.Count
}

// eventsOf lists, as the holder of key, the events of one action.
func (v *env) eventsOf(key, action string) []map[string]any {
	v.T.Helper()
	out, _ := v.eventList(key, "page_size=1000&action="+action)
	return out
}

// path follows keys through nested JSON objects.
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// The life of a connection, told by its events: created, updated (with
// the diff, the access token only as changed), deleted; each with the
// model, the caller, the client's address and the request (its id the one
// the response carried), newest first.
func TestConnectionLifecycleEvents(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	req := testenv.NewRequest(t, http.MethodPost, connections+"?via=test", aliceKey,
		map[string]any{"source": src, "identifier": "ext-1", "access_token": "first-access-token"})
	req.Header.Set("User-Agent", "lifecycle-test/1.0")
	req.Header.Set("X-Request-Id", "req-create-1")
	created := v.Serve(req)
	expect(t, response{Status: created.Status, Body: string(created.Body)}, http.StatusCreated)
	if created.Header.Get("X-Request-Id") != "req-create-1" {
		t.Errorf("X-Request-Id %q, want the caller's", created.Header.Get("X-Request-Id"))
	}
	id := int(created.JSON(t).(map[string]any)["pk"].(float64))
	p := fmt.Sprintf("%s%d/", connections, id)
	updated := v.do(http.MethodPatch, p, aliceKey, map[string]any{"identifier": "ext-2", "access_token": "second-access-token"})
	expect(t, updated, http.StatusOK)
	expect(t, v.do(http.MethodDelete, p, aliceKey, nil), http.StatusNoContent)

	events, count := v.eventList(aliceKey, fmt.Sprintf("context_model_name=useroauthsourceconnection&context_model_pk=%d", id))
	if count != 3 || len(events) != 3 {
		t.Fatalf("%d events (count %d), want 3: %v", len(events), count, events)
	}
	for i, action := range []string{"model_deleted", "model_updated", "model_created"} {
		e := events[i]
		if e["action"] != action || e["app"] != "authentik_sources_oauth" || e["client_ip"] != "192.0.2.1" {
			t.Errorf("event %d: %v", i, e)
		}
		model := path(e, "context", "model")
		want := map[string]any{"app": "authentik_sources_oauth", "model_name": "useroauthsourceconnection", "pk": float64(id),
			"name": fmt.Sprintf("User-source connection (user=%d, source=%s)", v.Alice.ID, src)}
		if fmt.Sprint(model) != fmt.Sprint(want) {
			t.Errorf("event %d model %v, want %v", i, model, want)
		}
		user := e["user"].(map[string]any)
		if user["pk"] != float64(v.Alice.ID) || user["username"] != "alice" || len(user) != 3 {
			t.Errorf("event %d user %v", i, user)
		}
		created, _ := time.Parse(time.RFC3339Nano, e["created"].(string))
		expires, _ := time.Parse(time.RFC3339Nano, e["expires"].(string))
		if expires.Sub(created) != server.DefaultEventRetention {
			t.Errorf("event %d expires %v after it was created", i, expires.Sub(created))
		}
	}
	httpReq := path(events[2], "context", "http_request").(map[string]any)
	if httpReq["path"] != "/api/v3"+connections || httpReq["method"] != "POST" || httpReq["user_agent"] != "lifecycle-test/1.0" ||
		httpReq["request_id"] != "req-create-1" || fmt.Sprint(httpReq["args"]) != "map[via:test]" {
		t.Errorf("http_request %v", httpReq)
	}
	if got := path(events[1], "context", "http_request", "request_id"); got != updated.Header.Get("X-Request-Id") || got == "" {
		t.Errorf("the update's event has request id %v, its response %q", got, updated.Header.Get("X-Request-Id"))
	}
	diff := path(events[1], "context", "diff").(map[string]any)
	wantDiff := map[string]any{
		"identifier":   map[string]any{"previous_value": "ext-1", "new_value": "ext-2"},
		"access_token": map[string]any{"previous_value": "********", "new_value": "********"},
	}
	if fmt.Sprint(diff) != fmt.Sprint(wantDiff) {
		t.Errorf("diff %v, want %v", diff, wantDiff)
	}
	for _, e := range events {
		r := v.do(http.MethodGet, "/events/events/"+e["pk"].(string)+"/", aliceKey, nil)
		expect(t, r, http.StatusOK)
		if fmt.Sprint(r.JSON(t)) != fmt.Sprint(e) {
			t.Errorf("retrieve %s differs from the list:\n%v\n%v", e["pk"], r.JSON(t), e)
		}
	}
	assertNoSecretInEvents(t, v, "first-access-token", "second-access-token", "consumer-secret-github", aliceKey, adminKey)
}

// assertNoSecretInEvents reads every stored event, every column, and
// fails if any holds one of secrets.
func assertNoSecretInEvents(t *testing.T, v *env, secrets ...string) {
	t.Helper()
	var rows []map[string]any
	if err := v.Store.DB().Table("events").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no events to check")
	}
	raw := fmt.Sprint(rows)
	for _, s := range secrets {
		if strings.Contains(raw, s) {
			t.Errorf("an event holds the secret %q", s)
		}
	}
}

// Revealing a token's key writes secret_view naming the token, never the
// key; creating, changing and deleting sources, users and tokens each have
// their event; deleting a user or a source records what the database
// removed with it.
func TestEveryWriteHasItsEvent(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	v.createConnection(aliceKey, src, "ext-a")
	v.createConnection(bobKey, src, "ext-b")
	expect(t, v.do(http.MethodPatch, "/sources/oauth/github/", adminKey, map[string]any{"consumer_secret": "rotated-consumer-secret", "name": "GH"}), http.StatusOK)
	tok := v.do(http.MethodPost, "/core/tokens/", bobKey, map[string]any{"identifier": "bob-ci"})
	expect(t, tok, http.StatusCreated)
	key := v.do(http.MethodGet, "/core/tokens/bob-ci/view_key/", bobKey, nil)
	expect(t, key, http.StatusOK)
	user := v.do(http.MethodPost, "/core/users/", adminKey, map[string]any{"username": "carol", "name": "Carol"})
	expect(t, user, http.StatusCreated)
	expect(t, v.do(http.MethodDelete, fmt.Sprintf("/core/users/%d/", v.Bob.ID), adminKey, nil), http.StatusNoContent)
	expect(t, v.do(http.MethodDelete, "/sources/oauth/github/", adminKey, nil), http.StatusNoContent)

	views := v.eventsOf(adminKey, "secret_view")
	if len(views) != 1 || !strings.HasPrefix(fmt.Sprint(path(views[0], "context", "secret", "name")), "bob-ci") ||
		path(views[0], "context", "secret", "model_name") != "token" || path(views[0], "user", "username") != "bob" {
		t.Fatalf("secret_view events %v", views)
	}
	sourceUpdate := v.eventsOf(adminKey, "model_updated")
	if len(sourceUpdate) != 1 || fmt.Sprint(path(sourceUpdate[0], "context", "diff", "consumer_secret")) != "map[new_value:******** previous_value:********]" ||
		fmt.Sprint(path(sourceUpdate[0], "context", "diff", "name")) != "map[new_value:GH previous_value:Source github]" {
		t.Fatalf("the source's update %v", sourceUpdate)
	}
	deleted := map[string]int{}
	for _, e := range v.eventsOf(adminKey, "model_deleted") {
		deleted[fmt.Sprint(path(e, "context", "model", "model_name"))]++
	}
	// Bob (with his two tokens and his connection), then the source with
	// Alice's connection.
	if want := map[string]int{"user": 1, "token": 2, "useroauthsourceconnection": 2, "oauthsource": 1}; fmt.Sprint(deleted) != fmt.Sprint(want) {
		t.Fatalf("deleted %v, want %v", deleted, want)
	}
	createdByModel := map[string]int{}
	for _, e := range v.eventsOf(adminKey, "model_created") {
		createdByModel[fmt.Sprint(path(e, "context", "model", "model_name"))]++
	}
	if want := map[string]int{"oauthsource": 1, "useroauthsourceconnection": 2, "token": 1, "user": 1}; fmt.Sprint(createdByModel) != fmt.Sprint(want) {
		t.Fatalf("created %v, want %v", createdByModel, want)
	}
	var revealed struct{ Key string }
	_ = json.Unmarshal([]byte(key.Body), &revealed)
	assertNoSecretInEvents(t, v, revealed.Key, "rotated-consumer-secret", "consumer-secret-github", "access-token-ext-a", bobKey)
}

// An ordinary user sees only the events of her own account; another's
// event is 404; a superuser sees them all. Nobody may change or remove an
// event (405, before the body is read), and only superusers create one.
func TestEventScopeAndAppendOnly(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	v.createConnection(aliceKey, src, "ext-a")
	v.createConnection(bobKey, src, "ext-b")
	alice, _ := v.eventList(aliceKey, "")
	bob, _ := v.eventList(bobKey, "")
	all, total := v.eventList(adminKey, "")
	if len(alice) != 1 || len(bob) != 1 || total != 3 || len(all) != 3 {
		t.Fatalf("alice sees %d, bob %d, admin %d (count %d)", len(alice), len(bob), len(all), total)
	}
	if path(alice[0], "user", "username") != "alice" {
		t.Fatalf("alice sees %v", alice[0])
	}
	bobs := "/events/events/" + bob[0]["pk"].(string) + "/"
	expect(t, v.do(http.MethodGet, bobs, aliceKey, nil), http.StatusNotFound)
	expect(t, v.do(http.MethodGet, bobs, adminKey, nil), http.StatusOK)
	if _, n := v.eventList(aliceKey, "username=bob"); n != 0 {
		t.Fatalf("alice filtered bob's events and got %d", n)
	}

	before := v.do(http.MethodGet, bobs, adminKey, nil).Body
	for _, key := range []string{adminKey, aliceKey, bobKey} {
		for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r := v.do(method, bobs, key, `{"app": broken`)
			if r.Status != http.StatusMethodNotAllowed || r.JSON(t)["detail"] != fmt.Sprintf("Method %q not allowed.", method) {
				t.Errorf("%s by %s: %d %s", method, key, r.Status, r.Body)
			}
		}
	}
	if after := v.do(http.MethodGet, bobs, adminKey, nil).Body; after != before {
		t.Fatalf("the event changed:\n%s\n%s", before, after)
	}
	n := countRows(t, v.Store, eventModel)
	expect(t, v.do(http.MethodPost, "/events/events/", aliceKey, map[string]any{"action": "custom_", "app": "x"}), http.StatusForbidden)
	expect(t, v.do(http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "nonsense", "app": "x"}), http.StatusBadRequest)
	if countRows(t, v.Store, eventModel) != n {
		t.Fatal("a refused create wrote an event")
	}
	r := v.do(http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "custom_", "app": "ops",
		"user": map[string]any{"pk": v.Alice.ID, "username": "alice"}, "context": map[string]any{"note": "hello"}})
	expect(t, r, http.StatusCreated)
	made := r.JSON(t)
	if path(made, "context", "created_via_api") != true || path(made, "context", "note") != "hello" ||
		path(made, "context", "http_request", "method") != "POST" {
		t.Fatalf("created event %v", made)
	}
	if mine, _ := v.eventList(aliceKey, "action=custom_"); len(mine) != 1 {
		t.Fatalf("alice does not see the event made about her: %v", mine)
	}
}

// volumeWeek stands for the number of six-hour buckets in the week a
// 2024.8 volume covers: 28, or 29 when the week starts within a bucket.
const volumeWeek = -1

// Events filter, search and order as authentik's EventsFilter does.
func TestEventFilters(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "ext-a")
	expect(t, v.do(http.MethodPatch, fmt.Sprintf("%s%d/", connections, id), aliceKey, map[string]any{"identifier": "ext-z"}), http.StatusOK)
	for _, c := range []struct {
		query string
		want  int
	}{
		{"", 3},
		{"action=created", 2},
		{"action=CREATED", 2},
		{"action=model_updated", 1},
		{"action=nothing-like-it", 0},
		{"username=alice", 2},
		{"context_model_app=authentik_sources_oauth", 3},
		{"context_model_name=oauthsource", 1},
		{"context_model_name=useroauthsourceconnection", 2},
		{"context_model_name=", 3},
		{"context_model_app=authentik_core", 0},
		{"context_model_app=authentik_sources_oauth&context_model_name=oauthsource", 1},
		{"context_model_app=authentik_core&context_model_name=oauthsource", 0},
		{"action=created&context_model_name=oauthsource", 1},
		{"username=", 3},
		{"context_model_pk=" + src, 1},
		{"context_model_pk=" + strings.ReplaceAll(src, "-", ""), 1},
		{fmt.Sprintf("context_model_pk=%d", id), 2},
		{"client_ip=192.0.2.1", 3},
		{"client_ip=198.51.100.1", 0},
		{"search=ext-z", 1},
		{"search=ALICE", 2},
		{"brand_name=x", 0},
		{"context_authorized_app=x", 0},
		{"page_size=1&ordering=created", 3},
	} {
		results, count := v.eventList(adminKey, c.query)
		if count != c.want {
			t.Errorf("%s: count %d, want %d", c.query, count, c.want)
		}
		if c.query == "page_size=1&ordering=created" && (len(results) != 1 || path(results[0], "context", "model", "model_name") != "oauthsource") {
			t.Errorf("oldest first: %v", results)
		}
	}
	newest, _ := v.eventList(adminKey, "")
	if newest[0]["action"] != "model_updated" {
		t.Errorf("default order: newest first, got %v", newest[0]["action"])
	}
	r := v.do(http.MethodGet, "/events/events/actions/", aliceKey, nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `{"component":"model_created","description":"","model_name":"","name":"Model Created","requires_enterprise":false}`) {
		t.Errorf("actions: %.300s", r.Body)
	}
	for _, c := range []struct {
		path   string
		points int
		sum    float64
		key    string
	}{
		// 2024.8's volume through the current one's six-hour buckets: every
		// bucket of the week, 28 or 29 as the week starts within one
		// (volumeWeek).
		{"/events/events/volume/", volumeWeek, 3, adminKey},
		{"/events/events/volume/?action=updated", volumeWeek, 1, adminKey},
		{"/events/events/volume/", volumeWeek, 2, aliceKey},
		{"/events/events/per_month/?action=model_created", 30, 2, adminKey},
		{"/events/events/per_month/?action=model_created&query=" + url.QueryEscape(`{"user__username": "akadmin"}`), 30, 1, adminKey},
		{"/events/events/per_month/", 30, 0, adminKey},
	} {
		r := v.do(http.MethodGet, c.path, c.key, nil)
		expect(t, r, http.StatusOK)
		var coords []struct{ XCord, YCord float64 }
		if err := json.Unmarshal([]byte(strings.NewReplacer("x_cord", "XCord", "y_cord", "YCord").Replace(r.Body)), &coords); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for i, p := range coords {
			sum += p.YCord
			if i > 0 && p.XCord <= coords[i-1].XCord {
				t.Errorf("%s: x not increasing", c.path)
			}
		}
		points := len(coords)
		if c.points == volumeWeek && (points == 28 || points == 29) {
			points = volumeWeek
		}
		if points != c.points || sum != c.sum {
			t.Errorf("%s: %d points summing to %v, want %d summing to %v", c.path, len(coords), sum, c.points, c.sum)
		}
	}
	expect(t, v.do(http.MethodGet, "/events/events/per_month/?query=nope", adminKey, nil), http.StatusBadRequest)
	expect(t, v.do(http.MethodGet, "/events/events/per_month/?query="+url.QueryEscape(`{"password__startswith": "a"}`), adminKey, nil), http.StatusBadRequest)
	expect(t, v.do(http.MethodGet, "/events/events/per_month/?query="+url.QueryEscape(`{"user__pk": "x"}`), adminKey, nil), http.StatusBadRequest)
	r = v.do(http.MethodGet, "/events/events/top_per_user/", adminKey, nil)
	if r.Status != http.StatusOK || r.Body != "[]\n" && r.Body != "[]" {
		t.Errorf("top_per_user: %d %s", r.Status, r.Body)
	}
}

// X-Forwarded-For names the client only when the peer is a trusted proxy;
// the rightmost address that is not a trusted proxy is the client's.
func TestClientIPFromTrustedProxiesOnly(t *testing.T) {
	for _, c := range []struct {
		trusted []string
		xff     string
		want    string
	}{
		{nil, "198.51.100.7", "192.0.2.1"},
		{[]string{"192.0.2.0/24"}, "198.51.100.7", "198.51.100.7"},
		{[]string{"192.0.2.0/24"}, "203.0.113.5, 198.51.100.7", "198.51.100.7"},
		{[]string{"192.0.2.0/24", "10.0.0.0/8"}, "203.0.113.5, 10.1.2.3", "203.0.113.5"},
		{[]string{"192.0.2.0/24"}, "not-an-address", "192.0.2.1"},
		{[]string{"198.51.100.0/24"}, "203.0.113.5", "192.0.2.1"},
	} {
		var prefixes []netip.Prefix
		for _, p := range c.trusted {
			prefixes = append(prefixes, netip.MustParsePrefix(p))
		}
		v := &env{testenv.NewWithConfig(t, server.Config{TrustedProxies: prefixes})}
		src := v.createSource("github")
		req := testenv.NewRequest(t, http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": "x"})
		req.Header.Set("X-Forwarded-For", c.xff)
		if r := v.Serve(req); r.Status != http.StatusCreated {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		events, _ := v.eventList(aliceKey, "")
		if len(events) != 1 || events[0]["client_ip"] != c.want {
			t.Errorf("trusted %v, X-Forwarded-For %q: client_ip %v, want %s", c.trusted, c.xff, events[0]["client_ip"], c.want)
		}
	}
}

// A caller's X-Request-Id is kept when sane and replaced otherwise; the
// request's log line carries it.
func TestRequestIDs(t *testing.T) {
	v := newEnv(t)
	for _, c := range []struct {
		sent string
		kept bool
	}{
		{"abc-123", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"has space", false},
		{"tab\there", false},
		{"ünïcode", false},
		{"", false},
	} {
		req := testenv.NewRequest(t, http.MethodGet, "/core/users/me/", aliceKey, nil)
		if c.sent != "" {
			req.Header.Set("X-Request-Id", c.sent)
		}
		v.Logs.Reset()
		r := v.Serve(req)
		got := r.Header.Get("X-Request-Id")
		if c.kept != (got == c.sent) || len(got) == 0 || len(got) > 128 {
			t.Errorf("sent %q, got %q", c.sent, got)
		}
		if !strings.Contains(v.Logs.String(), `"request_id":"`+got+`"`) {
			t.Errorf("the log line lacks request id %q: %s", got, v.Logs.String())
		}
	}
	a := v.do(http.MethodGet, "/core/users/me/", aliceKey, nil).Header.Get("X-Request-Id")
	b := v.do(http.MethodGet, "/core/users/me/", aliceKey, nil).Header.Get("X-Request-Id")
	if a == b || len(a) != 32 {
		t.Errorf("generated ids %q and %q", a, b)
	}
}

// The sweeper deletes exactly the expired events, in batches, and the
// counts follow.
func TestSweeperDeletesExactlyTheExpired(t *testing.T) {
	v := newEnv(t)
	now := time.Now().UTC()
	var batch []store.Event
	for i := 0; i < 2600; i++ {
		expires := now.Add(-time.Duration(i+1) * time.Second)
		if i%3 == 0 {
			expires = now.Add(time.Duration(i+1) * time.Minute)
		}
		batch = append(batch, store.Event{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Username: "alice", UserPK: &v.Alice.ID,
			User: store.JSON(fmt.Sprintf(`{"pk": %d}`, v.Alice.ID)), Action: "custom_", App: "test", Context: store.JSON(`{}`), Brand: store.JSON(`{}`),
			Created: now.Add(-time.Hour), Expires: expires})
	}
	if err := v.Store.DB().CreateInBatches(batch, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := v.Store.RecountEvents(t.Context()); err != nil { // loaded around the store
		t.Fatal(err)
	}
	expect(t, v.do(http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "custom_", "app": "x",
		"expires": now.Add(-time.Minute).Format(time.RFC3339)}), http.StatusCreated)
	deleted, err := v.Store.SweepEvents(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2600 - 867 + 1); deleted != want {
		t.Fatalf("swept %d, want %d", deleted, want)
	}
	_, all := v.eventList(adminKey, "")
	_, mine := v.eventList(aliceKey, "")
	_, custom := v.eventList(adminKey, "action=custom_")
	if all != 867 || mine != 867 || custom != 867 {
		t.Fatalf("after the sweep: %d events, alice %d, custom %d; want 867", all, mine, custom)
	}
	var left int64
	v.Store.DB().Model(eventModel).Where("expires <= ?", now).Count(&left)
	if left != 0 {
		t.Fatalf("%d expired events left", left)
	}
	if again, _ := v.Store.SweepEvents(t.Context(), now); again != 0 {
		t.Fatalf("a second sweep deleted %d", again)
	}
}

// A change and its event commit together: when writing the event fails
// (here a trigger refuses it), the change is rolled back too; when the
// commit itself fails (PostgreSQL: a deferred trigger), neither remains.
func TestEventAndChangeCommitTogether(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "ext-1")
	p := fmt.Sprintf("%s%d/", connections, id)
	db := v.Store.DB()
	type failure struct {
		name            string
		install, remove []string
	}
	var failures []failure
	if testenv.Backend() == store.Postgres {
		raise := `CREATE FUNCTION fail_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`
		remove := []string{`DROP TRIGGER fail_event ON events`, `DROP FUNCTION fail_event()`}
		failures = append(failures,
			failure{"event insert fails", []string{raise,
				`CREATE TRIGGER fail_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_event()`}, remove},
			failure{"commit fails", []string{raise,
				`CREATE CONSTRAINT TRIGGER fail_event AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_event()`}, remove})
	} else {
		failures = append(failures, failure{"event insert fails",
			[]string{`CREATE TRIGGER fail_event BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected failure'); END`},
			[]string{`DROP TRIGGER fail_event`}})
	}
	exec := func(t *testing.T, stmts []string) {
		for _, stmt := range stmts {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			before, _ := v.storedConnection(id)
			events := countRows(t, v.Store, eventModel)
			exec(t, f.install)
			patch := v.do(http.MethodPatch, p, aliceKey, map[string]any{"identifier": "changed", "access_token": "new-token"})
			create := v.do(http.MethodPost, connections, bobKey, map[string]any{"source": src, "identifier": "bob-ext"})
			del := v.do(http.MethodDelete, p, aliceKey, nil)
			exec(t, f.remove)
			for _, r := range []response{patch, create, del} {
				if r.Status != http.StatusInternalServerError || strings.Contains(r.Body, "injected") {
					t.Errorf("%d %s", r.Status, r.Body)
				}
			}
			after, ok := v.storedConnection(id)
			if !ok || after.Identifier != before.Identifier || after.Version != before.Version || v.accessToken(after) != v.accessToken(before) {
				t.Errorf("the change outlived its event: %+v", after)
			}
			if n := countRows(t, v.Store, connectionModel); n != 1 {
				t.Errorf("%d connections, want 1", n)
			}
			if n := countRows(t, v.Store, eventModel); n != events {
				t.Errorf("%d events written", n-events)
			}
			if strings.Contains(v.Logs.String(), "new-token") {
				t.Error("the log holds the access token")
			}
		})
	}
	// Without the failure, the same change commits with its event.
	expect(t, v.do(http.MethodPatch, p, aliceKey, map[string]any{"identifier": "changed"}), http.StatusOK)
	if len(v.eventsOf(adminKey, "model_updated")) != 1 {
		t.Fatal("the change has no event")
	}
}

// top_per_user groups the events of one action by the application they
// name: most events first, with the number of distinct users.
func TestEventsTopPerUser(t *testing.T) {
	v := newEnv(t)
	for _, e := range []struct {
		app  string
		user int64
	}{{"a1", v.Alice.ID}, {"a1", v.Bob.ID}, {"a1", v.Alice.ID}, {"a2", v.Bob.ID}} {
		expect(t, v.do(http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "authorize_application", "app": "x",
			"user":    map[string]any{"pk": e.user},
			"context": map[string]any{"authorized_application": map[string]any{"pk": e.app, "name": "App " + e.app}}}), http.StatusCreated)
	}
	r := v.do(http.MethodGet, "/events/events/top_per_user/?action=authorize_application", adminKey, nil)
	expect(t, r, http.StatusOK)
	want := `[{"application":{"name":"App a1","pk":"a1"},"counted_events":3,"unique_users":2},{"application":{"name":"App a2","pk":"a2"},"counted_events":1,"unique_users":1}]`
	if strings.TrimSpace(r.Body) != want {
		t.Fatalf("top_per_user:\n%s\nwant\n%s", r.Body, want)
	}
	r = v.do(http.MethodGet, "/events/events/top_per_user/?action=authorize_application&top_n=1", adminKey, nil)
	if !strings.Contains(r.Body, `"counted_events":3`) || strings.Contains(r.Body, "a2") {
		t.Fatalf("top_n=1: %s", r.Body)
	}
	if r := v.do(http.MethodGet, "/events/events/top_per_user/?action=authorize_application", aliceKey, nil); !strings.Contains(r.Body, `"counted_events":2,"unique_users":1`) {
		t.Fatalf("alice sees only her own: %s", r.Body)
	}
}

// An event created through the API may have no client_ip:
// search, which reads every searched column, must skip the missing
// values, on SQLite too, whose case folding is a function of this server.
func TestEventSearchOverMissingValues(t *testing.T) {
	v := newEnv(t)
	expect(t, v.do(http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "authorize_application", "app": "ext-app",
		"context": map[string]any{"note": "Needle"}}), http.StatusCreated)
	expect(t, v.do(http.MethodPost, "/events/events/", adminKey, map[string]any{"action": "authorize_application", "app": "x",
		"client_ip": "192.0.2.9", "context": map[string]any{}}), http.StatusCreated)
	for _, c := range []struct {
		query string
		want  int
	}{{"search=needle", 1}, {"search=192.0.2.9", 1}, {"search=authorize_app", 2}, {"search=absent", 0}} {
		if _, count := v.eventList(adminKey, c.query); count != c.want {
			t.Errorf("%s: count %d, want %d", c.query, count, c.want)
		}
	}
}
