package schema_test

import (
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func sortStrings(s []string) { sort.Strings(s) }

// encoder writes a value as JSON; with noise, with random whitespace and
// escapes, which change nothing for a validator.
type encoder struct {
	r     *rand.Rand
	noise bool
	buf   []byte
}

func encode(v any, seed int64, noise bool) []byte {
	e := &encoder{r: rand.New(rand.NewSource(seed)), noise: noise}
	e.ws()
	e.value(v)
	e.ws()
	return e.buf
}

func (e *encoder) ws() {
	if e.noise && e.r.Intn(4) == 0 {
		e.buf = append(e.buf, []string{" ", "\n", "\t", "\r\n  "}[e.r.Intn(4)]...)
	}
}

func (e *encoder) value(v any) {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case num:
		e.buf = append(e.buf, v...)
	case raw:
		e.buf = append(e.buf, v...)
	case string:
		e.quote(v)
	case []any:
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.ws()
			e.value(x)
			e.ws()
		}
		e.buf = append(e.buf, ']')
	case obj:
		e.buf = append(e.buf, '{')
		for i, m := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.ws()
			e.quote(m.k)
			e.ws()
			e.buf = append(e.buf, ':')
			e.ws()
			e.value(m.v)
			e.ws()
		}
		e.buf = append(e.buf, '}')
	default:
		panic(v)
	}
}

// quote writes s as a JSON string; invalid UTF-8 is written as is.
func (e *encoder) quote(s string) {
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		chunk := s[i : i+size]
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			e.buf = append(e.buf, chunk...)
		case r == '"' || r == '\\':
			e.buf = append(e.buf, '\\', byte(r))
		case r < 0x20 || e.noise && e.r.Intn(8) == 0:
			if r == '/' && e.r.Intn(2) == 0 {
				e.buf = append(e.buf, `\/`...)
				continue
			}
			if r == '\n' && e.r.Intn(2) == 0 {
				e.buf = append(e.buf, `\n`...)
				continue
			}
			if r > 0xffff {
				r -= 0x10000
				e.buf = append(e.buf, `\u`+e.hex4(0xd800+(r>>10))+`\u`+e.hex4(0xdc00+(r&0x3ff))...)
				continue
			}
			e.buf = append(e.buf, `\u`+e.hex4(r)...)
		default:
			e.buf = append(e.buf, chunk...)
		}
	}
	e.buf = append(e.buf, '"')
}

func (e *encoder) hex4(r rune) string {
	h := strconv.FormatInt(int64(r), 16)
	if e.r.Intn(2) == 0 {
		h = strings.ToUpper(h)
	}
	return strings.Repeat("0", 4-len(h)) + h
}

// nasty are values that break schemas in many ways, or nearly do.
var nasty = []any{
	nil, true, false, num("0"), num("-1"), num("1.5"), num("1e400"), num("-1e400"), num("1e-400"),
	num("12345678901234567890"), num("2147483648"), num("9223372036854775808"), num("9.3e18"), num("1E2"), num("-0"),
	"", "x", "any", "all", "ANY", "bogus", "github", "identifier", "cascade", "internal",
	strings.Repeat("a", 50), strings.Repeat("a", 51), strings.Repeat("€", 150), strings.Repeat("😀", 151),
	strings.Repeat("b", 255), strings.Repeat("é", 256), strings.Repeat("c", 254) + "\xff",
	"0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5a", "0F0E4A8C-1C2B-4D3E-8F9A-0B1C2D3E4F5A", "0f0e4a8c1c2b4d3e8f9a0b1c2d3e4f5a",
	"0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5", "0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5g", "{0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5a}",
	"2024-01-02T03:04:05Z", "2024-02-29T00:00:00+01:00", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
	"2024-01-02t03:04:05z", "2024-01-02T24:00:00Z", "2024-01-02T23:59:60.123456789-23:59", "2024-01-02T03:04:05.Z",
	"2024-01-02T03:04:05", "2024-01-02 03:04:05Z", "2024-1-02T03:04:05Z", "0000-02-29T00:00:00Z", "2024-01-02",
	"2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05Z\n", "２０２４-01-02T03:04:05Z",
	"a@b", "a@b c", "@b", "a@", "a@b@c", "é@ü", "slug-ok_1", "slug not ok", "slug/x", "ok\u00e9",
	"\xff", "a\xc3", "\xed\xa0\x80", "\u2028", "\x00", "U3dhZ2dlciByb2Nrcw==", "=abc",
	[]any{}, []any{nil}, []any{"0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5a"}, []any{num("1"), "x"},
	obj{}, obj{{"detail", "x"}}, obj{{"a", nil}}, obj{{"name", "x"}, {"pk", "y"}},
	raw(`{"a":[1,{"b":null}],"c":"\u0000"}`),
}

// mutate changes one place of v: drops, adds, duplicates or replaces a
// member, or replaces a value, with names taken from props.
func mutate(t *rapid.T, v any, props []string) any {
	var paths [][]int
	var collect func(v any, path []int)
	collect = func(v any, path []int) {
		paths = append(paths, append([]int(nil), path...))
		switch v := v.(type) {
		case []any:
			for i, x := range v {
				collect(x, append(path, i))
			}
		case obj:
			for i, m := range v {
				collect(m.v, append(path, i))
			}
		}
	}
	collect(v, nil)
	path := rapid.SampledFrom(paths).Draw(t, "where")
	return rewrite(v, path, func(x any) any {
		bad := func() any { return rapid.SampledFrom(nasty).Draw(t, "nasty") }
		name := func() string {
			return rapid.SampledFrom(append(props, "x", "extra", "Pk", "", "\xff", "k\u00e9y")).Draw(t, "name")
		}
		switch o := x.(type) {
		case obj:
			switch rapid.IntRange(0, 4).Draw(t, "objmut") {
			case 0:
				if len(o) > 0 {
					i := rapid.IntRange(0, len(o)-1).Draw(t, "drop")
					return append(append(obj{}, o[:i]...), o[i+1:]...)
				}
			case 1:
				return append(append(obj{}, o...), kv{name(), bad()})
			case 2:
				if len(o) > 0 { // a duplicate name, before or after
					i := rapid.IntRange(0, len(o)-1).Draw(t, "dup")
					d := kv{o[i].k, bad()}
					if rapid.Bool().Draw(t, "before") {
						return append(obj{d}, o...)
					}
					return append(append(obj{}, o...), d)
				}
			case 3:
				return append(obj{{name(), bad()}}, o...)
			}
		}
		return bad()
	})
}

// rewrite returns v with the value at path replaced by f of it.
func rewrite(v any, path []int, f func(any) any) any {
	if len(path) == 0 {
		return f(v)
	}
	switch x := v.(type) {
	case []any:
		out := append([]any{}, x...)
		out[path[0]] = rewrite(x[path[0]], path[1:], f)
		return out
	case obj:
		out := append(obj{}, x...)
		out[path[0]].v = rewrite(x[path[0]].v, path[1:], f)
		return out
	}
	return v
}

// garble changes the bytes of a body.
func garble(t *rapid.T, b []byte) []byte {
	insert := []string{"{", "}", "[", "]", ",", ":", `"`, `\`, " ", "0", "-", ".", "e", "n", "x", "\x00", "\xff", `\u12`, `\ud800`}
	switch rapid.IntRange(0, 7).Draw(t, "garble") {
	case 0:
		return b[:rapid.IntRange(0, len(b)).Draw(t, "cut")]
	case 1:
		i := rapid.IntRange(0, len(b)).Draw(t, "at")
		return []byte(string(b[:i]) + rapid.SampledFrom(insert).Draw(t, "ins") + string(b[i:]))
	case 2:
		if len(b) == 0 {
			return b
		}
		i := rapid.IntRange(0, len(b)-1).Draw(t, "del")
		return append(append([]byte{}, b[:i]...), b[i+1:]...)
	case 3:
		return append(append([]byte{}, b...), rapid.SampledFrom([]string{"x", " ]", "{}", "\x00", " null", ",", "\xff", "1"}).Draw(t, "trail")...)
	case 4:
		return append([]byte(rapid.SampledFrom([]string{"\ufeff", " ", "\x00", "x"}).Draw(t, "lead")), b...)
	case 5:
		return []byte(rapid.SampledFrom(wholeBodies).Draw(t, "whole"))
	}
	return b
}

// wholeBodies replace a body entirely.
var wholeBodies = []string{
	"", " ", "\n", "null", " null ", "[]", "{}", "0", "01", "-", "1.", `"x"`, `"x`, "true", "tru", "nul", "{", "[", "}",
	`{"detail":"x"}`, `{"detail":"x","detail":1}`, `{"detail":1,"detail":"x"}`, `{"detail":"x"}{"detail":1}`, `{"detail":"x"}]`,
	`{"detail":"x",}`, `{"detail" "x"}`, `{detail:"x"}`, `{"detail":"x\q"}`, "{\"detail\":\"a\x01\"}", `{"detail":"\ud800\udc00"}`,
	`{"detail":"x","code":null}`, `{"non_field_errors":[],"code":"x","f":[1]}`, `{"non_field_errors":null}`,
	`{"pagination":{},"results":[]}`, `[{"action":"cascade","app":"a","model_name":"m","name":"n","pk":"1"}]`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"detail":"x","deep":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"detail":"x","deep":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"detail":1,"detail":"x","d":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
}

// contentTypes are Content-Type values to try.
var contentTypes = []string{
	"application/json", "application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ",
	"application/json;charset=UTF-8", "application/problem+json", "application/vnd.api+json", "text/plain", "",
	"application/jsonx", "application/*", "*/*", "application", "application/json, text/plain", "applİcation/json",
}
