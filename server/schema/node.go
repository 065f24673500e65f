package schema

import (
	"encoding/json"
	"fmt"
)

// JSON types a node may permit, as kin-openapi's Types.Permits answers them.
const (
	tObject uint8 = 1 << iota
	tArray
	tString
	tNumber
	tInteger
	tBoolean

	tAll = tObject | tArray | tString | tNumber | tInteger | tBoolean
)

// node is one compiled schema. The zero node permits nothing but null
// when nullOK; Compile fills in what the schema allows.
type node struct {
	// any is the empty schema ({}): any value but null, unchecked inside
	// (kin-openapi's Schema.IsEmpty shortcut in visitJSON).
	any bool
	// ref is set on a schema that is only an allOf of one schema plus
	// annotations: a value other than null is checked against ref, null
	// against nullOK of this node.
	ref      *node
	selfNull bool // the wrapper itself is nullable

	types  uint8 // permitted types
	nullOK bool  // null is accepted
	// intOnly requires numbers to be integers: type integer without number.
	intOnly bool
	enum    *enumSet

	// Strings.
	minLen, maxLen int // in runes; maxLen < 0: none
	pattern        *matcher
	format         *stringFormat

	// Numbers (as float64, as kin-openapi compares them).
	numRange         *numberRange // the range of an integer format
	min, max         float64
	hasMin, hasMax   bool
	exclMin, exclMax bool

	// Arrays and objects.
	minItems, maxItems int // maxItems < 0: none
	items              *node
	obj                *objectRules // set when objects are permitted

	wantsStringContent bool   // strings must be decoded: some check reads them
	wantsNumberValue   bool   // numbers must be parsed beyond a syntax check
	typeOf             string // the permitted types, for errors
}

// numberRange is an inclusive range of float64 values.
type numberRange struct {
	name     string
	min, max float64
}

// objectRules are the object keywords of a node.
type objectRules struct {
	props []prop         // properties, then required names that are not properties
	index map[string]int // name → index in props
	words int            // uint64 words in a bitset of props
	// required has the bits of props that must be present.
	required []uint64
	// additional says what happens to a member not in props (or in props
	// with extra set).
	additional uint8
	addNode    *node
}

// What an undocumented object member gets.
const (
	addAllow  uint8 = iota // accepted unchecked
	addDeny                // additionalProperties: false
	addSchema              // checked against addNode
)

// prop is a documented property.
type prop struct {
	name string
	node *node
	// writeOnly: kin-openapi rejects the property in a response unless its
	// value is null (visitJSONObject, VisitAsResponse).
	writeOnly bool
	// extra: a required name that is not a property: it must be present,
	// and its value is an undocumented member.
	extra bool
}

// find returns the index in props of key, trying hint first, or -1.
func (o *objectRules) find(key []byte, hint int) int {
	if hint < len(o.props) && o.props[hint].name == string(key) {
		return hint
	}
	if i, ok := o.index[string(key)]; ok {
		return i
	}
	return -1
}

// enumSet holds the scalar values of an enum. kin-openapi compares a
// string with strings, a number with numbers (as float64), a boolean with
// booleans (equalJSONValues).
type enumSet struct {
	strs   []string
	strSet map[string]struct{} // for long lists
	nums   []float64
	bools  [2]bool
}

// hasString reports whether the enum lists s.
func (e *enumSet) hasString(s []byte) bool {
	if e.strSet != nil {
		_, ok := e.strSet[string(s)]
		return ok
	}
	for _, v := range e.strs {
		if v == string(s) {
			return true
		}
	}
	return false
}

// hasNumber reports whether the enum lists f.
func (e *enumSet) hasNumber(f float64) bool {
	for _, v := range e.nums {
		if v == f {
			return true
		}
	}
	return false
}

// hasBool reports whether the enum lists b.
func (e *enumSet) hasBool(b bool) bool {
	if b {
		return e.bools[1]
	}
	return e.bools[0]
}

// enumOf compiles the values of an enum; only scalars are supported.
func enumOf(values []any, at string) (*enumSet, error) {
	e := &enumSet{}
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			// null: only nullable decides on null (visitJSON returns
			// before the enum for a nullable schema, and rejects null after
			// it otherwise).
		case string:
			e.strs = append(e.strs, v)
		case bool:
			e.bools[b2i(v)] = true
		default:
			f, ok := number(v)
			if !ok {
				return nil, fmt.Errorf("%s: unsupported: enum value of type %T", at, v)
			}
			e.nums = append(e.nums, f)
		}
	}
	if len(e.strs) > 8 {
		e.strSet = map[string]struct{}{}
		for _, s := range e.strs {
			e.strSet[s] = struct{}{}
		}
	}
	return e, nil
}

// number converts an enum number as kin-openapi's jsonNumberAsFloat64.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int8:
		return float64(v), true
	case int16:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint:
		return float64(v), true
	case uint8:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// b2i is 1 for true.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
