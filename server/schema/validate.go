package schema

import (
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"
)

// states are the validation states not in use, with their scratch space.
var states = sync.Pool{New: func() any { return new(state) }}

// Validate checks a response of o: its status, its Content-Type (the
// header's first value) and its body. It returns nil or an *Error.
// Documented headers are checked apart, by ValidateHeaders.
//
// As kin-openapi: 301, 304, 307 and 308 are never checked; a status is
// looked up as is, then as its range (2XX), then as "default"; a response
// without content accepts any Content-Type and any body (unless
// RequireEmptyBodies). A body must be one JSON value (see the package
// documentation for what is promised on other bodies).
func (o *Operation) Validate(status int, contentType string, body []byte) error {
	r, checked := o.checked(status)
	if !checked {
		return nil
	}
	if r == nil {
		return o.fail(status, "", "status is not documented")
	}
	if r.noContent {
		if o.emptyBodies && len(body) > 0 {
			return o.fail(status, "", "body on a response that documents none")
		}
		return nil
	}
	m := r.lookup(contentType)
	if m == nil {
		return o.fail(status, "", "Content-Type is not documented")
	}
	if m.root == nil {
		return nil
	}
	st := states.Get().(*state)
	f := st.run(m.root, body)
	st.b = nil
	if cap(st.scratch) > 64<<10 {
		st.scratch = nil // do not keep the room a huge string took
	}
	states.Put(st)
	if f != nil {
		return o.fail(status, f.dotted(), f.reason)
	}
	return nil
}

// fail makes the Error of a response of o.
func (o *Operation) fail(status int, path, reason string) *Error {
	return &Error{Operation: o.id, Status: status, Path: path, Reason: reason}
}

// response finds the documented response of status as kin-openapi's
// Responses.Status, then Responses.Default.
func (o *Operation) response(status int) *response {
	for _, r := range o.exact {
		if r.code == status {
			return r
		}
	}
	if 99 < status && status < 600 {
		if r := o.ranges[status/100]; r != nil {
			return r
		}
	}
	return o.def
}

// lookup finds the media type of a Content-Type as kin-openapi's
// Content.Get: the whole value (lower-cased and trimmed), then without its
// parameters. Wildcard media ranges are refused by Compile.
func (r *response) lookup(ct string) *media {
	if ct == "" {
		return r.media["*/*"]
	}
	mime := lower(strings.TrimSpace(ct))
	if m := r.media[mime]; m != nil {
		return m
	}
	base, _, _ := strings.Cut(mime, ";")
	return r.media[strings.TrimSpace(base)]
}

// lower is strings.ToLower, without allocating for a value that is
// already lower case ASCII.
func lower(s string) string {
	for k := 0; k < len(s); k++ {
		if c := s[k]; 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
	}
	return s
}

// ValidateHeaders checks that a response with status carries every header
// its documentation requires (kin-openapi's check of plain string
// headers). It returns nil or an *Error.
func (o *Operation) ValidateHeaders(status int, h http.Header) error {
	r, checked := o.checked(status)
	if !checked || r == nil {
		return nil // an undocumented status is Validate's to report
	}
	for _, hd := range r.headers {
		if hd.required && len(h.Values(hd.name)) == 0 {
			return o.fail(status, "", "required header "+hd.name+" is missing")
		}
	}
	return nil
}

// checked reports whether a response with status is checked at all (as
// kin-openapi: never 301, 304, 307, 308, nor on an operation that
// documents anything), and its documentation (nil: not documented).
func (o *Operation) checked(status int) (*response, bool) {
	switch status {
	case http.StatusNotModified, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusMovedPermanently:
		return nil, false
	}
	if o.anything {
		return nil, false
	}
	return o.response(status), true
}
