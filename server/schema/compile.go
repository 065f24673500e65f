package schema

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// Option configures Compile.
type Option func(*config)

// config is what the options of Compile set.
type config struct {
	formats     map[string]*stringFormat
	emptyBodies bool
}

// WithFormatPattern checks string format name with a regular expression,
// as kin-openapi's openapi3.WithStringFormatValidator(name,
// openapi3.NewRegexpFormatValidator(pattern)) does; it takes precedence
// over kin-openapi's global formats. It panics if pattern does not
// compile, as NewRegexpFormatValidator does.
func WithFormatPattern(name, pattern string) Option {
	m, err := compilePattern(pattern)
	if err != nil {
		panic(fmt.Errorf("schema: format %q: %w", name, err))
	}
	return func(c *config) { c.formats[name] = &stringFormat{name: name, match: m.match} }
}

// RequireEmptyBodies rejects a body on a status that documents no content
// (a 204). kin-openapi accepts any body there: this is stricter.
func RequireEmptyBodies() Option {
	return func(c *config) { c.emptyBodies = true }
}

// Validator validates the responses of every operation of a document.
type Validator struct {
	ops map[string]*Operation
}

// Operation validates the responses of one operation.
type Operation struct {
	id string
	// anything: kin-openapi validates nothing (a HEAD operation, or one
	// without responses).
	anything    bool
	exact       []*response // documented statuses, e.g. "200"
	ranges      [6]*response
	def         *response
	emptyBodies bool
}

// response is one documented response.
type response struct {
	status string
	// noContent: the response documents no content, so kin-openapi checks
	// neither the Content-Type nor the body.
	noContent bool
	code      int
	media     map[string]*media // lower-cased media range → its schema
	// headers are the documented response headers (but Content-Type),
	// each with a plain string schema.
	headers []header
}

// header is a documented response header whose schema is a plain string:
// kin-openapi then checks only that a required one is present.
type header struct {
	name     string
	required bool
}

// media is one documented media type: its schema, nil when it has none
// (kin-openapi then reads nothing).
type media struct {
	root *node
}

// Compile compiles the response schemas of every operation of doc, which
// must have been loaded (references resolved) and validated. It fails on
// anything it cannot check exactly as kin-openapi does, naming it.
func Compile(doc *openapi3.T, opts ...Option) (*Validator, error) {
	if doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("schema: unsupported: OpenAPI %s (3.0 only)", doc.OpenAPI)
	}
	cfg := &config{formats: map[string]*stringFormat{}}
	for _, o := range opts {
		o(cfg)
	}
	c := &compiler{cfg: cfg, nodes: map[*openapi3.Schema]*node{}}
	v := &Validator{ops: map[string]*Operation{}}
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, path := range keys {
		ops := paths[path].Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, method := range methods {
			op := ops[method]
			if op.OperationID == "" {
				return nil, fmt.Errorf("schema: %s %s: no operationId", method, path)
			}
			if _, dup := v.ops[op.OperationID]; dup {
				return nil, fmt.Errorf("schema: operationId %q used twice", op.OperationID)
			}
			o, err := c.operation(op, method)
			if err != nil {
				return nil, fmt.Errorf("schema: %s: %w", op.OperationID, err)
			}
			v.ops[op.OperationID] = o
		}
	}
	c.resolve()
	return v, nil
}

// operation compiles the documented responses of op.
func (c *compiler) operation(op *openapi3.Operation, method string) (*Operation, error) {
	o := &Operation{id: op.OperationID, emptyBodies: c.cfg.emptyBodies}
	// kin-openapi validates no response to HEAD, and nothing when an
	// operation documents no response.
	if method == http.MethodHead || op.Responses.Len() == 0 {
		o.anything = true
		return o, nil
	}
	for _, key := range op.Responses.Keys() {
		ref := op.Responses.Value(key)
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("response %s: unresolved", key)
		}
		r, err := c.response(key, ref.Value)
		if err != nil {
			return nil, fmt.Errorf("response %s: %w", key, err)
		}
		switch {
		case key == "default":
			o.def = r
		case len(key) == 3 && key[1:] == "XX" && '1' <= key[0] && key[0] <= '5':
			o.ranges[key[0]-'0'] = r
		default:
			// kin-openapi looks the status up as strconv.FormatInt: any
			// other spelling of a key can never match.
			if code, err := strconv.Atoi(key); err == nil && strconv.Itoa(code) == key {
				r.code = code
				o.exact = append(o.exact, r)
			}
		}
	}
	return o, nil
}

// response compiles one documented response.
func (c *compiler) response(key string, r *openapi3.Response) (*response, error) {
	out := &response{status: key}
	for name, ref := range r.Headers {
		if name == "Content-Type" { // kin-openapi skips this one
			continue
		}
		h := ref.Value
		if h == nil || h.Content != nil || h.Schema == nil || h.Schema.Value == nil || !plainString(h.Schema.Value) {
			return nil, fmt.Errorf("unsupported: response header %q (only plain string headers are)", name)
		}
		out.headers = append(out.headers, header{name: name, required: h.Required})
	}
	sort.Slice(out.headers, func(i, j int) bool { return out.headers[i].name < out.headers[j].name })
	if len(r.Content) == 0 {
		out.noContent = true
		return out, nil
	}
	out.media = map[string]*media{}
	for key, mt := range r.Content {
		var m media
		if mt != nil && mt.Schema != nil {
			root, err := c.node(mt.Schema, key)
			if err != nil {
				return nil, err
			}
			m.root = root
		}
		for entry := range strings.SplitSeq(key, ",") {
			entry = strings.ToLower(strings.TrimSpace(entry))
			if entry == "" {
				continue
			}
			if err := jsonMediaType(entry); err != nil {
				return nil, err
			}
			if _, dup := out.media[entry]; dup {
				return nil, fmt.Errorf("media type %q listed twice", entry)
			}
			out.media[entry] = &m
		}
	}
	return out, nil
}

// plainString reports whether s is a string schema without constraints:
// every header value satisfies it.
func plainString(s *openapi3.Schema) bool {
	return s.Type.Is("string") && s.Format == "" && s.Pattern == "" && s.MinLength == 0 && s.MaxLength == nil &&
		len(s.Enum) == 0 && !s.Nullable && len(s.AllOf)+len(s.AnyOf)+len(s.OneOf) == 0 && s.Not == nil
}

// jsonMediaType checks that kin-openapi decodes a body of this media range
// as JSON, the only decoding this package does, and that it is no
// wildcard (which would let other media types, other decoders, match).
func jsonMediaType(entry string) error {
	base, _, _ := strings.Cut(entry, ";")
	base = strings.TrimSpace(base)
	if strings.Contains(base, "*") {
		return fmt.Errorf("unsupported: media range %q", entry)
	}
	dec := openapi3filter.RegisteredBodyDecoder(base)
	if dec == nil && strings.HasSuffix(base, "+json") {
		dec = openapi3filter.RegisteredBodyDecoder("application/json")
	}
	if dec == nil {
		dec = openapi3filter.RegisteredBodyDecoder("*/*")
	}
	if dec == nil || reflect.ValueOf(dec).Pointer() != reflect.ValueOf(openapi3filter.JSONBodyDecoder).Pointer() {
		return fmt.Errorf("unsupported: media type %q, which kin-openapi does not decode as JSON", entry)
	}
	return nil
}

// Operation returns the validator of the operation id, or nil.
func (v *Validator) Operation(id string) *Operation { return v.ops[id] }

// Validate validates a response of the operation id, as Operation.Validate.
func (v *Validator) Validate(id string, status int, contentType string, body []byte) error {
	o := v.ops[id]
	if o == nil {
		return &Error{Operation: id, Status: status, Reason: "unknown operation"}
	}
	return o.Validate(status, contentType, body)
}
