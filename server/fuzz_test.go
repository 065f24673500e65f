package server_test

// Native fuzz targets (go test -fuzz) for the request surface that takes
// untrusted bytes: JSON bodies, raw query strings and path segments. Every
// response, whatever the input, must
//
//   - never be a 5xx (with response validation enforced, a response that
//     breaks the spec also turns into a 500, so this covers it too);
//   - carry a status openapi.yaml documents for the operation echo routed
//     the request to (404/405 when no operation matched), within
//     {200, 201, 204, 400, 403, 404, 405, 413, 415};
//   - for a 4xx, be a JSON object: a GenericError {"detail": string} or, for
//     a 400, a ValidationError whose every value is a list of strings;
//   - never contain a secret stored during setup (an access token, a
//     consumer secret, an API key) unless the input itself holds it.
//
// Each target builds one environment (real router, real database) before
// f.Fuzz. An iteration whose write went through (2xx) or failed (5xx) is
// followed by a restore of every table to its setup rows, so each iteration
// starts from the same state and a failing input reproduces on its own (the
// fuzzer's minimizer relies on that). No invariant depends on the state.
//
// Run one target, e.g.:
//
//	go test ./server -run '^$' -fuzz '^FuzzRequestBody$' -fuzztime 30s

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func fixedPath(p string) func(*fuzzEnv) string { return func(*fuzzEnv) string { return p } }

// bodyOps are the operations FuzzRequestBody's op byte selects (op modulo
// their number). Updates aim at the setup's fuzz targets rather than at the
// callers, so that a write cannot lock a caller out mid-iteration.
var bodyOps = []bodyOp{
	/* 0 */ {http.MethodPost, aliceKey, fixedPath("/sources/user_connections/oauth/")},
	/* 1 */ {http.MethodPut, aliceKey, func(fe *fuzzEnv) string { return fmt.Sprintf("/sources/user_connections/oauth/%d/", fe.aliceConn) }},
	/* 2 */ {http.MethodPatch, aliceKey, func(fe *fuzzEnv) string { return fmt.Sprintf("/sources/user_connections/oauth/%d/", fe.aliceConn) }},
	/* 3 */ {http.MethodPost, adminKey, fixedPath("/sources/oauth/")},
	/* 4 */ {http.MethodPut, adminKey, fixedPath("/sources/oauth/" + fuzzTargetSlug + "/")},
	/* 5 */ {http.MethodPatch, adminKey, fixedPath("/sources/oauth/" + fuzzTargetSlug + "/")},
	/* 6 */ {http.MethodPost, aliceKey, fixedPath("/core/tokens/")},
	/* 7 */ {http.MethodPut, aliceKey, fixedPath("/core/tokens/" + fuzzAliceTokenID + "/")},
	/* 8 */ {http.MethodPatch, aliceKey, fixedPath("/core/tokens/" + fuzzAliceTokenID + "/")},
	/* 9 */ {http.MethodPost, adminKey, fixedPath("/core/users/")},
	/* 10 */ {http.MethodPut, adminKey, func(fe *fuzzEnv) string { return fmt.Sprintf("/core/users/%d/", fe.victim) }},
	/* 11 */ {http.MethodPatch, adminKey, func(fe *fuzzEnv) string { return fmt.Sprintf("/core/users/%d/", fe.victim) }},
	/* 12 */ {http.MethodPost, adminKey, fixedPath("/sources/user_connections/oauth/")},
	/* 13 */ {http.MethodPatch, adminKey, func(fe *fuzzEnv) string { return fmt.Sprintf("/sources/user_connections/oauth/%d/", fe.adminConn) }},
	/* 14 */ {http.MethodPost, adminKey, fixedPath("/core/tokens/")},
	/* 15 */ {http.MethodPatch, adminKey, fixedPath("/core/tokens/" + fuzzAdminTokenID + "/")},
	/* 16 */ {http.MethodPost, aliceKey, fixedPath("/sources/oauth/")}, // not a superuser: 403
	/* 17 */ {http.MethodPatch, aliceKey, func(fe *fuzzEnv) string { return fmt.Sprintf("/core/users/%d/", fe.Alice.ID) }}, // 403
}

// Op indexes the seeds use.
const (
	opConnCreate, opConnPut, opConnPatch       = 0, 1, 2
	opSourceCreate, opSourcePut, opSourcePatch = 3, 4, 5
	opTokenCreate, opTokenPut, opTokenPatch    = 6, 7, 8
	opUserCreate, opUserPut, opUserPatch       = 9, 10, 11
)

// fuzzBodies are bodies malformed in every way a JSON decoder or a schema
// validator can meet.
func fuzzBodies() []string {
	deep := strings.Repeat("[", 10000)
	return []string{
		``, ` `, `{}`, `null`, `[]`, `[{}]`, `"str"`, `1`, `-0`, `true`,
		`{`, `}`, `{"identifier":`, `{"identifier":"a"`, `{"identifier":"a",}`, `{identifier:"a"}`, `{'identifier':'a'}`,
		`{} {}`, `{}x`, " \n\t{}\r\n", "\xef\xbb\xbf{}",
		`{"identifier":1e999}`, `{"user":99999999999999999999}`, `{"user":-1}`, `{"user":1.5}`, `{"user":"2"}`, `{"user":0}`,
		`{"expiring":"yes"}`, `{"enabled":1}`, `{"is_active":null}`,
		`{"identifier":null,"source":null,"user":null,"access_token":null,"expires":null}`,
		`{"identifier":["a"]}`, `{"identifier":{"a":1}}`, `{"name":true,"username":[]}`,
		`{"identifier":"a","identifier":"b"}`, `{"unknown_field":1}`,
		`{"Identifier":"case"}`, // a key differing from the schema's in case only
		`{"identifier":"\u0000"}`, `{"description":"a\u0000b","name":"x"}`, `{"attributes":{"k":"\u0000"}}`,
		`{"identifier":"日本語🙂","name":"Ünïcödé","username":"ユーザー"}`, `{"identifier":"\ud800"}`, "{\"identifier\":\"\xff\xfe\"}",
		`{"identifier":"` + strings.Repeat("x", 300) + `"}`,
		`{"expires":"2024-13-45T99:99:99Z"}`, `{"expires":"0001-01-01T00:00:00+14:00"}`, `{"expires":"9999-12-31T23:59:59-14:00"}`,
		`{"last_login":"0000-01-01T00:00:00Z"}`, `{"attributes":{"a":1e400}}`, `{"attributes":[]}`, `{"oidc_jwks":[1,2]}`,
		`{"source":"not-a-uuid"}`, `{"source":"` + fuzzTargetSourceID + `"}`, `{"groups":["00000000-0000-0000-0000-000000000000"]}`,
		`{"user_property_mappings":[null]}`, `{"slug":"bad slug!"}`, `{"email":"not-an-email"}`, `{"type":"robot"}`, `{"intent":"recovery"}`,
		deep, deep + strings.Repeat("]", 10000), `{"a":` + deep + strings.Repeat("]", 10000) + `}`,
		strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000),
		// The adversarial review's inputs.
		`{"identifier":"first"}{"identifier":"second"}`, `{"identifier":"first"} garbage`, `{"identifier":"   "}`,
		`{"identifier":" x ","name":" N　","username":"u "}`, `{"expires":null,"expiring":true}`,
		`{"expires":"9999-12-31T23:59:59Z","expiring":true}`, `{"identifier":"x","zz":[` + strings.Repeat("0,", 50000) + `0]}`,
		`{"attributes":{"k":[` + strings.Repeat("0,", 12000) + `0]}}`, `{"zz":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	}
}

// validBodies are bodies each operation accepts, or nearly.
var validBodies = map[int][]string{
	opConnCreate: {`{"source":"` + fuzzTargetSourceID + `","identifier":"fz-new","access_token":"t","expires":"2030-01-01T00:00:00Z"}`,
		`{"source":"00000000-0000-4000-8000-000000000000","identifier":"x"}`},
	opConnPut:   {`{"identifier":"fz-alice-2","access_token":null,"expires":null}`, `{"identifier":"x","user":3}`},
	opConnPatch: {`{"IDENTIFIER":"case"}`, `{"identifier":"x"}`, `{"source":"` + fuzzTargetSourceID + `"}`, `{"expires":"not-a-date"}`, `{"access_token":""}`},
	opSourceCreate: {`{"name":"N","slug":"fz-new","provider_type":"github","consumer_key":"k","consumer_secret":"s"}`,
		`{"name":"N","slug":"fz-oidc","provider_type":"openidconnect","consumer_key":"k","consumer_secret":"s"}`,
		`{"name":"N","slug":"fz-jwks","provider_type":"github","consumer_key":"k","consumer_secret":"s","oidc_jwks":{"keys":[]},"policy_engine_mode":"all"}`},
	opSourcePut: {`{"name":"N","slug":"` + fuzzTargetSlug + `","provider_type":"github","consumer_key":"k","consumer_secret":"s"}`},
	opSourcePatch: {`{"Slug":"case"}`, `{"name":"renamed"}`, `{"provider_type":"openidconnect"}`, `{"authentication_flow":"` + fuzzVaultSourceID + `"}`,
		`{"authorization_url":null,"access_token_url":"` + strings.Repeat("u", 256) + `"}`},
	opTokenCreate: {`{"identifier":"fz-t1","intent":"api","description":"d","expires":"2030-01-01T00:00:00Z","expiring":true}`,
		`{"identifier":"fz-t2","managed":"m"}`, `{"identifier":"fz-t3","user":1}`, `{"identifier":"fz-t4","expiring":false}`},
	opTokenPut:   {`{"identifier":"` + fuzzAliceTokenID + `","description":"d"}`},
	opTokenPatch: {`{"Identifier":"case"}`, `{"description":"d"}`, `{"expiring":false}`, `{"intent":"verification"}`, `{"expires":null}`},
	opUserCreate: {`{"username":"fz-u","name":"U","email":"a@b.c","attributes":{"k":[1,{"x":null}]},"path":"users","type":"external"}`,
		`{"username":"fz-v","name":"V","groups":[],"is_active":false,"last_login":"2020-01-01T00:00:00Z"}`},
	opUserPut:   {`{"username":"` + fuzzVictimUsername + `","name":"Victim"}`},
	opUserPatch: {`{"Username":"case"}`, `{"is_active":false}`, `{"last_login":"2020-01-01T00:00:00Z"}`, `{"email":""}`, `{"username":"alice"}`},
}

func FuzzRequestBody(f *testing.F) {
	for op, bodies := range validBodies {
		for _, b := range bodies {
			f.Add(uint8(op), []byte(b))
		}
	}
	// Each malformed body goes to two operations (one creating, one
	// updating, varying with the body); the fuzzer varies the op byte.
	for i, b := range fuzzBodies() {
		f.Add(uint8(i%len(bodyOps)), []byte(b))
		f.Add(uint8((i+len(bodyOps)/2+1)%len(bodyOps)), []byte(b))
	}
	fe := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		o := bodyOps[int(op)%len(bodyOps)]
		r, ok := fe.send(o.method, o.path(fe), o.key, body)
		if !ok {
			t.Skip("request cannot be built")
		}
		if changed(r) {
			defer fe.restore(t)
		}
		fe.check(t, r, string(body))
	})
}

// listPaths are the list endpoints FuzzQueryParams queries: index%4 picks
// the endpoint and bit 2 the caller (alice or admin).
var listPaths = []string{"/sources/user_connections/oauth/", "/sources/oauth/", "/core/users/", "/core/tokens/"}

func FuzzQueryParams(f *testing.F) {
	queries := []string{
		"", "page=0", "page=1", "page=2", "page=abc", "page=-1", "page=1.5", "page=2147483648", "page=9223372036854775807",
		"page=99999999999999999999", "page_size=-5", "page_size=0", "page_size=1", "page_size=1000000", "page=1&page_size=1",
		"ordering=-pk,,nonsense", "ordering=pk", "ordering=-created,source__slug", "ordering=" + strings.Repeat("-pk,", 200),
		"search=%25%5F", "search=fz", "search=%5C", "search=%00", "a=%00", "%00=1",
		"user=99999999999999999999", "user=2", "user=-1", "user=abc", "source__slug=" + fuzzVaultSlug,
		"type=robot&type=internal", "type=internal&type=external", "attributes=%7B", "attributes=%7B%22a%22%3A1%7D",
		"attributes=null", "attributes=%5B%5D", "attributes=%7B%22a%22%3A%7B%22b%22%3A%5B1%5D%7D%7D", "attributes=%7B%22a%22%3Atrue%7D",
		"has_jwks=maybe", "has_jwks=true", "has_jwks=false", "enabled=0", "is_active=1", "is_superuser=TRUE",
		"expires=2024-01-01T00:00:00Z", "expires=yesterday", "expiring=false", "intent=api", "intent=root",
		"groups_by_pk=abc", "groups_by_name=x", "include_groups=false", "uuid=not-a-uuid", "path_startswith=%25",
		"authentication_flow=00000000-0000-0000-0000-000000000000", "policy_engine_mode=none", "user__username=alice",
		"%zz", "=", "&&&", "page=&page=2", "page=1;page=2", "page=1&page=2", "search=日本語", "search=%FF%FE", "search=a+b#frag",
		"name=" + strings.Repeat("x", 5000),
		// SQLite's LIKE refused patterns of 50,000 bytes or more.
		"search=" + strings.Repeat("a", 50000), "search=" + strings.Repeat("%25", 25000),
		"attributes=%7B%22t%22%3A1%7D", "attributes=%7B%22a%5C%22b%22%3A%22x%22%7D",
	}
	// Each query goes to every endpoint, as alice or admin by turns.
	for i, q := range queries {
		for e := range listPaths {
			f.Add(uint8(e+4*(i%2)), q)
		}
	}
	fe := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, idx uint8, raw string) {
		key := aliceKey
		if idx&4 != 0 {
			key = adminKey
		}
		r, ok := fe.send(http.MethodGet, listPaths[int(idx)%len(listPaths)]+"?"+raw, key, nil)
		if !ok {
			t.Skip("request cannot be built")
		}
		fe.check(t, r, raw)
	})
}

// itemCollections are the collections whose items FuzzPathParams addresses.
var itemCollections = []string{"/sources/user_connections/oauth/", "/sources/oauth/", "/core/tokens/", "/core/users/"}

func FuzzPathParams(f *testing.F) {
	for _, s := range []string{
		"abc", "-1", "0", "1", "2", "3", "01", "+1", "1.5", "1e3", "0x10", " 1", "1 ",
		"99999999999999999999", "9223372036854775807", "-9223372036854775808",
		"%00", "\x00", "a\x00b", "..", ".", "%2e%2e", "a/b", "a?b", "a#b", "a%2Fb", "%", "%zz",
		"日本語", "🙂", "\xff\xfe", "\xff", "\xc3\x28", "a\x00/", "me", "used_by", "source_types", "view_key",
		fuzzVaultSlug, fuzzTargetSlug, "alice-token", fuzzAliceTokenID, fuzzVaultSourceID, strings.Repeat("a", 300),
	} {
		f.Add(s)
	}
	fe := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, seg string) {
		if seg == "" {
			t.Skip("empty segment")
		}
		dirty := false
		defer func() {
			if dirty {
				fe.restore(t)
			}
		}()
		// Go keeps an escaped path as sent (URL.RawPath) when its escapes
		// are not the ones Go would write, such as lower-case hex: echo then
		// routes on the escaped form.
		escapes := []string{url.PathEscape(seg)}
		if lower := strings.ToLower(escapes[0]); lower != escapes[0] {
			escapes = append(escapes, lower)
		}
		for _, target := range itemTargets(escapes) {
			item := target
			for _, rq := range []struct {
				method, target, key string
				body                []byte
			}{
				{http.MethodGet, item, adminKey, nil},
				{http.MethodGet, item, aliceKey, nil},
				{http.MethodGet, item + "used_by/", adminKey, nil},
				{http.MethodGet, item + "used_by/", aliceKey, nil},
				{http.MethodPatch, item, aliceKey, []byte(`{}`)},
				{http.MethodPatch, item, adminKey, []byte(`{}`)},
				// Deletes may remove the callers themselves (seg "2" is
				// alice); later requests of this iteration then answer
				// 403, and the restore brings everything back.
				{http.MethodDelete, item, aliceKey, nil},
				{http.MethodDelete, item, adminKey, nil},
			} {
				r, ok := fe.send(rq.method, rq.target, rq.key, rq.body)
				if !ok {
					t.Skip("request cannot be built")
				}
				dirty = dirty || changed(r)
				fe.check(t, r, seg)
			}
		}
	})
}

// itemTargets addresses an item of every collection by each of the
// escaped segments.
func itemTargets(escapes []string) []string {
	var out []string
	for _, esc := range escapes {
		for _, col := range itemCollections {
			out = append(out, col+esc+"/")
		}
	}
	return out
}
