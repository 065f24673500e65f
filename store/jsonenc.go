package store

import (
	"encoding/json"
	"slices"
	"strconv"
)

// appendJSON appends v encoded exactly as encoding/json's Marshal encodes
// it (object members in key order, HTML characters escaped). The maps,
// strings and integers events are made of are written directly; anything
// else goes through Marshal. Every audited write encodes a few small maps,
// and Marshal's reflection over them showed in its cost.
func appendJSON(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return appendJSONString(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case map[string]any:
		if v == nil {
			return append(dst, "null"...)
		}
		return append(appendJSONMembers(append(dst, '{'), v), '}')
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendJSONMembers appends m's members in key order, comma-separated,
// without the braces around them. The keys of the small maps events are
// made of are sorted on the stack, sparing an allocation per map.
func appendJSONMembers(dst []byte, m map[string]any) []byte {
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendJSONString(dst, k), ':')
		dst = appendJSON(dst, m[k])
	}
	return dst
}

// appendJSONString appends s as a JSON string: printable ASCII other than
// the characters Marshal escapes is copied as it is, any other string is
// left to Marshal.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plainJSON marks the bytes appendJSONString copies as they are:
// printable ASCII but for the quote, the backslash and the HTML
// characters Marshal escapes (a table: the comparisons byte by byte were
// an eighth of an event's encoding, callgrind).
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()
