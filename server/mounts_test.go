package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"akconn/server"
	"akconn/testenv"
)

// compat2024 is where the 2024.8 contract is always served.
var compat2024 = server.CompatBase("2024.8")

// at moves a request built by testenv.NewRequest (to BaseURL) to base.
func at(req *http.Request, base string) *http.Request {
	req.URL.Path = base + strings.TrimPrefix(req.URL.Path, server.BaseURL)
	req.RequestURI = req.URL.RequestURI()
	return req
}

// volatile are the values two identical runs on two databases may not
// share: uuids, times, and the ids, uids and key hashes drawn by chance.
var volatile = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\b[0-9a-f]{32}([0-9a-f]{32})?\b|` +
	`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?`)

// normalized is v (decoded JSON or a row) with its volatile values, and
// the mount in any path, replaced by placeholders.
func normalized(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalized(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalized(e)
		}
		return out
	case []byte:
		return normalized(string(x))
	case time.Time:
		return "<time>"
	case string:
		return volatile.ReplaceAllString(strings.ReplaceAll(x, compat2024, server.BaseURL), "<v>")
	}
	return v
}

// crud creates, reads, changes, lists and deletes a source, a connection,
// a user and a token through base, and returns every answer.
func crud(t *testing.T, e *testenv.Env, base string) []any {
	var answers []any
	call := func(method, path, key string, body any) map[string]any {
		r := e.Serve(at(testenv.NewRequest(t, method, path, key, body), base))
		if r.Status >= 500 {
			t.Fatalf("%s %s%s: %d %s", method, base, path, r.Status, r.Body)
		}
		var decoded map[string]any
		if len(r.Body) > 0 {
			decoded, _ = r.JSON(t).(map[string]any)
		}
		answers = append(answers, map[string]any{"status": r.Status, "body": normalized(decoded), "etag": r.Header.Get("ETag") != ""})
		return decoded
	}
	src := call(http.MethodPost, "/sources/oauth/", testenv.AdminKey, map[string]any{"name": "GitHub", "slug": "github",
		"provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
	conn := call(http.MethodPost, "/sources/user_connections/oauth/", testenv.AliceKey,
		map[string]any{"source": src["pk"], "identifier": "ext-1", "access_token": "tok"})
	one := fmt.Sprintf("/sources/user_connections/oauth/%v/", conn["pk"])
	call(http.MethodGet, one, testenv.AliceKey, nil)
	call(http.MethodPatch, one, testenv.AliceKey, map[string]any{"identifier": "ext-2"})
	call(http.MethodPut, one, testenv.AliceKey, map[string]any{"identifier": "ext-3"})
	call(http.MethodPost, "/sources/user_connections/oauth/", testenv.AliceKey, map[string]any{"source": src["pk"], "identifier": ""})
	call(http.MethodGet, "/sources/user_connections/oauth/?ordering=-created", testenv.AliceKey, nil)
	call(http.MethodPatch, "/sources/oauth/github/", testenv.AdminKey, map[string]any{"name": "GitHub 2"})
	user := call(http.MethodPost, "/core/users/", testenv.AdminKey, map[string]any{"username": "carol", "name": "Carol"})
	call(http.MethodPatch, fmt.Sprintf("/core/users/%v/", user["pk"]), testenv.AdminKey, map[string]any{"name": "Carol C"})
	call(http.MethodPost, "/core/tokens/", testenv.AliceKey, map[string]any{"identifier": "alice-ci"})
	call(http.MethodGet, "/core/tokens/alice-ci/", testenv.AliceKey, nil)
	call(http.MethodGet, "/core/users/me/", testenv.AliceKey, nil)
	call(http.MethodDelete, one, testenv.AliceKey, nil)
	call(http.MethodGet, one, testenv.AliceKey, nil)
	call(http.MethodGet, "/events/events/?ordering=created", testenv.AdminKey, nil)
	return answers
}

// rows reads what is stored, normalized, table by table.
func rows(t *testing.T, e *testenv.Env) map[string][]string {
	out := map[string][]string{}
	for _, table := range []string{"connections", "oauth_sources", "users", "tokens", "events"} {
		var rs []map[string]any
		if err := e.Store.DB().Table(table).Find(&rs).Error; err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, r := range rs {
			for k, v := range r {
				if strings.Contains(k, "seal") || strings.Contains(k, "secret") || strings.Contains(k, "access_token") || k == "key" {
					r[k] = v != nil // sealed with a random nonce: only whether one is stored compares
				}
			}
		}
		out[table] = normalizeRows(rs)
	}
	return out
}

// normalizeRows normalizes rows and sorts them by their text: their keys
// may be uuids, whose order is chance.
func normalizeRows(rs []map[string]any) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		raw, _ := json.Marshal(normalized(map[string]any(r)))
		out[i] = string(raw)
	}
	sort.Strings(out)
	return out
}

// The 2024.8 contract's own mount and /api/v3/ (today the same contract)
// give the same answers to the same requests, and store the same rows and
// audit events (their recorded path aside, which names the mount).
func TestCompatMountAnswersAsBaseURL(t *testing.T) {
	a, b := testenv.New(t), testenv.New(t)
	onBase, onCompat := crud(t, a, server.BaseURL), crud(t, b, compat2024)
	for i := range onBase {
		if !reflect.DeepEqual(onBase[i], onCompat[i]) {
			t.Errorf("answer %d differs:\n%s: %v\n%s: %v", i, server.BaseURL, onBase[i], compat2024, onCompat[i])
		}
	}
	ra, rb := rows(t, a), rows(t, b)
	for table := range ra {
		if !reflect.DeepEqual(ra[table], rb[table]) {
			t.Errorf("stored %s differ:\n%s: %v\n%s: %v", table, server.BaseURL, ra[table], compat2024, rb[table])
		}
	}
	if events := ra["events"]; len(events) < 8 {
		t.Errorf("only %d events recorded", len(events))
	}
}

// Each mount serves its own contract at schema/, naming itself as the
// server, and its API browser reads it from there.
func TestEachMountServesItsSchema(t *testing.T) {
	e := testenv.NewCurrent(t)
	for base, want := range map[string][]byte{server.BaseURL: testenv.Spec(t), compat2024: server.Registry[0].Spec} {
		r := e.Serve(at(testenv.NewRequest(t, http.MethodGet, "/schema/", "", nil), base))
		if r.Status != http.StatusOK {
			t.Fatalf("%s/schema/: %d", base, r.Status)
		}
		if !strings.Contains(string(r.Body), "\nservers:\n- url: "+base+"/\n") {
			t.Errorf("%s/schema/ does not name %s as its server", base, base)
		}
		if got := strings.Replace(string(r.Body), "- url: "+base+"/", "- url: /api/v3/", 1); got != string(want) {
			t.Errorf("%s/schema/ is not its contract's spec", base)
		}
		page := e.Serve(at(testenv.NewRequest(t, http.MethodGet, "/", "", nil), base))
		if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `spec-url="schema/"`) {
			t.Errorf("%s/: no API browser on the mount's schema (%d)", base, page.Status)
		}
	}
	if r := e.Serve(at(testenv.NewRequest(t, http.MethodGet, "/schema/", "", nil), server.CompatBase("1999.1"))); r.Status != http.StatusNotFound {
		t.Errorf("an unknown contract's mount answered %d", r.Status)
	}
}

// Mounts, from which the contract suite takes the mounts it covers, lists
// every mount New serves (BaseURL, then every version at its compat base),
// each with exactly the spec its schema/ serves.
func TestMountsListsEveryMountWithItsSchema(t *testing.T) {
	e := testenv.NewCurrent(t)
	mounts, err := server.Mounts(testenv.Spec(t), server.Registry, "")
	if err != nil {
		t.Fatal(err)
	}
	var bases []string
	for _, m := range mounts {
		bases = append(bases, m.Base)
		r := e.Serve(at(testenv.NewRequest(t, http.MethodGet, "/schema/", "", nil), m.Base))
		if r.Status != http.StatusOK || string(r.Body) != string(m.Schema) {
			t.Errorf("%s/schema/ (%d) is not the spec Mounts gives for %s", m.Base, r.Status, m.Version)
		}
	}
	want := []string{server.BaseURL}
	for _, v := range server.Versions(server.Registry) {
		want = append(want, server.CompatBase(v))
	}
	if !reflect.DeepEqual(bases, want) {
		t.Errorf("Mounts lists %v, want %v", bases, want)
	}
}

// An API version the server does not speak is refused at start, naming
// those it speaks.
func TestUnknownAPIVersionRefused(t *testing.T) {
	_, err := server.New(server.Config{Store: testenv.OpenStore(t), Spec: testenv.Spec(t), APIVersion: "2025.2"})
	if err == nil || !strings.Contains(err.Error(), `unknown API version "2025.2"`) || !strings.Contains(err.Error(), "2026.8, 2024.8") {
		t.Fatalf("New with an unknown version: %v", err)
	}
	for _, v := range []string{"2024.8", "2026.8", ""} {
		if _, err := server.New(server.Config{Store: testenv.OpenStore(t), Spec: testenv.Spec(t), APIVersion: v}); err != nil {
			t.Fatalf("New with %q: %v", v, err)
		}
	}
}
