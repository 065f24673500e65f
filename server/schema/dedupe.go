package schema

// dedupe rewrites the first JSON value of body with only the last member
// of each object for each name (names compared decoded), as kin-openapi
// sees it once decoded into maps. changed is false when body has no
// duplicate names or is not JSON. It runs only after a failure, so it
// allocates freely.
func dedupe(body []byte) (out []byte, changed bool) {
	st := &state{b: body}
	st.ws()
	d := &deduper{st: st}
	out, ok := d.value(nil)
	if !ok || !d.changed {
		return nil, false
	}
	return out, true
}

// deduper rewrites a body; changed tells whether it dropped a member.
type deduper struct {
	st      *state
	changed bool
}

// value appends the value at st.i, rewritten, to out.
func (d *deduper) value(out []byte) ([]byte, bool) {
	st := d.st
	if st.i >= len(st.b) {
		return nil, false
	}
	start := st.i
	switch st.b[st.i] {
	case '{', '[':
		// Kept the nesting limit: a dropped duplicate may hold the value
		// too deep for encoding/json.
		if st.depth++; st.depth > maxDepth {
			return nil, false
		}
		defer func() { st.depth-- }()
		if st.b[st.i] == '{' {
			return d.object(out)
		}
		return d.array(out)
	}
	if st.skip() != nil {
		return nil, false
	}
	return append(out, st.b[start:st.i]...), true
}

// object appends the object at st.i, one member per name, to out.
func (d *deduper) object(out []byte) ([]byte, bool) {
	st := d.st
	type member struct{ key, value []byte }
	var members []member
	index := map[string]int{}
	st.i++
	st.ws()
	if st.i < len(st.b) && st.b[st.i] == '}' {
		st.i++
		return append(out, '{', '}'), true
	}
	for {
		st.ws()
		if st.i >= len(st.b) || st.b[st.i] != '"' {
			return nil, false
		}
		keyAt := st.i
		key, f := st.str()
		if f != nil {
			return nil, false
		}
		name := string(key)
		raw := st.b[keyAt:st.i]
		if st.expect(':') != nil {
			return nil, false
		}
		st.ws()
		v, ok := d.value(nil)
		if !ok {
			return nil, false
		}
		if k, dup := index[name]; dup {
			members[k].value = v
			d.changed = true
		} else {
			index[name] = len(members)
			members = append(members, member{raw, v})
		}
		st.ws()
		if st.i >= len(st.b) {
			return nil, false
		}
		c := st.b[st.i]
		st.i++
		if c == '}' {
			break
		}
		if c != ',' {
			return nil, false
		}
	}
	out = append(out, '{')
	for k, m := range members {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(append(append(out, m.key...), ':'), m.value...)
	}
	return append(out, '}'), true
}

// array appends the array at st.i, rewritten, to out.
func (d *deduper) array(out []byte) ([]byte, bool) {
	st := d.st
	out = append(out, '[')
	st.i++
	st.ws()
	if st.i < len(st.b) && st.b[st.i] == ']' {
		st.i++
		return append(out, ']'), true
	}
	for first := true; ; first = false {
		if !first {
			out = append(out, ',')
		}
		st.ws()
		var ok bool
		if out, ok = d.value(out); !ok {
			return nil, false
		}
		st.ws()
		if st.i >= len(st.b) {
			return nil, false
		}
		c := st.b[st.i]
		st.i++
		if c == ']' {
			return append(out, ']'), true
		}
		if c != ',' {
			return nil, false
		}
	}
}
