package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// Limits on what a request body may hold. A body is at most
// DefaultBodyLimit bytes; these bound what it costs to decode.
const (
	// maxBodyDepth bounds the nesting of arrays and objects anywhere in a body.
	maxBodyDepth = 64
	// maxBodyValues bounds the JSON values the kept members of a body hold
	// (every number, string, literal, array and object counts once).
	maxBodyValues = 10000
)

// bodyFields describes the top-level members of an operation's JSON
// request body.
type bodyFields struct {
	// known are the writable properties; every other member is dropped
	// undecoded, as Django REST framework ignores unknown fields.
	known map[string]bool
	// trim are the free-text string properties, whose surrounding
	// whitespace is removed before validation, as DRF's CharField does
	// (trim_whitespace).
	trim map[string]bool
	// ints are the integer properties: an integral number written with a
	// fraction or an exponent (1.0, 1e2) is decoded as an integer, as
	// Django REST framework's IntegerField accepts it.
	ints map[string]bool
}

// requestBody is a JSON request body as the validator decoded it, once.
type requestBody struct {
	// value is what the schema validates: the body with, when it is an
	// object, only its kept members (the last of repeated ones).
	value any
	// members are the kept members of an object body in body order,
	// repeated ones included, which bindBody gives the handler.
	members []member
}

// member is one kept top-level member of an object body.
type member struct {
	name  string
	value any
	// raw is the value as sent, for the types that parse their own JSON
	// (time.Time), whose errors quote it.
	raw []byte
}

// decodeHook, when set (by tests), sees every body decodeBody decodes.
var decodeHook func(raw []byte)

// decodeBody decodes raw, a whole JSON request body: one JSON value and
// nothing after it, nested at most maxBodyDepth deep. When the value is an
// object, it drops the members f does not know, trims the members f trims,
// writes the integral numbers of f's integer members as integers, refuses
// NUL in any string of the kept members (naming the member), and refuses
// more than maxBodyValues values in them. Values decode as encoding/json
// decodes them into any, numbers as json.Number, as kin-openapi validates
// them.
//
// The whole text is checked first and only then decoded, so that a body
// refused (a limit broken, a syntax error at its end) costs no more memory
// than its bytes, whatever it holds.
func decodeBody(raw []byte, f *bodyFields) (*requestBody, *Problem) {
	if decodeHook != nil {
		decodeHook(raw)
	}
	s := &scanner{data: raw}
	s.space()
	start := s.pos
	object := s.pos < len(s.data) && s.data[s.pos] == '{'
	var members []member
	var err *scanError
	if object {
		members, err = s.object(f)
	} else {
		_, err = s.value(0)
	}
	if err != nil {
		return nil, err.problem(raw)
	}
	s.space()
	if s.pos < len(s.data) {
		return nil, syntaxAt("Extra data", s.pos).problem(raw)
	}
	if !object {
		return &requestBody{value: decode(raw[start:s.pos])}, nil
	}
	// The members' text is copied out of raw, which a large body's dropped
	// members may fill, so that raw is not kept alive by what is kept.
	n := 0
	for _, m := range members {
		n += len(m.raw)
	}
	text := make([]byte, 0, n)
	kept := make(map[string]any, len(members))
	for i, m := range members {
		text = append(text, m.raw...)
		m.raw = text[len(text)-len(m.raw):]
		members[i].raw = m.raw
		v := decode(m.raw)
		switch x := v.(type) {
		case string:
			if f.trim[m.name] {
				v = strings.TrimFunc(x, isPythonSpace)
			}
		case json.Number:
			if n, ok := integral(m.raw); ok && f.ints[m.name] {
				v = json.Number(n)
			}
		}
		members[i].value, kept[m.name] = v, v
	}
	return &requestBody{value: kept, members: members}, nil
}

// object scans the top-level object and returns its kept members, their
// values not yet decoded.
func (s *scanner) object(f *bodyFields) ([]member, *scanError) {
	s.pos++ // '{'
	var members []member
	for first := true; ; first = false {
		s.space()
		if s.pos >= len(s.data) || (first && s.data[s.pos] != '"' && s.data[s.pos] != '}') || (!first && s.data[s.pos] != '"') {
			return nil, syntaxAt("Expecting property name enclosed in double quotes", s.pos)
		}
		if s.data[s.pos] == '}' {
			s.pos++
			break
		}
		keyStart := s.pos
		escaped, err := s.str()
		if err != nil {
			return nil, err
		}
		key := stringValue(s.data[keyStart:s.pos], escaped)
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, syntaxAt("Expecting ':' delimiter", s.pos)
		}
		s.pos++
		s.space()
		valueStart := s.pos
		keep := f.known[key]
		s.count, s.nul = keep, false
		if _, err := s.value(1); err != nil {
			return nil, err
		}
		if keep && s.nul {
			return nil, &scanError{field: key}
		}
		if keep {
			members = append(members, member{name: key, raw: s.data[valueStart:s.pos]})
		}
		s.space()
		if s.pos < len(s.data) && s.data[s.pos] == ',' {
			s.pos++
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			break
		}
		return nil, syntaxAt("Expecting ',' delimiter", s.pos)
	}
	return members, nil
}

// errNoData is a required body that was not sent.
var errNoData = errors.New("no data provided")

// checkBody checks and decodes raw, the body of req, as kin-openapi's
// ValidateRequestBody would, decoding it once. It returns the decoded body
// (nil when none was sent) or why it is refused: a *Problem that answers
// alone (an unsupported media type, text that is not JSON), or errNoData
// or the schema's errors, which join the parameters' errors.
func (v *operationValidator) checkBody(req *http.Request, raw []byte) (*requestBody, error) {
	req.Body = http.NoBody // from here on, the body is the decoded one: bindBody
	spec := v.route.Operation.RequestBody.Value
	if len(raw) == 0 {
		if spec.Required {
			return nil, errNoData
		}
		return nil, nil
	}
	ct := req.Header.Get(echo.HeaderContentType)
	mt := spec.Content.Get(ct)
	if mt == nil {
		return nil, &Problem{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("Unsupported media type %q in request.", ct)}
	}
	body, p := decodeBody(raw, v.body)
	if p != nil {
		return nil, p
	}
	if err := mt.Schema.Value.VisitJSON(body.value, v.bodySchema...); err != nil {
		return nil, err
	}
	return body, nil
}

// requestBodyFields describes the JSON request body of op, or returns nil
// when it takes none. Writable string properties without an enum or a
// uuid/date-time format are free text, trimmed as DRF's CharField does.
func requestBodyFields(op *openapi3.Operation) *bodyFields {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	f := &bodyFields{known: map[string]bool{}, trim: map[string]bool{}, ints: map[string]bool{}}
	for name, ref := range mt.Schema.Value.Properties {
		p := ref.Value
		if p == nil || p.ReadOnly {
			continue
		}
		f.known[name] = true
		f.ints[name] = p.Type.Is("integer")
		if p.Type.Is("string") && len(p.Enum) == 0 && p.Format != "uuid" && p.Format != "date-time" {
			f.trim[name] = true
		}
	}
	return f
}
