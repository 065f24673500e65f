package server

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	gojson "github.com/goccy/go-json"
	"github.com/labstack/echo/v4"
)

// VersionChange is one step between two contracts, as in Stripe's version
// changes: what turns a request written to the older contract into the
// newer one's, and a response of the newer contract back into the older
// one's, per operationId. The handlers implement only the current
// contract; an older one is served through its changes, on JSON values,
// so that no second copy of types or handlers exists.
type VersionChange struct {
	// Description says what changed, for docs/COMPATIBILITY.md.
	Description string
	// Requests rewrite an operation's request, after the mount's request
	// validation has accepted it.
	Requests map[string]func(*Request) error
	// Responses rewrite an operation's response body (decoded JSON,
	// numbers as json.Number; an error's body too) before the mount's
	// response validation checks it, and return the new body.
	Responses map[string]func(status int, body any) (any, error)
	// Values are fast paths of Responses for hot operations: they turn the
	// value the handler answers with into what Responses would make of it,
	// before it is encoded, sparing the decoding and encoding again; false
	// leaves it to Responses. Each must answer the same JSON as its
	// Responses entry does (TestValueChangesMatchResponses), and keeps the
	// order of the members of a stored free-form object (an event's
	// context), which decoding into a map loses; only the last change of a
	// contract's list may have one.
	Values map[string]func(status int, value any) (any, bool)
}

// Request is what a request change may rewrite, in place.
type Request struct {
	// Body is the JSON body object as validated: only the members the
	// older contract's schema knows, numbers as json.Number. Nil when the
	// operation takes none or none was sent; a change may set one.
	Body map[string]any
	// Query are the query parameters, as the handler will bind them.
	Query url.Values
	// Path are the path parameters by name.
	Path map[string]string
	// Values are left in echo's context for the handler, by key: what an
	// older contract's request says that the current one has no field
	// for, and the handler still rules on (connectionOwnerKey).
	Values map[string]any
}

// adaptation is the middleware that runs changes for operation op between
// a mount's validators and the handler, or nil when none of them touches
// op (the middleware then costs nothing).
func adaptation(op string, changes []VersionChange) echo.MiddlewareFunc {
	var requests []func(*Request) error
	var responses []func(int, any) (any, error)
	var value func(int, any) (any, bool)
	if n := len(changes); n > 0 {
		value = changes[n-1].Values[op]
	}
	for _, ch := range changes {
		if f := ch.Requests[op]; f != nil {
			requests = append(requests, f)
		}
		if f := ch.Responses[op]; f != nil {
			responses = append(responses, f)
		}
	}
	slices.Reverse(responses) // from the current contract back, newest change first
	if len(requests) == 0 && len(responses) == 0 {
		return nil
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if len(requests) > 0 {
				defer c.Set(bodyKey, nil) // as the validator does: a pooled context keeps no body
				if err := adaptRequest(c, requests); err != nil {
					return err
				}
			}
			if len(responses) == 0 {
				return next(c)
			}
			if value != nil && !valuesOff.Load() {
				c.Set(valueChangeKey, value)
				defer c.Set(valueChangeKey, nil)
			}
			return adaptResponse(c, next, responses)
		}
	}
}

// adaptRequest runs the request changes on c's decoded body and
// parameters.
func adaptRequest(c echo.Context, changes []func(*Request) error) error {
	body, _ := c.Get(bodyKey).(*requestBody)
	r := &Request{Query: c.QueryParams(), Path: map[string]string{}}
	if body != nil {
		r.Body, _ = body.value.(map[string]any)
	}
	object := r.Body != nil
	names, values := c.ParamNames(), c.ParamValues()
	for i, n := range names {
		if i < len(values) {
			r.Path[n] = values[i]
		}
	}
	for _, change := range changes {
		if err := change(r); err != nil {
			return err
		}
	}
	for i, n := range names {
		if i < len(values) {
			values[i] = r.Path[n]
		}
	}
	for k, v := range r.Values {
		c.Set(k, v)
	}
	c.SetParamValues(values...)
	switch {
	case r.Body != nil:
		adapted, err := rebuildBody(body, r.Body)
		if err != nil {
			return err
		}
		c.Set(bodyKey, adapted)
	case object: // a change dropped the body
		c.Set(bodyKey, nil)
	}
	return nil
}

// rebuildBody makes the decoded body the handler binds out of the changed
// object: the members that were sent keep their order, new ones follow by
// name, and every value is decoded again from its JSON text, so that it
// has the types the validator's decoding gives (json.Number for numbers).
func rebuildBody(old *requestBody, obj map[string]any) (*requestBody, error) {
	var order []string
	if old != nil {
		for _, m := range old.members {
			if _, ok := obj[m.name]; ok && !slices.Contains(order, m.name) {
				order = append(order, m.name)
			}
		}
	}
	var added []string
	for name := range obj {
		if !slices.Contains(order, name) {
			added = append(added, name)
		}
	}
	sort.Strings(added)
	out := &requestBody{value: map[string]any{}}
	for _, name := range append(order, added...) {
		raw, err := json.Marshal(obj[name])
		if err != nil {
			return nil, err
		}
		v := decode(raw)
		out.members = append(out.members, member{name: name, value: v, raw: raw})
		out.value.(map[string]any)[name] = v
	}
	return out, nil
}

// adaptResponse buffers the handler's answer (an error's too), runs the
// response changes on its JSON body and writes the result on.
func adaptResponse(c echo.Context, next echo.HandlerFunc, changes []func(int, any) (any, error)) error {
	buf, orig := bufferAnswer(c, next)
	defer buf.release()
	if changed, _ := c.Get(valueChangeKey).(bool); changed {
		return send(orig, buf) // the serializer ran the change on the value
	}
	if buf.body.Len() > 0 && strings.HasPrefix(buf.header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
		dec := gojson.NewDecoder(bytes.NewReader(buf.body.Bytes()))
		dec.UseNumber()
		var body any
		if err := dec.Decode(&body); err != nil {
			return err
		}
		for _, change := range changes {
			var err error
			if body, err = change(buf.status, body); err != nil {
				return err
			}
		}
		buf.body.Reset()
		if err := gojson.NewEncoder(&buf.body).Encode(body); err != nil {
			return err
		}
		buf.header.Del(echo.HeaderContentLength)
	}
	return send(orig, buf)
}

// valueChangeKey is where adaptation leaves an operation's value change
// for the serializer, which replaces it with true once it has run it.
const valueChangeKey = "akconn.value_change"

// valuesOff turns the value changes off, so that a test can compare them
// with the JSON changes they stand for.
var valuesOff atomic.Bool

// changedValue is the value the serializer encodes for c's answer: v, or
// what the operation's value change makes of it.
func changedValue(c echo.Context, v any) any {
	change, ok := c.Get(valueChangeKey).(func(int, any) (any, bool))
	if !ok {
		return v
	}
	out, done := change(c.Response().Status, v)
	if !done {
		return v
	}
	c.Set(valueChangeKey, true)
	return out
}
