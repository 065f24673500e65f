package schema_test

import (
	"strings"
	"testing"

	"akconn/server/schema"
)

// futureSpec uses what later additions to openapi.yaml may need (an
// events API, say) and the corners of kin-openapi's semantics.
const futureSpec = `openapi: 3.0.3
info: {title: future, version: "1"}
paths:
  /events/:
    get:
      operationId: events_list
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema:
                type: array
                maxItems: 3
                items: {$ref: '#/components/schemas/Event'}
        '2XX':
          description: ''
          content:
            application/json; charset=utf-8:
              schema: {$ref: '#/components/schemas/Event'}
            application/problem+json:
              schema: {type: object, additionalProperties: false, properties: {detail: {type: string}}}
        default:
          description: ''
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Loose'}
    head:
      operationId: events_head
      responses:
        '200': {description: ''}
  /events/{id}/:
    get:
      operationId: events_retrieve
      parameters:
      - {in: path, name: id, required: true, schema: {type: integer}}
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Event'}
        '204': {description: none}
        '404':
          description: ''
          content:
            application/json: {}
components:
  schemas:
    Action:
      type: string
      enum: [login, logout, model_created]
    Level:
      type: integer
      enum: [1, 2, 3]
    Event:
      type: object
      properties:
        pk: {type: string, format: uuid, readOnly: true}
        action: {$ref: '#/components/schemas/Action'}
        level: {$ref: '#/components/schemas/Level'}
        flag: {type: boolean, enum: [true]}
        ratio: {type: number, minimum: 0, maximum: 1, exclusiveMaximum: true}
        count: {type: integer, format: int32, minimum: -5}
        big: {type: integer, format: int64}
        score: {type: number, minimum: 2.5, exclusiveMinimum: true}
        when: {type: string, format: date-time}
        day: {type: string, format: date, nullable: true}
        blob: {type: string, format: byte}
        code: {type: string, pattern: '\u0041[a-z]{2,3}\d?', minLength: 3, maxLength: 5}
        word: {type: string, pattern: '^[^x]*x?$'}
        context:
          type: object
          additionalProperties: {}
        tags:
          type: object
          additionalProperties: {type: string, maxLength: 3}
        strict:
          type: object
          additionalProperties: false
          properties:
            a: {type: integer}
          required: [a, b]
        parent:
          allOf:
          - $ref: '#/components/schemas/Event'
          nullable: true
          readOnly: true
        user:
          allOf:
          - $ref: '#/components/schemas/Named'
        anything: {readOnly: true}
        anyOrNull: {nullable: true}
        secret: {type: string, writeOnly: true}
        list:
          type: array
          minItems: 1
          items: {type: array, items: {type: number, nullable: true}}
        mixed: {type: string, maxLength: 2, minimum: 3}
      required: [action, level, secret, extra_required, parent]
    Named:
      type: object
      nullable: true
      properties:
        name: {type: string}
      required: [name]
    Loose:
      description: only annotations
`

func TestFutureAgreesWithKin(t *testing.T) {
	differential(t, loadDoc(t, futureSpec))
}

// TestCorners pins down kin-openapi's behaviour on hand-picked bodies.
func TestCorners(t *testing.T) {
	d := loadDoc(t, futureSpec)
	ev := d.byID["events_retrieve"]
	base := `"action":"login","level":2,"parent":null,"extra_required":{}`
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{` + base + `}`, true},
		{`{"action":"login","level":2,"parent":null}`, false},
		{`{` + base + `,"extra_required":null}`, true},
		{`{` + base + `,"secret":"s"}`, false},
		{`{` + base + `,"secret":null}`, false}, // null is not a string
		{`{` + base + `,"level":2.0}`, true},
		{`{` + base + `,"level":2e0}`, true},
		{`{` + base + `,"level":4}`, false},
		{`{` + base + `,"level":"2"}`, false},
		{`{` + base + `,"count":1.0}`, true},
		{`{` + base + `,"count":1e9}`, true},
		{`{` + base + `,"count":3e9}`, false},
		{`{` + base + `,"count":1.5}`, false},
		{`{` + base + `,"count":-6}`, false},
		{`{` + base + `,"big":9223372036854775808}`, true}, // 2^63: float64(MaxInt64)
		{`{` + base + `,"big":9223372036854777856}`, false},
		{`{` + base + `,"big":1e-400}`, true},
		{`{` + base + `,"score":1e400}`, false},
		{`{` + base + `,"score":2.5}`, false},
		{`{` + base + `,"ratio":1}`, false},
		{`{` + base + `,"ratio":0}`, true},
		{`{` + base + `,"anything":1e400}`, false}, // not empty: numbers are converted
		{`{` + base + `,"context":{"a":1e400}}`, true},
		{`{` + base + `,"context":{"a":null}}`, false}, // {} rejects null
		{`{` + base + `,"context":null}`, false},
		{`{` + base + `,"anyOrNull":null}`, true},
		{`{` + base + `,"tags":{"a":"abc","b":"abcd"}}`, false},
		{`{` + base + `,"tags":{"a":"ab😀"}}`, true}, // runes, not UTF-16 units
		{`{` + base + `,"strict":{"a":1}}`, false},
		{`{` + base + `,"strict":{"a":1,"b":2}}`, false},
		{`{` + base + `,"user":null}`, true},
		{`{` + base + `,"user":{}}`, false},
		{`{` + base + `,"code":"Aab"}`, true},
		{`{` + base + `,"code":"xxAab1xx"}`, false},
		{`{` + base + `,"code":"xAab1"}`, true},
		{`{` + base + `,"when":"2024-02-29T23:59:60.5+23:59"}`, true},
		{`{` + base + `,"when":"2023-02-29T00:00:00Z"}`, false},
		{`{` + base + `,"day":"0000-02-29"}`, true},
		{`{` + base + `,"day":null}`, true},
		{`{"action":"login","level":2,"extra_required":1,"parent":{` + base + `}}`, true},
		{`{"action":"login","level":2,"extra_required":1,"parent":{"action":"x"}}`, false},
		{`{` + base + `,"list":[]}`, false},
		{`{` + base + `,"list":[[null,1e400]]}`, false},
		{`{` + base + `,"mixed":"abc"}`, false},
		{`{` + base + `,"flag":false}`, false},
		{`null`, false},
	} {
		if got := agree(t, ev, 200, "application/json", []byte(c.body)); got != c.ok {
			t.Errorf("%s: accepted %v, want %v", c.body, got, c.ok)
		}
	}
	list := d.byID["events_list"]
	for _, c := range []struct {
		status int
		ct     string
		body   string
		ok     bool
	}{
		{200, "application/json", `[]`, true},
		{250, "application/json; charset=utf-8", `[]`, false}, // not an Event
		{250, "application/json; charset=utf-8", `{` + base + `}`, true},
		{250, "application/json;charset=utf-8", `{` + base + `}`, false},
		{250, "application/json", `{` + base + `}`, false},
		{250, "application/problem+json", `{}`, true},
		{250, "APPLICATION/PROBLEM+JSON;x=1", `{"detail":"x"}`, true},
		{250, "application/problem+json", `{"x":1}`, false},
		{500, "application/json", `[]`, true},
		{500, "text/plain", `[]`, false},
		{301, "text/plain", `[]`, true},
	} {
		if got := agree(t, list, c.status, c.ct, []byte(c.body)); got != c.ok {
			t.Errorf("%d %q: accepted %v, want %v", c.status, c.ct, got, c.ok)
		}
	}
	agree(t, d.byID["events_head"], 500, "text/plain", []byte("x"))
	agree(t, ev, 204, "text/plain", []byte("x"))
	agree(t, ev, 404, "text/plain", []byte("x"))
	agree(t, ev, 404, "application/json", []byte("x"))
}

// TestMalformedBodies pins down what the package does with a body that is
// not well-formed (wellFormed), where it does not follow kin-openapi: it
// checks every member of a repeated name (kin-openapi, decoding into
// maps, checks the last one only), and takes one JSON value with nothing
// after it (kin-openapi reads the first value and ignores the rest).
func TestMalformedBodies(t *testing.T) {
	d := loadDoc(t, futureSpec)
	event := `{"action":"login","level":2,"parent":null,"extra_required":{}`
	accepted := map[string]bool{
		event + `,"level":1,"level":2}`:                      true,
		event + `,"level":"x","level":2}`:                    false, // kin-openapi accepts: the last one wins
		event + `,"level":2,"level":"x"}`:                    false,
		event + `,"l\u0065vel":"x"}`:                         false,
		event + `,"secret":"s","secret":null,"secret":null}`: false,
		event + "}\n":       true,
		event + `}trailing`: false, // kin-openapi accepts
		event + `}{}`:       false,
		event + `}}`:        false,
	}
	for body, ok := range accepted {
		err := d.byID["events_retrieve"].ours.Validate(200, "application/json", []byte(body))
		if (err == nil) != ok {
			t.Errorf("%s: schema says %v, want accepted %v", body, err, ok)
		}
	}
	list := d.byID["events_list"]
	for _, body := range []string{"01", "[]x", "[] []", "[],"} {
		if err := list.ours.Validate(200, "application/json", []byte(body)); err == nil {
			t.Errorf("%q passes", body)
		}
	}
}

// TestEmptyBodies checks the one option stricter than kin-openapi.
func TestEmptyBodies(t *testing.T) {
	d := loadDoc(t, futureSpec)
	v, err := schema.Compile(d.spec, append(compileOptions, schema.RequireEmptyBodies())...)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate("events_retrieve", 204, "", nil); err != nil {
		t.Error(err)
	}
	if err := v.Validate("events_retrieve", 204, "", []byte("{}")); err == nil {
		t.Error("a body on a 204 passes")
	}
}

// TestUnsupported checks that Compile names what it cannot check.
func TestUnsupported(t *testing.T) {
	for keyword, s := range map[string]string{
		"oneOf":         `{oneOf: [{type: string}, {type: integer}]}`,
		"anyOf":         `{anyOf: [{type: string}]}`,
		"not":           `{not: {type: string}}`,
		"allOf with":    `{allOf: [{type: string}, {maxLength: 3}]}`,
		"uniqueItems":   `{type: array, uniqueItems: true, items: {}}`,
		"multipleOf":    `{type: number, multipleOf: 2}`,
		"maxProp":       `{type: object, maxProperties: 2}`,
		"next to allOf": `{allOf: [{type: string}], maxLength: 2}`,
		"enum value":    `{enum: [[1]]}`,
		"binary":        `{type: string, format: binary}`,
		"media type":    `{type: string}` + "\n            text/plain:\n              schema: {type: string}",
	} {
		spec := strings.Replace(`openapi: 3.0.3
info: {title: x, version: "1"}
paths:
  /x/:
    get:
      operationId: x
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema: SCHEMA
`, "SCHEMA", s, 1)
		d := loadSpec(t, spec)
		_, err := schema.Compile(d, compileOptions...)
		if err == nil || !strings.Contains(err.Error(), "unsupported") {
			t.Errorf("%s: Compile says %v", keyword, err)
		}
	}
}
