package schema_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// toJSONSchema converts the response schemas of an OpenAPI 3.0 document
// into one JSON Schema 2020-12 resource, for BenchmarkResponseValidators:
// what it takes to hand the document to santhosh-tekuri/jsonschema/v6.
// Components become $defs; each response schema becomes $defs["op:ID"]
// (the 200 application/json one, the one the benchmark validates).
type toJSONSchema struct {
	defs map[string]any
}

// everyType is "any value but null": kin-openapi's reading of a schema
// without a type, and of the empty schema.
var everyType = []any{"object", "array", "string", "number", "boolean"}

// ref converts a schema reference: a component becomes a $ref to $defs.
func (c *toJSONSchema) ref(r *openapi3.SchemaRef) any {
	name, ok := strings.CutPrefix(r.Ref, "#/components/schemas/")
	if !ok {
		return c.schema(r.Value)
	}
	if _, done := c.defs[name]; !done {
		c.defs[name] = true // placeholder while converting a cycle
		c.defs[name] = c.schema(r.Value)
	}
	return map[string]any{"$ref": "#/$defs/" + name}
}

// schema converts one OpenAPI 3.0 schema object.
func (c *toJSONSchema) schema(s *openapi3.Schema) any {
	if s.IsEmpty() {
		return map[string]any{"type": everyType}
	}
	if len(s.AllOf) == 1 { // the {allOf: [X], nullable} wrapper
		inner := c.ref(s.AllOf[0])
		if s.Nullable {
			return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, inner}}
		}
		return inner
	}
	out := map[string]any{}
	types := everyType
	if s.Type != nil {
		types = nil
		for _, t := range s.Type.Slice() {
			types = append(types, t)
		}
	}
	if s.Nullable { // OpenAPI 3.0 nullable: null joins the types and the enum
		types = append(append([]any{}, types...), "null")
	}
	out["type"] = types
	if len(s.Enum) > 0 {
		e := append([]any{}, s.Enum...)
		if s.Nullable {
			e = append(e, nil)
		}
		out["enum"] = e
	}
	if s.MinLength > 0 {
		out["minLength"] = s.MinLength
	}
	if s.MaxLength != nil {
		out["maxLength"] = *s.MaxLength
	}
	if s.Pattern != "" {
		out["pattern"] = s.Pattern
	}
	if s.Format != "" {
		out["format"] = s.Format
	}
	// OpenAPI 3.0's boolean exclusive bounds become 2020-12's numeric ones.
	if s.Min != nil {
		out[map[bool]string{false: "minimum", true: "exclusiveMinimum"}[s.ExclusiveMin.IsTrue()]] = *s.Min
	}
	if s.Max != nil {
		out[map[bool]string{false: "maximum", true: "exclusiveMaximum"}[s.ExclusiveMax.IsTrue()]] = *s.Max
	}
	if s.Items != nil {
		out["items"] = c.ref(s.Items)
	}
	if s.MinItems > 0 {
		out["minItems"] = s.MinItems
	}
	if s.MaxItems != nil {
		out["maxItems"] = *s.MaxItems
	}
	if len(s.Properties) > 0 {
		props := map[string]any{}
		for name, p := range s.Properties {
			if p.Value.WriteOnly { // kin-openapi: absent or null in a response
				props[name] = map[string]any{"type": "null"}
				continue
			}
			props[name] = c.ref(p)
		}
		out["properties"] = props
	}
	var required []any
	for _, name := range s.Required {
		if p := s.Properties[name]; p == nil || !p.Value.WriteOnly {
			required = append(required, name)
		}
	}
	if required != nil {
		out["required"] = required
	}
	switch ap := s.AdditionalProperties; {
	case ap.Has != nil && !*ap.Has:
		out["additionalProperties"] = false
	case ap.Schema != nil:
		out["additionalProperties"] = c.ref(ap.Schema)
	}
	return out
}

// jsonSchemas compiles, with santhosh-tekuri/jsonschema/v6, the 200
// application/json response schema of each operation of spec.
func jsonSchemas(spec *openapi3.T) (map[string]*jsonschema.Schema, error) {
	conv := &toJSONSchema{defs: map[string]any{}}
	var ids []string
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			r := op.Responses.Value("200")
			if r == nil || r.Value.Content.Get("application/json") == nil {
				continue
			}
			mt := r.Value.Content.Get("application/json")
			if mt.Schema == nil {
				continue
			}
			conv.defs["op:"+op.OperationID] = conv.ref(mt.Schema)
			ids = append(ids, op.OperationID)
		}
	}
	// Round-trip through JSON: the compiler wants decoded JSON values.
	raw, err := json.Marshal(map[string]any{"$defs": conv.defs})
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for name, pattern := range map[string]string{"uuid": uuidPattern, "email": emailPattern} {
		re := regexp.MustCompile(pattern)
		c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(v any) error {
			if s, ok := v.(string); ok && !re.MatchString(s) {
				return errors.New("no match")
			}
			return nil
		}})
	}
	for name, bits := range map[string]float64{"int32": 31, "int64": 63} {
		c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(v any) error {
			if n, ok := v.(json.Number); ok {
				if f, err := n.Float64(); err != nil || f < -math.Exp2(bits) || f > math.Exp2(bits) {
					return errors.New("out of range")
				}
			}
			return nil
		}})
	}
	if err := c.AddResource("mem://responses.json", doc); err != nil {
		return nil, err
	}
	out := map[string]*jsonschema.Schema{}
	for _, id := range ids {
		s, err := c.Compile("mem://responses.json#/$defs/op:" + id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		out[id] = s
	}
	return out, nil
}

// TestJSONSchemaConversion checks that the schemas the benchmark gives
// jsonschema/v6 do the work this package does on the benchmark's bodies:
// they accept them, and reject what this package rejects in a retrieve.
func TestJSONSchemaConversion(t *testing.T) {
	d := repoSpec(t)
	js, err := jsonSchemas(d.spec)
	if err != nil {
		t.Fatal(err)
	}
	const id = "sources_user_connections_oauth_retrieve"
	check := func(op, body string) (ours, theirs error) {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return d.byID[op].ours.Validate(200, "application/json", []byte(body)), js[op].Validate(v)
	}
	for op, body := range map[string]string{id: retrieveBody, "sources_user_connections_oauth_list": listBody(20)} {
		if ours, theirs := check(op, body); ours != nil || theirs != nil {
			t.Errorf("%s: schema says %v, jsonschema/v6 says %v", op, ours, theirs)
		}
	}
	for _, c := range [][2]string{
		{`"pk":42,`, ``},         // required
		{`"pk":42`, `"pk":"42"`}, // type
		{`"pk":42`, `"pk":4.5`},  // integer
		{`"expires":"2024-06-01T10:11:12.123456Z"`, `"expires":"soon"`}, // date-time
		{`"expires":"2024-06-01T10:11:12.123456Z"`, `"expires":null`},   // not nullable date-time
		{`"pk":"0f0e4a8c`, `"pk":"xf0e4a8c`},                            // uuid
		{`"source":"0f0e4a8c`, `"source":"xf0e4a8c`},                    // uuid
		{`,"source_obj":{`, `,"source_objet":{`},                        // required object
		{`"policy_engine_mode":"any"`, `"policy_engine_mode":"none"`},   // enum
		{`"slug":"github"`, `"slug":"git hub"`},                         // pattern
		{`"icon_url":null`, `"icon_url":7`},                             // nullable string
		{`"icon_themed_urls":null`, `"icon_themed_urls":{"light":7}`},   // nullable object
		{`"enabled":true`, `"enabled":null`},                            // not nullable
		{`"user_property_mappings":[`, `"user_property_mappings":[1,`},  // items
	} {
		body := strings.Replace(retrieveBody, c[0], c[1], 1)
		if body == retrieveBody {
			t.Fatalf("%q is not in the body", c[0])
		}
		if ours, theirs := check(id, body); ours == nil || theirs == nil {
			t.Errorf("%s → %s: schema says %v, jsonschema/v6 says %v", c[0], c[1], ours, theirs)
		}
	}
}
