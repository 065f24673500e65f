package schema

import (
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// run validates body against root: one JSON value, with nothing but
// whitespace around it.
func (st *state) run(root *node, body []byte) *failure {
	st.b, st.i, st.depth = body, 0, 0
	st.seen = st.seen[:0]
	st.ws()
	if st.i >= len(body) {
		return syntaxFailure("empty body")
	}
	if f := st.value(root); f != nil {
		return f
	}
	if st.ws(); st.i < len(body) {
		return syntaxFailure("data after the JSON value")
	}
	return nil
}

// value validates the value at st.i, whitespace skipped, against n.
func (st *state) value(n *node) *failure {
	if st.i >= len(st.b) {
		return syntaxFailure("unexpected end of JSON input")
	}
	c := st.b[st.i]
	if c == 'n' {
		if f := st.literal("null"); f != nil {
			return f
		}
		if n.nullOK {
			return nil
		}
		return schemaFailure("value is not nullable")
	}
	for n.ref != nil {
		n = n.ref
	}
	if n.any {
		return st.skip()
	}
	switch c {
	case '{':
		return st.object(n)
	case '[':
		return st.array(n)
	case '"':
		return st.string(n)
	case 't':
		if f := st.literal("true"); f != nil {
			return f
		}
		return n.boolean(true)
	case 'f':
		if f := st.literal("false"); f != nil {
			return f
		}
		return n.boolean(false)
	}
	return st.number(n)
}

// mismatch is the failure of a value whose type n does not permit. As in
// kin-openapi, a node with an enum rejects it for the enum first.
func (n *node) mismatch() *failure {
	if n.enum != nil {
		return schemaFailure("value is not one of the allowed values")
	}
	return schemaFailure("value must be " + n.typeOf)
}

// boolean checks a boolean against n.
func (n *node) boolean(v bool) *failure {
	if n.enum != nil && !n.enum.hasBool(v) || n.types&tBoolean == 0 {
		return n.mismatch()
	}
	return nil
}

// object validates the object at st.i against n: members, then required ones.
func (st *state) object(n *node) *failure {
	if n.types&tObject == 0 || n.enum != nil {
		return n.mismatch()
	}
	o := n.obj
	if st.depth++; st.depth > maxDepth {
		return syntaxFailure("exceeded max depth")
	}
	base := len(st.seen)
	for k := 0; k < o.words; k++ {
		st.seen = append(st.seen, 0)
	}
	st.i++
	st.ws()
	if st.i < len(st.b) && st.b[st.i] == '}' {
		st.i++
	} else {
		hint := 0
		for {
			if f := st.more(); f != nil {
				return f
			}
			if st.b[st.i] != '"' {
				return syntaxFailure("invalid character, expected a string")
			}
			keyAt := st.i
			key, f := st.str()
			if f != nil {
				return f
			}
			if f := st.expect(':'); f != nil {
				return f
			}
			st.ws()
			if f := st.member(o, key, keyAt, &hint, base); f != nil {
				return f
			}
			st.ws()
			if f := st.more(); f != nil {
				return f
			}
			c := st.b[st.i]
			st.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return syntaxFailure("invalid character after object member")
			}
			st.ws()
		}
	}
	st.depth--
	for w, req := range o.required {
		if got := st.seen[base+w]; got&req != req {
			missing := req &^ got
			for k := w * 64; ; k++ {
				if missing&(1<<(k%64)) != 0 {
					return schemaFailure("required property is missing").at(o.props[k].name)
				}
			}
		}
	}
	st.seen = st.seen[:base]
	return nil
}

// member validates the value of the object member key (whose literal is at
// keyAt in the body) against o.
func (st *state) member(o *objectRules, key []byte, keyAt int, hint *int, base int) *failure {
	if k := o.find(key, *hint); k >= 0 {
		st.seen[base+k/64] |= 1 << (k % 64)
		if p := &o.props[k]; !p.extra {
			*hint = k + 1
			if p.writeOnly && st.i < len(st.b) && st.b[st.i] != 'n' {
				return schemaFailure("write-only property in a response").at(p.name)
			}
			if f := st.value(p.node); f != nil {
				return f.at(p.name)
			}
			return nil
		}
	}
	var f *failure
	switch o.additional {
	case addDeny:
		f = schemaFailure("undocumented property (additionalProperties is false)")
	case addSchema:
		f = st.value(o.addNode)
	default:
		f = st.skip()
	}
	if f != nil && !f.syntax {
		// key may have been overwritten since: decode it again.
		again := state{b: st.b, i: keyAt}
		k, _ := again.str()
		return f.atKey(k)
	}
	return f
}

// array validates the array at st.i against n.
func (st *state) array(n *node) *failure {
	if n.types&tArray == 0 || n.enum != nil {
		return n.mismatch()
	}
	if st.depth++; st.depth > maxDepth {
		return syntaxFailure("exceeded max depth")
	}
	st.i++
	st.ws()
	count := 0
	if st.i < len(st.b) && st.b[st.i] == ']' {
		st.i++
	} else {
		for {
			var f *failure
			if n.items != nil {
				f = st.value(n.items)
			} else {
				f = st.skip()
			}
			if f != nil {
				return f.atIndex(count)
			}
			count++
			st.ws()
			if f := st.more(); f != nil {
				return f
			}
			c := st.b[st.i]
			st.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return syntaxFailure("invalid character after array element")
			}
			st.ws()
		}
	}
	st.depth--
	if count < n.minItems {
		return schemaFailure("too few items")
	}
	if n.maxItems >= 0 && count > n.maxItems {
		return schemaFailure("too many items")
	}
	return nil
}

// string validates the string at st.i against n.
func (st *state) string(n *node) *failure {
	if n.types&tString == 0 {
		return n.mismatch()
	}
	if !n.wantsStringContent {
		return st.skipStr()
	}
	s, f := st.str()
	if f != nil {
		return f
	}
	if n.enum != nil && !n.enum.hasString(s) {
		return schemaFailure("value is not one of the allowed values")
	}
	if n.minLen > 0 || n.maxLen >= 0 {
		// kin-openapi means to count UTF-16 units, but ranges over the
		// string's runes, which are never surrogates: it counts runes.
		l := utf8.RuneCount(s)
		if l < n.minLen {
			return schemaFailure("string is too short")
		}
		if n.maxLen >= 0 && l > n.maxLen {
			return schemaFailure("string is too long")
		}
	}
	if n.pattern != nil && !n.pattern.match(s) {
		return schemaFailure("string does not match the pattern")
	}
	if n.format != nil && !n.format.match(s) {
		return schemaFailure("string is not a valid " + n.format.name)
	}
	return nil
}

// number validates the number at st.i against n, compared as float64 as
// kin-openapi compares it.
func (st *state) number(n *node) *failure {
	lit, integer, f := st.num()
	if f != nil {
		return f
	}
	if n.types&(tNumber|tInteger) == 0 {
		return n.mismatch()
	}
	var v float64
	if integer && len(lit) <= 15 {
		if !n.wantsNumberValue {
			return nil // an integer of 15 digits is exact and finite
		}
		v = smallInt(lit)
	} else {
		// kin-openapi converts json.Number with strconv.ParseFloat: a
		// literal out of float64's range is rejected whatever the schema
		// (underflow to 0 is not an error). The string aliases the body
		// only for the call (ParseFloat copies it into its errors), which
		// spares an allocation for literals over 32 bytes.
		var err error
		if v, err = strconv.ParseFloat(unsafe.String(unsafe.SliceData(lit), len(lit)), 64); err != nil {
			return schemaFailure("number is out of range")
		}
	}
	if n.enum != nil && !n.enum.hasNumber(v) {
		return schemaFailure("value is not one of the allowed values")
	}
	// kin-openapi: big.NewFloat(v).IsInt(), so 1.0 and 1e3 are integers.
	if n.intOnly && v != math.Trunc(v) {
		return schemaFailure("value must be an integer")
	}
	if r := n.numRange; r != nil && (v < r.min || v > r.max) {
		return schemaFailure("number is out of the range of format " + r.name)
	}
	if n.hasMin && (v < n.min || n.exclMin && v == n.min) {
		return schemaFailure("number is below the minimum")
	}
	if n.hasMax && (v > n.max || n.exclMax && v == n.max) {
		return schemaFailure("number is above the maximum")
	}
	return nil
}

// smallInt converts an integer literal of at most 15 characters.
func smallInt(lit []byte) float64 {
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	var u uint64
	for _, c := range lit {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		return -float64(u)
	}
	return float64(u)
}
