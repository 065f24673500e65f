package schema_test

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"
)

// otherStatuses are statuses tried on every operation, most undocumented.
var otherStatuses = []int{0, 99, 100, 200, 201, 204, 299, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 413, 415, 418, 500, 503, 599, 600, 999}

// statusFor is a status that a response key documents.
func statusFor(key string) int {
	switch key {
	case "default":
		return 522
	case "1XX", "2XX", "3XX", "4XX", "5XX":
		return int(key[0]-'0')*100 + 42
	}
	n, _ := strconv.Atoi(key)
	return n
}

// propNames lists every property name of the document, and names that
// only requests use (write-only ones included).
func propNames(spec *openapi3.T) []string {
	seen := map[string]bool{}
	for _, s := range spec.Components.Schemas {
		for name := range s.Value.Properties {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sortStrings(out)
	return out
}

// TestAgreesWithKin draws, for every documented response of every
// operation of openapi.yaml, valid bodies (which both validators must
// accept) and broken ones (on which they must agree).
func TestAgreesWithKin(t *testing.T) {
	differential(t, repoSpec(t))
}

func differential(t *testing.T, d *doc) {
	props := propNames(d.spec)
	var accepted, rejected atomic.Int64
	for _, o := range d.ops {
		for _, key := range o.statuses() {
			s := o.responseSchema(key)
			status := statusFor(key)
			t.Run(o.ID+"/"+key, func(t *testing.T) {
				t.Parallel()
				rapid.Check(t, func(rt *rapid.T) {
					seed := rapid.Int64().Draw(rt, "seed")
					noise := rapid.Bool().Draw(rt, "noise")
					var v any = obj{{"detail", "x"}}
					if s != nil {
						v = genValid(rt, s.Value, 0)
						body := encode(v, seed, noise)
						if !agree(rt, o, status, "application/json", body) {
							rt.Fatalf("a valid body is rejected: %s", body)
						}
					}
					for i := rapid.IntRange(1, 2).Draw(rt, "mutations"); i > 0; i-- {
						v = mutate(rt, v, props)
					}
					body := encode(v, seed, noise)
					if rapid.IntRange(0, 3).Draw(rt, "garble?") == 0 {
						body = garble(rt, body)
					}
					ct := "application/json"
					if rapid.IntRange(0, 4).Draw(rt, "ct?") == 0 {
						ct = rapid.SampledFrom(contentTypes).Draw(rt, "ct")
					}
					st := status
					if rapid.IntRange(0, 6).Draw(rt, "status?") == 0 {
						st = rapid.SampledFrom(otherStatuses).Draw(rt, "status")
					}
					header := withHeaders
					if rapid.IntRange(0, 7).Draw(rt, "headers?") == 0 {
						header = http.Header{}
					}
					if agreeWith(rt, o, st, ct, body, header) {
						accepted.Add(1)
					} else {
						rejected.Add(1)
					}
				})
			})
		}
	}
	t.Cleanup(func() {
		t.Logf("mutated responses: schema accepted %d, rejected %d", accepted.Load(), rejected.Load())
		if accepted.Load() == 0 || rejected.Load() == 0 {
			t.Errorf("mutations look ineffective: %d accepted, %d rejected", accepted.Load(), rejected.Load())
		}
	})
}
