package contract_test

import (
	"fmt"
	"sort"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"
)

// omit, returned by a hook, leaves the property out of the body.
var omit = &struct{ omit bool }{true}

// drawn, returned by a hook, draws the property from its schema as if
// there were no hook: for a name that only some contracts' schemas give
// the hooked meaning (a connection's integer user, not an event's object).
var drawn = &struct{ drawn bool }{true}

// hook overrides the value drawn for a property (references to existing
// objects, values that must be unique); s is the property's schema on the
// mount the body is for.
type hook func(t *rapid.T, s *openapi3.Schema) any

// generator draws values valid for a schema: every enum value, nullables,
// boundary lengths, formats and unicode text.
type generator struct {
	t     *rapid.T
	hooks map[string]hook
}

// textRunes excludes control characters (NUL is refused by design, see
// the invalid-input tests) and includes letters, digits, punctuation,
// symbols (emoji) and spaces from all of Unicode.
var textRunes = rapid.RuneFrom(nil, unicode.L, unicode.N, unicode.P, unicode.S, unicode.Zs)

const slugChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

func (g *generator) value(s *openapi3.Schema, label string) any {
	if len(s.AllOf) == 1 && s.AllOf[0].Value != nil {
		inner := *s.AllOf[0].Value
		inner.Nullable = inner.Nullable || s.Nullable
		return g.value(&inner, label)
	}
	if s.Nullable && rapid.IntRange(0, 4).Draw(g.t, label+":null") == 0 {
		return nil
	}
	if len(s.Enum) > 0 {
		return rapid.SampledFrom(s.Enum).Draw(g.t, label)
	}
	switch {
	case s.Type == nil || len(*s.Type) == 0:
		return g.smallMap(label)
	case s.Type.Is("string"):
		return g.str(s, label)
	case s.Type.Is("integer"):
		return rapid.Int64Range(-1000, 1<<40).Draw(g.t, label)
	case s.Type.Is("number"):
		return rapid.Float64Range(-1e6, 1e6).Draw(g.t, label)
	case s.Type.Is("boolean"):
		return rapid.Bool().Draw(g.t, label)
	case s.Type.Is("array"):
		n := rapid.IntRange(0, 3).Draw(g.t, label+":len")
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(s.Items.Value, fmt.Sprintf("%s[%d]", label, i))
		}
		return out
	default:
		return g.object(s, label)
	}
}

// require adds to body, drawn with its hook, each of names the body lacks
// (fields a business rule needs beyond the schema s).
func (g *generator) require(s *openapi3.Schema, body map[string]any, names []string) {
	for _, name := range names {
		if _, ok := body[name]; ok {
			continue
		}
		var p *openapi3.Schema
		if ref := s.Properties[name]; ref != nil {
			p = ref.Value
		}
		body[name] = g.hooks[name](g.t, p)
	}
}

// object draws the writable properties of s: every required one and a
// random subset of the optional ones.
func (g *generator) object(s *openapi3.Schema, label string) map[string]any {
	if len(s.Properties) == 0 {
		return g.smallMap(label)
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	out := map[string]any{}
	for _, name := range names {
		p := s.Properties[name].Value
		if p.ReadOnly {
			continue
		}
		if !contains(s.Required, name) && !rapid.Bool().Draw(g.t, label+"."+name+":present") {
			continue
		}
		if h := g.hooks[name]; h != nil {
			switch v := h(g.t, p); v {
			case omit:
				continue
			case drawn:
			default:
				out[name] = v
				continue
			}
		}
		out[name] = g.value(p, label+"."+name)
	}
	return out
}

func (g *generator) smallMap(label string) map[string]any {
	out := map[string]any{}
	for i, n := 0, rapid.IntRange(0, 3).Draw(g.t, label+":keys"); i < n; i++ {
		key := rapid.StringOfN(textRunes, 1, 12, -1).Draw(g.t, label+":key")
		out[key] = rapid.OneOf(
			rapid.Map(rapid.StringOfN(textRunes, 0, 20, -1), func(s string) any { return s }),
			rapid.Map(rapid.IntRange(-1000, 1000), func(i int) any { return i }),
			rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		).Draw(g.t, label+":val")
	}
	return out
}

func (g *generator) str(s *openapi3.Schema, label string) string {
	switch s.Format {
	case "uuid":
		return uuidFrom(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(g.t, label))
	case "date-time":
		sec := rapid.Int64Range(0, 4102444800).Draw(g.t, label+":sec")
		usec := rapid.Int64Range(0, 999999).Draw(g.t, label+":usec")
		return time.Unix(sec, usec*1000).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	case "email":
		return rapid.SampledFrom([]string{"", "a@example.com", "first.last+tag@sub.example.org", "ü@exämple.de"}).Draw(g.t, label)
	}
	lo, hi := int(s.MinLength), 40
	if s.MaxLength != nil && int(*s.MaxLength) < hi {
		hi = int(*s.MaxLength)
	}
	if s.MaxLength != nil && rapid.IntRange(0, 5).Draw(g.t, label+":atmax") == 0 {
		lo, hi = int(*s.MaxLength), int(*s.MaxLength) // boundary: exactly the maximum
	}
	if s.Pattern != "" {
		return rapid.StringOfN(rapid.SampledFrom([]rune(slugChars)), max(lo, 1), max(hi, 1), -1).Draw(g.t, label)
	}
	return untrimmed(rapid.StringOfN(textRunes, lo, hi, -1).Draw(g.t, label))
}

// untrimmed replaces whitespace at either end of s, which the server
// trims as Django REST framework's CharField does (tested on its own in
// TestWhitespaceIsTrimmed), so that a drawn valid value stays valid and is
// stored as sent.
func untrimmed(s string) string {
	r := []rune(s)
	for _, i := range []int{0, len(r) - 1} {
		if i >= 0 && i < len(r) && (unicode.IsSpace(r[i]) || r[i] >= 0x1c && r[i] <= 0x1f) {
			r[i] = 'x'
		}
	}
	return string(r)
}

func uuidFrom(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
