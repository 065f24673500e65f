package schema_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"akconn/server/schema"
	"akconn/testenv"
)

// The formats the server gives both validators (server/validate.go).
const (
	uuidPattern  = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	emailPattern = `^$|` + openapi3.FormatOfStringForEmail
)

// kinOptions are the response options of server/validate.go.
var kinOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.DisableSchemaErrorDetails(),
		openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern)),
		openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(emailPattern)),
	},
}

var compileOptions = []schema.Option{
	schema.WithFormatPattern("uuid", uuidPattern),
	schema.WithFormatPattern("email", emailPattern),
}

// op is an operation of a document, with both validators.
type op struct {
	ID     string
	Method string
	route  *routers.Route
	ours   *schema.Operation
}

// statuses lists the documented response keys of o, sorted.
func (o *op) statuses() []string {
	keys := o.route.Operation.Responses.Keys()
	sort.Strings(keys)
	return keys
}

// responseSchema is the application/json schema of the response key, or nil.
func (o *op) responseSchema(key string) *openapi3.SchemaRef {
	r := o.route.Operation.Responses.Value(key)
	if r == nil || r.Value == nil {
		return nil
	}
	mt := r.Value.Content.Get("application/json")
	if mt == nil {
		return nil
	}
	return mt.Schema
}

// kin validates a response with kin-openapi as the server did.
func (o *op) kin(status int, contentType string, body []byte, extra http.Header) error {
	req := httptest.NewRequest(o.Method, "/", nil)
	header := extra.Clone()
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: o.route, Options: kinOptions},
		Status:                 status,
		Header:                 header,
		Options:                kinOptions,
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// doc is a loaded document with its operations.
type doc struct {
	spec *openapi3.T
	ops  []*op // sorted by ID
	byID map[string]*op
}

var (
	repoOnce sync.Once
	repoDoc  *doc
	repoErr  error
)

// repoSpec loads the repository's openapi.yaml once.
func repoSpec(t testing.TB) *doc {
	t.Helper()
	repoOnce.Do(func() {
		var spec *openapi3.T
		spec, repoErr = openapi3.NewLoader().LoadFromFile(testenv.SpecPath())
		if repoErr == nil {
			repoDoc, repoErr = newDoc(spec)
		}
	})
	if repoErr != nil {
		t.Fatal(repoErr)
	}
	return repoDoc
}

// loadSpec loads and validates a document given as YAML.
func loadSpec(t testing.TB, yaml string) *openapi3.T {
	t.Helper()
	spec, err := openapi3.NewLoader().LoadFromData([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return spec
}

// loadDoc loads and compiles a document given as YAML.
func loadDoc(t testing.TB, yaml string) *doc {
	t.Helper()
	d, err := newDoc(loadSpec(t, yaml))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newDoc(spec *openapi3.T) (*doc, error) {
	v, err := schema.Compile(spec, compileOptions...)
	if err != nil {
		return nil, err
	}
	d := &doc{spec: spec, byID: map[string]*op{}}
	for path, item := range spec.Paths.Map() {
		for method, o := range item.Operations() {
			x := &op{ID: o.OperationID, Method: method, ours: v.Operation(o.OperationID),
				route: &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: o}}
			d.ops = append(d.ops, x)
			d.byID[x.ID] = x
		}
	}
	sort.Slice(d.ops, func(i, j int) bool { return d.ops[i].ID < d.ops[j].ID })
	return d, nil
}

// fataler is what agree needs of a *testing.T or a *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// agree checks that both validators take the same decision on a response.
func agree(t fataler, o *op, status int, contentType string, body []byte) (accepted bool) {
	t.Helper()
	return agreeWith(t, o, status, contentType, body, withHeaders)
}

// withHeaders carries every header openapi.yaml documents on a response.
var withHeaders = http.Header{"Etag": {`"1-x"`}}

// agreeWith is agree for a response with the given headers. The package
// promises kin-openapi's decision on well-formed bodies only; on any other
// body it may be stricter, never looser. It returns schema's decision.
func agreeWith(t fataler, o *op, status int, contentType string, body []byte, header http.Header) (accepted bool) {
	t.Helper()
	kerr := o.kin(status, contentType, body, header)
	oerr := o.ours.ValidateHeaders(status, header)
	if oerr == nil {
		oerr = o.ours.Validate(status, contentType, body)
	}
	if wellFormed(body) && (kerr == nil) != (oerr == nil) {
		t.Fatalf("%s %d %q: kin-openapi says %v, schema says %v\nbody: %q", o.ID, status, contentType, kerr, oerr, body)
	}
	if oerr == nil && kerr != nil {
		t.Fatalf("%s %d %q: schema accepts a body that kin-openapi rejects (%v)\nbody: %q", o.ID, status, contentType, kerr, body)
	}
	return oerr == nil
}

// wellFormed reports whether body is in the domain where the package
// promises kin-openapi's decision: one JSON value that encoding/json's
// Valid accepts, in which no object repeats a member name (names compared
// decoded).
func wellFormed(body []byte) bool {
	if !json.Valid(body) {
		return false
	}
	type frame struct {
		names   map[string]bool // nil in an array
		wantKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return err == io.EOF
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.names != nil && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			name := tok.(string)
			if top.names[name] {
				return false
			}
			top.names[name], top.wantKey = true, false
			continue
		}
		if top != nil && top.names != nil {
			top.wantKey = true // this token starts the member's value
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{names: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
