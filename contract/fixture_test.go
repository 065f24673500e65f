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
// at existing objects and unique fields stay unique.
func (f *fixture) hooks(caller string) map[string]hook {
	callerID := map[string]int64{testenv.AliceKey: f.env.Alice.ID, testenv.BobKey: f.env.Bob.ID, testenv.AdminKey: f.env.Admin.ID}[caller]
	h := map[string]hook{
		"source": func(t *rapid.T) any { pk, _ := f.source(); return pk },
		"user": func(t *rapid.T) any {
			if caller == testenv.AdminKey {
				return rapid.SampledFrom([]int64{f.env.Alice.ID, f.env.Bob.ID, callerID}).Draw(t, "user")
			}
			return callerID
		},
		"slug": func(t *rapid.T) any {
			return truncateRunes(unique("s")+"-"+rapid.StringOfN(rapid.SampledFrom([]rune(slugChars)), 0, 50, -1).Draw(t, "slug"), 50)
		},
		"identifier": func(t *rapid.T) any {
			return truncateRunes(unique("i")+"_"+rapid.StringOfN(rapid.SampledFrom([]rune(slugChars)), 0, 255, -1).Draw(t, "identifier"), 255)
		},
		"username": func(t *rapid.T) any {
			return untrimmed(truncateRunes(unique("u")+rapid.StringOfN(textRunes, 0, 150, -1).Draw(t, "username"), 150))
		},
		"authentication_flow":     func(*rapid.T) any { return nil },
		"enrollment_flow":         func(*rapid.T) any { return nil },
		"user_property_mappings":  func(*rapid.T) any { return []any{} },
		"group_property_mappings": func(*rapid.T) any { return []any{} },
		"groups":                  func(*rapid.T) any { return []any{} },
		"intent":                  func(t *rapid.T) any { return rapid.SampledFrom([]string{"api", "app_password"}).Draw(t, "intent") },
		"managed": func(t *rapid.T) any {
			if caller != testenv.AdminKey || rapid.Bool().Draw(t, "managed:null") {
				return nil
			}
			return unique("goauthentik.io/contract")
		},
	}
	if caller != testenv.AdminKey {
		h["managed"] = func(*rapid.T) any { return omit }
		// Tokens of ordinary users always expire, within the user's maximum
		// lifetime (authentik's rule; TestOrdinaryTokensExpire covers the
		// refusals).
		h["expiring"] = func(*rapid.T) any { return true }
		h["expires"] = func(t *rapid.T) any {
			ahead := time.Duration(rapid.IntRange(1, 20*60).Draw(t, "expires:seconds")) * time.Second
			return time.Now().Add(ahead).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		}
	}
	return h
}

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
