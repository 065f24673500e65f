package server

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// bodyKey is where the request validator leaves the decoded body for the
// handler.
const bodyKey = "akconn.body"

// bindBody fills dst, a pointer to the handler's generated request type,
// from the body the validator decoded and checked, so that the handler
// works on exactly the value that was validated, decoded once. A body's
// members are set in body order, as encoding/json would set them from the
// same text, with the same refusals (see assign). Without a body (a PATCH
// may send none) dst keeps its zero value.
func bindBody(c echo.Context, dst any) error {
	body, _ := c.Get(bodyKey).(*requestBody)
	if body == nil {
		return nil
	}
	v := reflect.ValueOf(dst).Elem()
	fields := structFields(v.Type())
	var first *Problem
	for _, m := range body.members {
		i, ok := fields[m.name]
		if !ok {
			continue
		}
		err := assign(v.Field(i), m.value, m.raw)
		switch {
		case err == nil:
		case err.parser != nil:
			return parseError(err.parser.Error())
		case first == nil:
			first = err.problem(m.name)
		}
	}
	if first != nil {
		return first
	}
	return nil
}

// bindError is a value that does not fit its field. As in encoding/json,
// an error of a type's own parser (time.Time's, uuid.UUID's) stops
// binding at once; a value of the wrong kind is remembered, the rest of
// the body still bound, and the first such error reported.
type bindError struct {
	parser error
	kind   reflect.Kind // the kind the value did not fit
}

// problem words e for field as Django REST framework would.
func (e *bindError) problem(field string) *Problem {
	switch e.kind {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return fieldError(field, "A valid integer is required.")
	}
	return fieldError(field, "Invalid value.")
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// assign sets v to x, a decoded JSON value the schema has accepted, as
// encoding/json would set it from x's text. It fills the shapes
// oapi-codegen generates for request bodies: strings, booleans, integers,
// pointers, slices, free-form values (any and map[string]any, whose
// numbers become float64), nullable.Nullable, and types that parse their
// own text (uuid.UUID) or JSON (time.Time). Those hold only top-level
// members, whose text raw is (nil below the top level). Only a
// nullable.Nullable takes null: the schema refuses it everywhere else.
func assign(v reflect.Value, x any, raw []byte) *bindError {
	t := v.Type()
	if t.Kind() == reflect.Map && t.Key().Kind() == reflect.Bool { // nullable.Nullable: {false: zero} is null, {true: v} a value
		elem := reflect.New(t.Elem()).Elem()
		if x != nil {
			if err := assign(elem, x, raw); err != nil {
				return err
			}
		}
		m := reflect.MakeMapWithSize(t, 1)
		m.SetMapIndex(reflect.ValueOf(x != nil), elem)
		v.Set(m)
		return nil
	}
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return assign(v.Elem(), x, raw)
	}
	if p := v.Addr(); p.Type().Implements(jsonUnmarshaler) {
		if err := p.Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return &bindError{parser: err}
		}
		return nil
	}
	if p := v.Addr(); p.Type().Implements(textUnmarshaler) {
		s, _ := x.(string)
		if err := p.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return &bindError{parser: err}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if s, ok := x.(string); ok {
			v.SetString(s)
			return nil
		}
	case reflect.Bool:
		if b, ok := x.(bool); ok {
			v.SetBool(b)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := x.(json.Number); ok {
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && !v.OverflowInt(i) {
				v.SetInt(i)
				return nil
			}
		}
	case reflect.Interface:
		x, err := freeForm(x)
		v.Set(reflect.ValueOf(&x).Elem())
		return err
	case reflect.Map:
		m, _ := x.(map[string]any)
		_, err := freeForm(m)
		if v.IsNil() {
			v.Set(reflect.ValueOf(m))
			return err
		}
		for k, e := range m { // a repeated member: encoding/json adds to the map already set
			v.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(&e).Elem())
		}
		return err
	case reflect.Slice:
		list, _ := x.([]any)
		s := reflect.MakeSlice(t, len(list), len(list))
		v.Set(s)
		for i, e := range list {
			if err := assign(s.Index(i), e, nil); err != nil {
				return err
			}
		}
		return nil
	}
	return &bindError{kind: t.Kind()}
}

// freeForm turns the json.Numbers of a free-form value into float64, in
// place, as encoding/json decodes numbers into any; a number beyond
// float64 does not fit.
func freeForm(x any) (any, *bindError) {
	switch x := x.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, &bindError{kind: reflect.Float64}
		}
		return f, nil
	case map[string]any:
		var first *bindError
		for k, e := range x {
			x[k] = freeFormIn(e, &first)
		}
		return x, first
	case []any:
		var first *bindError
		for i, e := range x {
			x[i] = freeFormIn(e, &first)
		}
		return x, first
	}
	return x, nil
}

// freeFormIn is freeForm for a value inside another, noting its error in
// first unless one is there already.
func freeFormIn(x any, first **bindError) any {
	x, err := freeForm(x)
	if err != nil && *first == nil {
		*first = err
	}
	return x
}

// fieldIndexes caches structFields by type.
var fieldIndexes sync.Map // reflect.Type -> map[string]int

// structFields maps the JSON names of t's fields (generated: every field
// is exported and named by its tag) to their indexes.
func structFields(t reflect.Type) map[string]int {
	if m, ok := fieldIndexes.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = i
	}
	fieldIndexes.Store(t, m)
	return m
}
