package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"akconn/server"
	"akconn/store"
	"akconn/testenv"
)

// testVersion is a test-only contract: openapi.yaml with a connection's
// identifier named ext_id, served through a change that renames it.
const testVersion = "2099.1"

// renamedSpec is openapi.yaml with identifier renamed ext_id in the
// connection schemas, of series testVersion.
func renamedSpec(t *testing.T) []byte {
	doc, err := openapi3.NewLoader().LoadFromData(testenv.Spec(t))
	if err != nil {
		t.Fatal(err)
	}
	doc.Info.Version = testVersion + ".0-test"
	for _, name := range []string{"UserOAuthSourceConnection", "UserOAuthSourceConnectionRequest", "PatchedUserOAuthSourceConnectionRequest"} {
		s := doc.Components.Schemas[name].Value
		s.Properties["ext_id"] = s.Properties["identifier"]
		delete(s.Properties, "identifier")
		for i, r := range s.Required {
			if r == "identifier" {
				s.Required[i] = "ext_id"
			}
		}
	}
	raw, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rename moves key to name in m, when present.
func rename(m map[string]any, key, name string) {
	if v, ok := m[key]; ok {
		delete(m, key)
		m[name] = v
	}
}

// renaming is the test contract's change, and a count of its runs.
func renaming(runs map[string]int) server.VersionChange {
	toNew := func(r *server.Request) error {
		runs["request"]++
		if r.Body != nil {
			rename(r.Body, "ext_id", "identifier")
		}
		return nil
	}
	toOld := func(status int, body any) (any, error) {
		runs["response"]++
		m, _ := body.(map[string]any)
		if m == nil {
			return body, nil
		}
		rename(m, "identifier", "ext_id") // an object, or a 400 naming the field
		if results, ok := m["results"].([]any); ok {
			for _, r := range results {
				rename(r.(map[string]any), "identifier", "ext_id")
			}
		}
		return m, nil
	}
	ch := server.VersionChange{Description: "identifier is ext_id", Requests: map[string]func(*server.Request) error{},
		Responses: map[string]func(int, any) (any, error){}}
	for _, op := range []string{"create", "update", "partial_update"} {
		ch.Requests["sources_user_connections_oauth_"+op] = toNew
	}
	for _, op := range []string{"create", "update", "partial_update", "retrieve", "list"} {
		ch.Responses["sources_user_connections_oauth_"+op] = toOld
	}
	return ch
}

// A contract's changes run between its mount's validators and the
// handler: the request as the mount validated it (ext_id) reaches the
// handler renamed, and the handler's answer reaches the mount's response
// validation renamed back; were either out of order, the request would be
// refused (400) or the response replaced (500). The stored row is the same
// whichever mount wrote it.
func TestVersionChangesRunBetweenValidatorsAndHandler(t *testing.T) {
	runs := map[string]int{}
	contract := server.Contract{Version: testVersion, Spec: renamedSpec(t), Changes: []server.VersionChange{renaming(runs)}}
	e := testenv.NewWithConfig(t, server.Config{Contracts: append([]server.Contract{contract}, server.Registry...)})
	base := server.CompatBase(testVersion)
	src := createSourceOn(t, e)
	do := func(base, method, path string, body any, header ...string) testenv.Response {
		req := at(testenv.NewRequest(t, method, path, testenv.AliceKey, body), base)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return e.Serve(req)
	}
	r := do(base, http.MethodPost, "/sources/user_connections/oauth/", map[string]any{"source": src, "ext_id": "ext-1"})
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"ext_id":"ext-1"`) || strings.Contains(string(r.Body), `"identifier":`) {
		t.Fatalf("create through the test contract: %d %s", r.Status, r.Body)
	}
	pk := r.JSON(t).(map[string]any)["pk"]
	var stored store.Connection
	if err := e.Store.DB().Take(&stored, pk).Error; err != nil || stored.Identifier != "ext-1" {
		t.Fatalf("stored connection: %+v, %v", stored, err)
	}
	one := fmt.Sprintf("/sources/user_connections/oauth/%v/", pk)
	if r := do(base, http.MethodPatch, one, map[string]any{"ext_id": "ext-2"}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"ext_id":"ext-2"`) {
		t.Fatalf("patch through the test contract: %d %s", r.Status, r.Body)
	}
	if r := do(server.BaseURL, http.MethodGet, one, nil); !strings.Contains(string(r.Body), `"identifier":"ext-2"`) {
		t.Fatalf("read through /api/v3/: %d %s", r.Status, r.Body)
	}
	if r := do(base, http.MethodGet, "/sources/user_connections/oauth/", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"ext_id":"ext-2"`) {
		t.Fatalf("list through the test contract: %d %s", r.Status, r.Body)
	}
	if r := do(base, http.MethodPost, "/sources/user_connections/oauth/", map[string]any{"source": src, "ext_id": ""}); r.Status != http.StatusBadRequest ||
		!strings.Contains(string(r.Body), `"ext_id"`) {
		t.Fatalf("a refused create names the test contract's field: %d %s", r.Status, r.Body)
	}
	if runs["request"] != 2 || runs["response"] != 3 { // the refused create never reached them
		t.Fatalf("the change ran %v times", runs)
	}

	// ETags: a strong tag names one representation. The test contract's
	// tags carry its version; /api/v3/ and /compat/2024.8/ send the same
	// representation and the same tag.
	tagOn := func(base string) string { return do(base, http.MethodGet, one, nil).Header.Get("ETag") }
	plain, compat, own := tagOn(server.BaseURL), tagOn(compat2024), tagOn(base)
	if plain == "" || plain != compat || own != `"`+testVersion+":"+plain[1:] {
		t.Fatalf("tags: /api/v3/ %s, 2024.8 %s, test %s", plain, compat, own)
	}
	if r := do(base, http.MethodGet, one, nil, "If-None-Match", plain); r.Status != http.StatusOK {
		t.Errorf("another representation's tag gave %d on the test contract", r.Status)
	}
	if r := do(base, http.MethodGet, one, nil, "If-None-Match", own); r.Status != http.StatusNotModified {
		t.Errorf("the test contract's own tag gave %d", r.Status)
	}
	if r := do(compat2024, http.MethodGet, one, nil, "If-None-Match", plain); r.Status != http.StatusNotModified {
		t.Errorf("/api/v3/'s tag on /compat/2024.8/ (the same representation) gave %d", r.Status)
	}
	if r := do(base, http.MethodPatch, one, map[string]any{"ext_id": "ext-3"}, "If-Match", plain); r.Status != http.StatusPreconditionFailed ||
		r.Header.Get("ETag") != own {
		t.Errorf("If-Match with another representation's tag: %d, tag %s", r.Status, r.Header.Get("ETag"))
	}
}

// createSourceOn creates the source github as the superuser and returns
// its pk.
func createSourceOn(t *testing.T, e *testenv.Env) any {
	r := e.Serve(testenv.NewRequest(t, http.MethodPost, "/sources/oauth/", testenv.AdminKey, map[string]any{"name": "GitHub",
		"slug": "github", "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"}))
	if r.Status != http.StatusCreated {
		t.Fatalf("create source: %d %s", r.Status, r.Body)
	}
	return r.JSON(t).(map[string]any)["pk"]
}
