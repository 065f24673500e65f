package contract_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"

	"akconn/testenv"
)

var counter atomic.Int64

// unique returns a fresh slug-safe name.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, counter.Add(1))
}

// fixture creates the objects scenarios need, through the API.
type fixture struct {
	t   testing.TB
	env *testenv.Env
	m   *mount // the mount the objects are created through
}

func (f *fixture) post(path, key string, body map[string]any) map[string]any {
	f.t.Helper()
	resp := f.env.Serve(f.m.request(f.t, http.MethodPost, path, key, body))
	if resp.Status != http.StatusCreated {
		f.t.Fatalf("fixture POST %s: %d %s", path, resp.Status, resp.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// source creates an OAuth source and returns its pk and slug.
func (f *fixture) source() (string, string) {
	slug := unique("src")
	b := f.post("/sources/oauth/", testenv.AdminKey, map[string]any{"name": "Source " + slug, "slug": slug,
		"provider_type": "github", "consumer_key": "ck", "consumer_secret": "contract-consumer-secret"})
	return b["pk"].(string), slug
}

// connection creates a connection for the holder of key to a new source.
func (f *fixture) connection(key string) string {
	pk, _ := f.source()
	b := f.post("/sources/user_connections/oauth/", key, map[string]any{"source": pk, "identifier": unique("ext"), "access_token": "contract-access-token"})
	return strconv.Itoa(int(b["pk"].(float64)))
}

// user creates an ordinary user without a token.
func (f *fixture) user() string {
	name := unique("user")
	b := f.post("/core/users/", testenv.AdminKey, map[string]any{"username": name, "name": name})
	return strconv.Itoa(int(b["pk"].(float64)))
}

// token creates a non-expiring API token for the holder of key.
func (f *fixture) token(key string) string {
	id := unique("tok")
	f.post("/core/tokens/", key, map[string]any{"identifier": id, "expiring": false})
	return id
}

// event makes an event of the holder of key (a token they create) and
// returns its uuid.
func (f *fixture) event(key string) string {
	f.t.Helper()
	id := f.token(key)
	resp := f.env.Serve(f.m.request(f.t, http.MethodGet, "/events/events/?context_model_name=token&page_size=1", key, nil))
	var page struct {
		Results []struct {
			PK      string `json:"pk"`
			Context struct {
				Model struct {
					Name string `json:"name"`
				} `json:"model"`
			} `json:"context"`
		} `json:"results"`
	}
	if err := json.Unmarshal(resp.Body, &page); err != nil || resp.Status != http.StatusOK || len(page.Results) == 0 ||
		!strings.HasPrefix(page.Results[0].Context.Model.Name, id) {
		f.t.Fatalf("fixture: no event of token %s: %d %s", id, resp.Status, resp.Body)
	}
	return page.Results[0].PK
}

// hooks keep generated bodies valid beyond the schema: references point
// at existing objects, unique fields stay unique, and the values the
// server refuses by a business rule (roles and groups are not modelled,
// an icon must need no stored file) are not drawn; invalidByRule lists
// those, for TestInvalidBodies.
func (f *fixture) hooks(caller string) map[string]hook {
	callerID := map[string]int64{testenv.AliceKey: f.env.Alice.ID, testenv.BobKey: f.env.Bob.ID, testenv.AdminKey: f.env.Admin.ID}[caller]
	h := map[string]hook{
		"source": func(t *rapid.T, _ *openapi3.Schema) any { pk, _ := f.source(); return pk },
		// A connection's owner, writable in 2024.8's requests (this
		// server's addition); an event's user is a free-form object.
		"user": func(t *rapid.T, s *openapi3.Schema) any {
			if s == nil || !s.Type.Is("integer") {
				return drawn
			}
			if caller == testenv.AdminKey {
				return rapid.SampledFrom([]int64{f.env.Alice.ID, f.env.Bob.ID, callerID}).Draw(t, "user")
			}
			return callerID
		},
		"slug": func(t *rapid.T, s *openapi3.Schema) any {
			n := maxLength(s, 50)
			return truncateRunes(unique("s")+"-"+rapid.StringOfN(rapid.SampledFrom([]rune(slugChars)), 0, n, -1).Draw(t, "slug"), n)
		},
		// Up to the mount's own bound: 255 in 2024.8, more in the current
		// contract (identifiers 2024.8 cannot show).
		"identifier": func(t *rapid.T, s *openapi3.Schema) any {
			n := maxLength(s, 255)
			return truncateRunes(unique("i")+"_"+rapid.StringOfN(rapid.SampledFrom([]rune(slugChars)), 0, n, -1).Draw(t, "identifier"), n)
		},
		"username": func(t *rapid.T, s *openapi3.Schema) any {
			n := maxLength(s, 150)
			return untrimmed(truncateRunes(unique("u")+rapid.StringOfN(textRunes, 0, n, -1).Draw(t, "username"), n))
		},
		"icon":                    func(t *rapid.T, s *openapi3.Schema) any { return drawIcon(t, maxLength(s, 1024)) },
		"authentication_flow":     func(*rapid.T, *openapi3.Schema) any { return nil },
		"enrollment_flow":         func(*rapid.T, *openapi3.Schema) any { return nil },
		"user_property_mappings":  func(*rapid.T, *openapi3.Schema) any { return []any{} },
		"group_property_mappings": func(*rapid.T, *openapi3.Schema) any { return []any{} },
		"groups":                  func(*rapid.T, *openapi3.Schema) any { return []any{} },
		"roles":                   func(*rapid.T, *openapi3.Schema) any { return []any{} },
		"intent": func(t *rapid.T, _ *openapi3.Schema) any {
			return rapid.SampledFrom([]string{"api", "app_password"}).Draw(t, "intent")
		},
		"managed": func(t *rapid.T, _ *openapi3.Schema) any {
			if caller != testenv.AdminKey || rapid.Bool().Draw(t, "managed:null") {
				return nil
			}
			return unique("goauthentik.io/contract")
		},
	}
	if caller != testenv.AdminKey {
		h["managed"] = func(*rapid.T, *openapi3.Schema) any { return omit }
		// Tokens of ordinary users always expire, within the user's maximum
		// lifetime (authentik's rule; TestOrdinaryTokensExpire covers the
		// refusals).
		h["expiring"] = func(*rapid.T, *openapi3.Schema) any { return true }
		h["expires"] = func(t *rapid.T, _ *openapi3.Schema) any {
			ahead := time.Duration(rapid.IntRange(1, 20*60).Draw(t, "expires:seconds")) * time.Second
			return time.Now().Add(ahead).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		}
	}
	return h
}

// maxLength is s's maxLength, or otherwise when it has none.
func maxLength(s *openapi3.Schema, otherwise int) int {
	if s != nil && s.MaxLength != nil {
		return int(*s.MaxLength)
	}
	return otherwise
}

// iconPrefixes are the starts of the icon references this server takes:
// those that need no stored file (server/icons.go).
var iconPrefixes = []string{"https://cdn.example/", "http://icons.example/", "fa://", "/static/dist/assets/icons/"}

// drawIcon draws an icon reference the server takes, at most n
// characters: none, or a URL or /static path, themed or not.
func drawIcon(t *rapid.T, n int) string {
	if rapid.IntRange(0, 4).Draw(t, "icon:none") == 0 {
		return ""
	}
	icon := rapid.SampledFrom(iconPrefixes).Draw(t, "icon:prefix")
	if rapid.Bool().Draw(t, "icon:themed") {
		icon += themePlaceholder
	}
	tail := rapid.StringOfN(textRunes, 0, n, -1).Draw(t, "icon:tail")
	return untrimmed(truncateRunes(icon+strings.ReplaceAll(tail, "..", "._"), n))
}

// themePlaceholder in an icon stands for the theme.
const themePlaceholder = "%(theme)s"

// fixURLs adds the URLs a provider type without fixed ones requires, as
// a valid request must.
func fixURLs(body map[string]any) {
	switch body["provider_type"] {
	case "openidconnect", "mailcow", "okta":
		for _, k := range []string{"authorization_url", "access_token_url", "profile_url"} {
			body[k] = "https://idp.example/" + k
		}
	}
}

// fixPatchURLs keeps a partial update of a source whose provider type has
// no fixed URLs from clearing the ones it needs.
func fixPatchURLs(patch map[string]any, current any) {
	fixURLs(patch)
	if _, changes := patch["provider_type"]; changes {
		return
	}
	switch current {
	case "openidconnect", "mailcow", "okta":
		for _, k := range []string{"authorization_url", "access_token_url", "profile_url"} {
			if v, ok := patch[k]; ok && v == nil {
				delete(patch, k)
			}
		}
	}
}
