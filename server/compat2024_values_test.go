package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"

	"akconn/gen"
	"akconn/store"
)

// Each value change answers the same JSON as the JSON change it stands
// for (byte for byte where no free-form object is involved), on
// connections of every kind (with and without an expiry, an identifier
// with characters JSON escapes, sources with and without icons, entraid,
// promoted; single and in a page) and on pages of events.
func TestValueChangesMatchResponses(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)
	s := &Server{}
	var conns []gen.UserOAuthSourceConnection
	for i, src := range []store.OAuthSource{
		{ProviderType: "github", Slug: "gh", Name: "GitHub <&>", PolicyEngineMode: "any", UserMatchingMode: "identifier"},
		{ProviderType: "entraid", Slug: "entra", Name: "Entra", Promoted: true, Icon: "https://x.example/%(theme)s.png",
			PolicyEngineMode: "all", UserMatchingMode: "email_link", UserPropertyMappings: []string{uuid.NewString()}},
		{ProviderType: "okta", Slug: "okta", Name: "Okta", Icon: "/static/okta.svg", Managed: ptr("goauthentik.io/x"),
			AuthenticationFlow: ptr(uuid.NewString())},
	} {
		src.ID, src.Version = uuid.NewString(), int64(i+1)
		for j, expires := range []*time.Time{nil, &at} {
			conn := store.Connection{ID: int64(10*i + j), UserID: int64(i), Identifier: "id <\u2028> \"é\" " + src.Slug,
				Created: at, LastUpdated: at.Add(time.Second), Expires: expires, Source: src}
			conns = append(conns, s.connectionJSON(&conn))
		}
	}
	page := gen.PaginatedUserOAuthSourceConnectionList{Results: conns, Autocomplete: noAutocomplete,
		Pagination: gen.Pagination{Count: 6, Current: 1, TotalPages: 1, StartIndex: 1, EndIndex: 6}}
	values := []any{page}
	for _, c := range conns {
		values = append(values, c)
	}
	events := gen.PaginatedEventList{Autocomplete: noAutocomplete, Pagination: page.Pagination}
	for _, ctx := range []string{`{"z":1,"a":{"y":[1,"<x>"],"b":null}}`, `{}`} {
		e := store.Event{UUID: uuid.NewString(), Action: "model_created", App: "x", Context: store.JSON(ctx),
			User: store.JSON(`{"username":"u","pk":3}`), Brand: store.JSON(`{}`), Created: at, Expires: at}
		events.Results = append(events.Results, eventJSON(&e))
	}
	for op, fast := range change2024to2026.Values {
		slow := change2024to2026.Responses[op]
		for _, v := range values {
			if op == "events_events_list" {
				v = events
			}
			got, ok := fast(200, v)
			if !ok {
				t.Fatalf("%s: the value change did not take %T", op, v)
			}
			want, err := slow(200, decodeForTest(t, v))
			if err != nil {
				t.Fatal(err)
			}
			g, w := encodeForTest(t, got), encodeForTest(t, want)
			if op != "events_events_list" && !bytes.Equal(g, w) {
				t.Errorf("%s:\nvalue change %s\nJSON change  %s", op, g, w)
			}
			if !reflect.DeepEqual(decodeForTest(t, json.RawMessage(g)), decodeForTest(t, json.RawMessage(w))) {
				t.Errorf("%s: not the same JSON:\nvalue change %s\nJSON change  %s", op, g, w)
			}
		}
		if _, ok := fast(400, map[string]string{"detail": "x"}); ok {
			t.Errorf("%s: the value change took an error", op)
		}
	}
}

func encodeForTest(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gojson.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeForTest(t *testing.T, v any) any {
	t.Helper()
	dec := gojson.NewDecoder(bytes.NewReader(encodeForTest(t, v)))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
