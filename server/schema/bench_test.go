package schema_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// retrieveBody is a sources_user_connections_oauth_retrieve 200 as the
// server writes it (the current contract, authentik 2026.8: source is the
// source's pk and source_obj the source; a source without an icon).
const retrieveBody = `{"created":"2024-05-01T10:11:12.123456Z","expires":"2024-06-01T10:11:12.123456Z","identifier":"gh-1234567","last_updated":"2024-05-02T08:09:10.654321Z","pk":42,"source":"0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5a","source_obj":{"authentication_flow":null,"component":"ak-source-oauth-form","enabled":true,"enrollment_flow":"3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b","group_property_mappings":[],"icon":"","icon_themed_urls":null,"icon_url":null,"managed":null,"meta_model_name":"authentik_sources_oauth.oauthsource","name":"GitHub","pk":"0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5a","policy_engine_mode":"any","promoted":false,"slug":"github","user_matching_mode":"identifier","user_path_template":"goauthentik.io/sources/%(slug)s","user_property_mappings":["7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a"],"verbose_name":"OAuth Source","verbose_name_plural":"OAuth Sources"},"user":7}`

// listBody is a page of n connections.
func listBody(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = retrieveBody
	}
	return `{"autocomplete":{},"pagination":{"next":2,"previous":0,"count":250,"current":1,"total_pages":3,"start_index":1,"end_index":100},"results":[` + strings.Join(items, ",") + `]}`
}

// BenchmarkValidateRetrieve compares this package with kin-openapi (the
// whole of openapi3filter.ValidateResponse, as the server used it, and
// decoding plus Schema.VisitJSON alone) and with santhosh-tekuri/jsonschema/v6
// (decoding plus Validate, on the schemas toJSONSchema converts), on a
// retrieve and on pages of 20 and 100 connections. The libraries validate
// decoded values: their "validate" rows take the body decoded once, out of
// the loop, to show the split.
func BenchmarkValidateRetrieve(b *testing.B) {
	d := repoSpec(b)
	js, err := jsonSchemas(d.spec)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, op, body string
	}{
		{"retrieve", "sources_user_connections_oauth_retrieve", retrieveBody},
		{"list20", "sources_user_connections_oauth_list", listBody(20)},
		{"list100", "sources_user_connections_oauth_list", listBody(100)},
	} {
		o := d.byID[c.op]
		body := []byte(c.body)
		kinSchema := o.responseSchema("200").Value
		jsSchema := js[c.op]
		for name, check := range map[string]func() error{
			"schema":      func() error { return o.ours.Validate(200, "application/json", body) },
			"kin-openapi": func() error { return o.kin(200, "application/json", body, withHeaders) },
			"kin-visitjson": func() error {
				v, err := decodeNumbers(body)
				if err != nil {
					return err
				}
				return kinSchema.VisitJSON(v, kinVisit...)
			},
			"jsonschema-v6": func() error {
				v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
				if err != nil {
					return err
				}
				return jsSchema.Validate(v)
			},
		} {
			if err := check(); err != nil {
				b.Fatalf("%s %s: %v", c.name, name, err)
			}
			b.Run(c.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if err := check(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		decoded, err := decodeNumbers(body)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/kin-visitjson-validate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := kinSchema.VisitJSON(decoded, kinVisit...); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/jsonschema-v6-validate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := jsSchema.Validate(decoded); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// kinVisit are the options openapi3filter.ValidateResponse gives
// Schema.VisitJSON with kinOptions.
var kinVisit = append(append([]openapi3.SchemaValidationOption{}, kinOptions.SchemaValidationOptions...), openapi3.VisitAsResponse())

// decodeNumbers decodes a body as kin-openapi and jsonschema/v6 do, numbers
// as json.Number.
func decodeNumbers(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// TestNoAllocations checks that validating a valid body allocates nothing,
// escapes and invalid UTF-8 included, once the scratch space has grown.
func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	d := repoSpec(t)
	escaped := strings.Replace(retrieveBody, `"gh-1234567"`, `"gh-\u00e9\ud83d\ude00\"\\\/\n`+"\xff"+`"`, 1)
	for _, c := range []struct{ op, body string }{
		{"sources_user_connections_oauth_retrieve", retrieveBody},
		{"sources_user_connections_oauth_retrieve", escaped},
		{"sources_user_connections_oauth_list", listBody(100)},
	} {
		o, body := d.byID[c.op], []byte(c.body)
		if err := o.ours.Validate(200, "application/json", body); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _ = o.ours.Validate(200, "application/json", body) }); n != 0 {
			t.Errorf("%s: %v allocations per validation", c.op, n)
		}
	}
}
