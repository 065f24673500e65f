package contract_test

import (
	"net/http"
	"regexp"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"

	"akconn/testenv"
)

// The server issues the suite has found and reported for a fix in
// server/ (or openapi.yaml), each with the request, the answer and what is
// expected. Their checks run: each logs the failure it expects, and fails
// once the server no longer fails that way, so that the entry goes and
// the check is enforced from then on. Nothing here passes a check the
// server fails without saying so in the test log ("known server issue").

// knownRejections are the refusals TestInvalidBodies expects and the
// server does not answer, keyed by contract version, operation, field and
// what is broken, as its reject says them. TestInvalidBodies fails, after
// a whole run, on an entry no check named.
var knownRejections = map[string]string{}

// consulted are the knownRejections the run's checks named.
var consulted = map[string]bool{}

// oidcJWKS2024 is the issue of a free-form oidc_jwks on 2024.8's
// contract, where its schema is untyped ({}): POST, PUT or PATCH
// /sources/oauth/ with "oidc_jwks": "text" (or a number, list or boolean)
// answers 200/201 and stores {} (the value sent is lost: bindBody sets the
// current contract's map from a non-object as nil). Expected, as
// eventRequest2024 does for an event's user, context and brand: 400
// {"oidc_jwks": ["Expected a dictionary of items but got type \"str\"."]}.
const oidcJWKS2024 = "2024.8: a non-object oidc_jwks is taken and stored as {}"

func init() {
	for _, op := range []string{"sources_oauth_create", "sources_oauth_update", "sources_oauth_partial_update"} {
		for _, what := range []string{"an object (a number)", "an object (a list)", "an object (text)", "an object (a boolean)"} {
			knownRejections["2024.8 "+op+" oidc_jwks "+what] = oidcJWKS2024
		}
	}
}

// knownUnshownSource: a source's four URLs are bounded by 255 characters
// in 2024.8's response, and by 2,048 in the current contract's requests;
// server.Shown does not hide a source with a longer one from the 2024.8
// mounts, whose response validation then answers every read of it, and
// every list that holds it, 500 (the log: "response breaks the spec",
// field "authorization_url": string is too long). Expected: absent there
// (404, left out of lists), as a connection with an identifier over 255
// characters is. It names the issue when obj, a source as another mount
// reads it, has such a URL for n's contract, or "".
func knownUnshownSource(n *mount, r resource, obj map[string]any) string {
	if r.prefix != "sources_oauth" || obj == nil || !expressible(n, r, obj) {
		return ""
	}
	s := n.ops[r.prefix+"_retrieve"].responseSchema(http.StatusOK)
	for _, field := range []string{"request_token_url", "authorization_url", "access_token_url", "profile_url"} {
		v, _ := obj[field].(string)
		if max := unwrapped(s.Properties[field].Value).MaxLength; max != nil && uint64(utf8.RuneCountInString(v)) > *max {
			return n.version + ": a source with a URL over " + n.version + "'s maxLength is shown, and answers 500"
		}
	}
	return ""
}

// knownUsernameOutOfPattern: the current contract's UserSelf.username has
// upstream's pattern ^[\w.@+-]+$, which User*Request.username does not
// have (nor had this server's 2024.8 release, nor authentik's serializer):
// GET /core/users/me/ as a user named "John Doe" answers 500 (the log:
// field "user.username": string does not match the pattern). Expected:
// 200. It names the issue when username is out of n's pattern, or "".
func knownUsernameOutOfPattern(n *mount, username string) string {
	s := n.ops["core_users_me_retrieve"].responseSchema(http.StatusOK)
	self := unwrapped(s.Properties["user"].Value)
	pattern := unwrapped(self.Properties["username"].Value).Pattern
	if pattern == "" || regexp.MustCompile(pattern).MatchString(username) {
		return ""
	}
	return n.version + ": users/me of a username out of UserSelf's pattern answers 500"
}

// failsAsKnown sends req, which runs into issue: it expects a 5xx, logs
// it, and fails the check once the server answers otherwise.
func failsAsKnown(t testing.TB, rt *rapid.T, env *testenv.Env, req *http.Request, issue string) {
	t.Helper()
	resp := env.Serve(req)
	if resp.Status < 500 {
		rt.Fatalf("%s %s: %d %s: known server issue %q no longer holds: drop it from known_issues_test.go", req.Method, req.URL, resp.Status, resp.Body, issue)
	}
	t.Logf("known server issue (%s): %s %s: %d", issue, req.Method, req.URL, resp.Status)
}
