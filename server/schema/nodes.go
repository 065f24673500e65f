package schema

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// compiler turns schemas into nodes, each schema once.
type compiler struct {
	cfg   *config
	nodes map[*openapi3.Schema]*node
	// chain holds the allOf wrappers being compiled for one value, to
	// refuse a cycle of allOf (kin-openapi accepts the value at the second
	// visit). Properties, items and additionalProperties start a new chain.
	chain []*openapi3.Schema
	// wrappers are resolved once every node is compiled.
	wrappers []*node
}

// node compiles the schema of ref, found at at.
func (c *compiler) node(ref *openapi3.SchemaRef, at string) (*node, error) {
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("%s: unresolved schema", at)
	}
	if ref.Ref != "" {
		at = ref.Ref
	}
	s := ref.Value
	if n, ok := c.nodes[s]; ok {
		if slices.Contains(c.chain, s) {
			return nil, fmt.Errorf("%s: unsupported: a cycle of allOf", at)
		}
		return n, nil
	}
	n := &node{}
	c.nodes[s] = n
	if err := c.fill(n, s, at); err != nil {
		return nil, err
	}
	return n, nil
}

// unsupported names the first keyword of s that this package cannot check
// as kin-openapi does, or "".
func unsupported(s *openapi3.Schema) string {
	switch {
	case len(s.OneOf) > 0:
		return "oneOf"
	case len(s.AnyOf) > 0:
		return "anyOf"
	case s.Not != nil:
		return "not"
	case len(s.AllOf) > 1:
		return "allOf with more than one schema"
	case s.UniqueItems:
		return "uniqueItems"
	case s.MultipleOf != nil:
		return "multipleOf"
	case s.MinProps != 0 || s.MaxProps != nil:
		return "minProperties/maxProperties"
	case s.ExclusiveMin.Value != nil && s.Min != nil, s.ExclusiveMax.Value != nil && s.Max != nil:
		return "both a numeric exclusive bound and a minimum/maximum"
	case s.Always != nil || s.Const != nil || len(s.PrefixItems) > 0 || s.Contains != nil ||
		s.MinContains != nil || s.MaxContains != nil || len(s.PatternProperties) > 0 ||
		len(s.DependentSchemas) > 0 || s.PropertyNames != nil || s.UnevaluatedItems.Has != nil ||
		s.UnevaluatedItems.Schema != nil || s.UnevaluatedProperties.Has != nil ||
		s.UnevaluatedProperties.Schema != nil || s.If != nil || s.Then != nil || s.Else != nil ||
		len(s.DependentRequired) > 0 || s.DynamicRef != "" || s.ContentSchema != nil:
		return "an OpenAPI 3.1 keyword"
	case s.Type.Is(openapi3.TypeString) && s.Format == "binary":
		return "format binary"
	}
	return ""
}

// fill compiles s into n.
func (c *compiler) fill(n *node, s *openapi3.Schema, at string) error {
	if k := unsupported(s); k != "" {
		return fmt.Errorf("%s: unsupported: %s", at, k)
	}
	nullable := s.Nullable || s.Type.IncludesNull()
	if s.IsEmpty() {
		n.any = true
		return nil
	}
	if len(s.AllOf) == 1 {
		return c.wrapper(n, s, nullable, at)
	}
	n.nullOK = nullable
	n.maxLen, n.maxItems = -1, -1
	n.types = tAll
	if s.Type != nil { // kin-openapi's Types.Permits: an empty list permits nothing
		n.types = 0
		for _, t := range s.Type.Slice() {
			switch t {
			case openapi3.TypeObject:
				n.types |= tObject
			case openapi3.TypeArray:
				n.types |= tArray
			case openapi3.TypeString:
				n.types |= tString
			case openapi3.TypeNumber:
				n.types |= tNumber
			case openapi3.TypeInteger:
				n.types |= tInteger
			case openapi3.TypeBoolean:
				n.types |= tBoolean
			case openapi3.TypeNull:
			default:
				return fmt.Errorf("%s: unsupported: type %q", at, t)
			}
		}
	}
	n.typeOf = typeOf(s)
	saved := c.chain
	c.chain = nil
	defer func() { c.chain = saved }()
	if len(s.Enum) > 0 {
		e, err := enumOf(s.Enum, at)
		if err != nil {
			return err
		}
		n.enum = e
	}
	if n.types&tString != 0 {
		if err := c.strings(n, s, at); err != nil {
			return err
		}
	}
	if n.types&(tNumber|tInteger) != 0 {
		if err := c.numbers(n, s, at); err != nil {
			return err
		}
	}
	if n.types&tArray != 0 {
		n.minItems = clamp(s.MinItems)
		if s.MaxItems != nil {
			n.maxItems = clamp(*s.MaxItems)
		}
		if s.Items != nil {
			items, err := c.node(s.Items, at+"/items")
			if err != nil {
				return err
			}
			n.items = items
		}
	}
	if n.types&tObject != 0 {
		o, err := c.object(s, at)
		if err != nil {
			return err
		}
		n.obj = o
	}
	return nil
}

// wrapper compiles {allOf: [X], ...annotations}: null follows nullable or
// X (kin-openapi's visitXOFOperations stops at a null that allOf accepted),
// any other value X. Only annotations may sit next to the allOf.
func (c *compiler) wrapper(n *node, s *openapi3.Schema, nullable bool, at string) error {
	bare := *s
	bare.AllOf, bare.Nullable, bare.ReadOnly, bare.WriteOnly = nil, false, false, false
	bare.Deprecated, bare.AllowEmptyValue = false, false
	bare.Default, bare.Example, bare.Examples = nil, nil, nil // no effect on a response
	if !bare.IsEmpty() {
		return fmt.Errorf("%s: unsupported: keywords next to allOf", at)
	}
	c.chain = append(c.chain, s)
	inner, err := c.node(s.AllOf[0], at+"/allOf/0")
	c.chain = c.chain[:len(c.chain)-1]
	if err != nil {
		return err
	}
	if inner.any {
		// {} accepts anything but null; the wrapper is not empty, so
		// kin-openapi also converts numbers (and rejects those out of
		// float64's range): a node that permits every type does both.
		*n = node{nullOK: nullable, types: tAll, maxLen: -1, maxItems: -1, obj: &objectRules{}, typeOf: "any value"}
		return nil
	}
	// inner may still be in progress: nullOK is resolved at the end.
	n.ref, n.selfNull = inner, nullable
	c.wrappers = append(c.wrappers, n)
	return nil
}

// resolve sets nullOK of the wrappers, now that every node is complete.
func (c *compiler) resolve() {
	for _, w := range c.wrappers {
		ok := w.selfNull
		for m := w.ref; !ok; m = m.ref {
			if m.ref == nil {
				ok = m.nullOK
				break
			}
			ok = m.selfNull
		}
		w.nullOK = ok
	}
}

// strings compiles the string keywords of s into n.
func (c *compiler) strings(n *node, s *openapi3.Schema, at string) error {
	n.minLen = clamp(s.MinLength)
	if s.MaxLength != nil {
		n.maxLen = clamp(*s.MaxLength)
	}
	if s.Pattern != "" {
		m, err := compilePattern(kinPattern(s.Pattern))
		if err != nil {
			return fmt.Errorf("%s: pattern: %w", at, err)
		}
		n.pattern = m
	}
	if s.Format != "" {
		f, err := c.stringFormatFor(s.Format, at)
		if err != nil {
			return err
		}
		n.format = f
	}
	n.wantsStringContent = n.enum != nil || n.minLen > 0 || n.maxLen >= 0 || n.pattern != nil || n.format != nil
	return nil
}

// numbers compiles the number keywords of s into n.
func (c *compiler) numbers(n *node, s *openapi3.Schema, at string) error {
	n.intOnly = n.types&tInteger != 0 && n.types&tNumber == 0
	if s.Format != "" {
		r, err := c.numberFormatFor(s.Format, n.intOnly, at)
		if err != nil {
			return err
		}
		n.numRange = r
	}
	// OpenAPI 3.0's boolean exclusive bounds modify minimum and maximum;
	// a numeric one (3.1 style, also read from a 3.0 document) is the bound.
	if s.Min != nil {
		n.hasMin, n.min, n.exclMin = true, *s.Min, s.ExclusiveMin.IsTrue()
	} else if v := s.ExclusiveMin.Value; v != nil {
		n.hasMin, n.min, n.exclMin = true, *v, true
	}
	if s.Max != nil {
		n.hasMax, n.max, n.exclMax = true, *s.Max, s.ExclusiveMax.IsTrue()
	} else if v := s.ExclusiveMax.Value; v != nil {
		n.hasMax, n.max, n.exclMax = true, *v, true
	}
	n.wantsNumberValue = n.enum != nil || n.numRange != nil || n.hasMin || n.hasMax
	return nil
}

// object compiles the object keywords of s.
func (c *compiler) object(s *openapi3.Schema, at string) (*objectRules, error) {
	o := &objectRules{index: map[string]int{}}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ref := s.Properties[name]
		pn, err := c.node(ref, at+"/properties/"+name)
		if err != nil {
			return nil, err
		}
		o.index[name] = len(o.props)
		o.props = append(o.props, prop{name: name, node: pn, writeOnly: ref.Value.WriteOnly})
	}
	var required []int
	for _, name := range s.Required {
		k, ok := o.index[name]
		if !ok {
			k = len(o.props)
			o.index[name] = k
			o.props = append(o.props, prop{name: name, extra: true})
		}
		// kin-openapi does not require a write-only property in a response.
		if !o.props[k].writeOnly {
			required = append(required, k)
		}
	}
	o.words = (len(o.props) + 63) / 64
	o.required = make([]uint64, o.words)
	for _, k := range required {
		o.required[k/64] |= 1 << (k % 64)
	}
	ap := s.AdditionalProperties
	switch {
	case ap.Has != nil && !*ap.Has:
		o.additional = addDeny
	case ap.Schema != nil:
		an, err := c.node(ap.Schema, at+"/additionalProperties")
		if err != nil {
			return nil, err
		}
		o.additional, o.addNode = addSchema, an
	}
	return o, nil
}

// clamp converts a length or a count to int.
func clamp(v uint64) int {
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(v)
}

// typeOf describes the types a schema permits, for errors.
func typeOf(s *openapi3.Schema) string {
	ts := s.Type.Slice()
	if s.Type == nil {
		return "any value"
	}
	if len(ts) == 0 {
		return "of no type (type is an empty list)"
	}
	if len(ts) == 1 {
		switch ts[0] {
		case openapi3.TypeObject, openapi3.TypeArray, openapi3.TypeInteger:
			return "an " + ts[0]
		}
		return "a " + ts[0]
	}
	return "one of " + strings.Join(ts, ", ")
}
