package schema_test

import (
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"
)

// The value model of generated bodies: nil, bool, num (a number literal),
// string (any bytes), []any, obj (members in order, duplicates allowed),
// raw (JSON text as is).
type (
	num string
	kv  struct {
		k string
		v any
	}
	obj []kv
	raw string
)

// formatPatterns are the regular expressions generated strings of a format
// match (date-time and date have their own generator).
var formatPatterns = map[string]string{
	"uuid":  uuidPattern,
	"email": emailPattern,
	"byte":  openapi3.FormatOfStringByte,
}

// kinEscapes are rewritten by kin-openapi before it compiles a pattern.
var kinEscapes = regexp.MustCompile(`\\u([0-9A-F]{4})`)

// genValid draws a value that schema s accepts in a response.
func genValid(t *rapid.T, s *openapi3.Schema, depth int) any {
	nullable := s.Nullable
	if len(s.AllOf) == 1 {
		if nullable && (depth > 3 || rapid.IntRange(0, 4).Draw(t, "null") == 0) {
			return nil
		}
		return genValid(t, s.AllOf[0].Value, depth)
	}
	if s.IsEmpty() {
		return genAny(t, depth, false)
	}
	if nullable && (depth > 3 || rapid.IntRange(0, 4).Draw(t, "null") == 0) {
		return nil
	}
	if len(s.Enum) > 0 {
		var choices []any
		for _, e := range s.Enum {
			if e != nil {
				choices = append(choices, e)
			}
		}
		switch v := rapid.SampledFrom(choices).Draw(t, "enum").(type) {
		case float64:
			return num(strconv.FormatFloat(v, 'g', -1, 64))
		default:
			return v
		}
	}
	typ := ""
	if ts := s.Type.Slice(); len(ts) > 0 {
		typ = rapid.SampledFrom(ts).Draw(t, "type")
	}
	switch typ {
	case "string":
		return genString(t, s)
	case "integer":
		return genInteger(t, s)
	case "number":
		if rapid.Bool().Draw(t, "int") {
			return genInteger(t, s)
		}
		f := rapid.Float64Range(-1e6, 1e6).Draw(t, "float")
		if s.Min != nil && f <= *s.Min {
			f = *s.Min
			if s.ExclusiveMin.IsTrue() {
				f = math.Nextafter(f, math.Inf(1))
			}
		}
		if s.Max != nil && f >= *s.Max {
			f = *s.Max
			if s.ExclusiveMax.IsTrue() {
				f = math.Nextafter(f, math.Inf(-1))
			}
		}
		return num(strconv.FormatFloat(f, 'g', -1, 64))
	case "boolean":
		return rapid.Bool().Draw(t, "bool")
	case "array":
		n := rapid.IntRange(int(s.MinItems), int(s.MinItems)+3).Draw(t, "len")
		if s.MaxItems != nil && n > int(*s.MaxItems) {
			n = int(*s.MaxItems)
		}
		out := []any{}
		for i := 0; i < n; i++ {
			if s.Items == nil {
				out = append(out, genAny(t, depth+1, true))
			} else {
				out = append(out, genValid(t, s.Items.Value, depth+1))
			}
		}
		return out
	case "object":
		return genObject(t, s, depth)
	}
	return genFinite(t, depth)
}

func genObject(t *rapid.T, s *openapi3.Schema, depth int) obj {
	var out obj
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name].Value
		if p.WriteOnly || !required[name] && !satisfiable(p) {
			continue
		}
		if required[name] || depth < 4 && rapid.IntRange(0, 3).Draw(t, "optional "+name) > 0 {
			out = append(out, kv{name, genValid(t, p, depth+1)})
		}
	}
	for _, name := range s.Required {
		if _, known := s.Properties[name]; !known {
			if ap := s.AdditionalProperties.Schema; ap != nil {
				out = append(out, kv{name, genValid(t, ap.Value, depth+1)})
			} else {
				out = append(out, kv{name, genAny(t, depth+1, true)})
			}
		}
	}
	if has := s.AdditionalProperties.Has; has == nil || *has {
		for i := rapid.IntRange(0, 2).Draw(t, "extra"); i > 0; i-- {
			k := "x-" + rapid.StringMatching(`[a-z]{1,6}`).Draw(t, "key")
			if _, known := s.Properties[k]; known {
				continue
			}
			if ap := s.AdditionalProperties.Schema; ap != nil {
				out = append(out, kv{k, genValid(t, ap.Value, depth+1)})
			} else {
				out = append(out, kv{k, genAny(t, depth+1, true)})
			}
		}
	}
	perm := rapid.Permutation(out).Draw(t, "order")
	return perm
}

// satisfiable is false for an object schema that requires a name it
// forbids.
func satisfiable(s *openapi3.Schema) bool {
	if has := s.AdditionalProperties.Has; has != nil && !*has {
		for _, r := range s.Required {
			if _, ok := s.Properties[r]; !ok {
				return false
			}
		}
	}
	return true
}

// genAny draws any JSON value, null included when nullOK.
func genAny(t *rapid.T, depth int, nullOK bool) any {
	max := 5
	if depth > 3 {
		max = 3
	}
	switch rapid.IntRange(0, max).Draw(t, "any") {
	case 0:
		if nullOK {
			return nil
		}
		return true
	case 1:
		return rapid.Bool().Draw(t, "bool")
	case 2:
		return num(rapid.SampledFrom([]string{"0", "-1", "1.5", "1e400", "12345678901234567890", "-0.0e-5"}).Draw(t, "num"))
	case 3:
		return rapid.String().Draw(t, "str")
	case 4:
		return []any{genAny(t, depth+1, true), genAny(t, depth+1, true)}
	default:
		return obj{{"a", genAny(t, depth+1, true)}, {"b", genAny(t, depth+1, true)}}
	}
}

// genFinite draws any JSON value but null, without a number out of
// float64's range at its top.
func genFinite(t *rapid.T, depth int) any {
	v := genAny(t, depth, false)
	if n, ok := v.(num); ok && strings.Contains(string(n), "e400") {
		return num("1")
	}
	return v
}

func genInteger(t *rapid.T, s *openapi3.Schema) any {
	lo, hi := int64(-1e12), int64(1e12)
	if s.Format == "int32" {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	if s.Min != nil {
		lo = max(lo, int64(math.Ceil(*s.Min)))
	}
	if s.Max != nil {
		hi = min(hi, int64(math.Floor(*s.Max)))
	}
	if s.ExclusiveMin.IsTrue() && s.Min != nil && float64(lo) == *s.Min {
		lo++
	}
	if s.ExclusiveMax.IsTrue() && s.Max != nil && float64(hi) == *s.Max {
		hi--
	}
	v := rapid.Int64Range(lo, hi).Draw(t, "int")
	// kin-openapi takes any integral value as an integer.
	switch rapid.IntRange(0, 5).Draw(t, "spelling") {
	case 0:
		return num(strconv.FormatInt(v, 10) + ".0")
	case 1:
		return num(strconv.FormatInt(v, 10) + "e0")
	case 2:
		if v != 0 {
			return num(strconv.FormatInt(v, 10) + "00e-2")
		}
	}
	return num(strconv.FormatInt(v, 10))
}

func genString(t *rapid.T, s *openapi3.Schema) string {
	for attempt := 0; ; attempt++ {
		var v string
		switch {
		case s.Format == "date-time":
			v = genDateTime(t)
		case s.Format == "date":
			v = genDate(t)
		case formatPatterns[s.Format] != "":
			v = genMatching(t, formatPatterns[s.Format])
		case s.Pattern != "":
			v = genMatching(t, kinEscapes.ReplaceAllString(s.Pattern, `\x{$1}`))
		default:
			v = genText(t, s)
		}
		n := utf8.RuneCountInString(v)
		if (s.MaxLength == nil || uint64(n) <= *s.MaxLength) && uint64(n) >= s.MinLength {
			return v
		}
		if attempt > 20 {
			t.Fatalf("cannot draw a string for %+v", s)
		}
	}
}

// genText draws free text, often at the length limits, with characters
// that need escaping, multibyte ones and ones outside the BMP.
func genText(t *rapid.T, s *openapi3.Schema) string {
	alphabet := []rune{'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\x00', '\x1f', '\u007f', 'é', '€', '\u2028', '\ufffd', '😀', '𝄞'}
	n := rapid.IntRange(0, 12).Draw(t, "textlen")
	if s.MaxLength != nil && rapid.IntRange(0, 3).Draw(t, "atmax") == 0 {
		n = int(*s.MaxLength)
	}
	if uint64(n) < s.MinLength {
		n = int(s.MinLength)
	}
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = rapid.SampledFrom(alphabet).Draw(t, "rune")
	}
	return string(rs)
}

func genDate(t *rapid.T) string {
	y := rapid.IntRange(0, 9999).Draw(t, "year")
	m := rapid.IntRange(1, 12).Draw(t, "month")
	days := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	d := rapid.IntRange(1, days).Draw(t, "day")
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
}

func genDateTime(t *rapid.T) string {
	v := genDate(t) + fmt.Sprintf("T%02d:%02d:%02d", rapid.IntRange(0, 23).Draw(t, "h"), rapid.IntRange(0, 59).Draw(t, "min"), rapid.IntRange(0, 60).Draw(t, "s"))
	if rapid.Bool().Draw(t, "frac") {
		v += "." + rapid.StringMatching(`[0-9]{1,9}`).Draw(t, "fraction")
	}
	if rapid.Bool().Draw(t, "utc") {
		return v + "Z"
	}
	return v + fmt.Sprintf("%s%02d:%02d", rapid.SampledFrom([]string{"+", "-"}).Draw(t, "sign"), rapid.IntRange(0, 23).Draw(t, "oh"), rapid.IntRange(0, 59).Draw(t, "om"))
}

// genMatching draws a string that the regular expression p matches.
func genMatching(t *rapid.T, p string) string {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		t.Fatalf("pattern %q: %v", p, err)
	}
	var out []rune
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			out = append(out, re.Rune...)
		case syntax.OpCharClass:
			k := rapid.IntRange(0, len(re.Rune)/2-1).Draw(t, "range")
			lo, hi := re.Rune[2*k], re.Rune[2*k+1]
			if hi-lo > 200 && rapid.Bool().Draw(t, "ascii") {
				hi = lo + 200
			}
			r := rapid.Int32Range(lo, hi).Draw(t, "rune")
			if utf16.IsSurrogate(r) {
				r = lo
			}
			out = append(out, r)
		case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
			out = append(out, rapid.SampledFrom([]rune{'a', 'é', '😀'}).Draw(t, "any"))
		case syntax.OpCapture:
			walk(re.Sub[0])
		case syntax.OpConcat:
			for _, s := range re.Sub {
				walk(s)
			}
		case syntax.OpAlternate:
			walk(rapid.SampledFrom(re.Sub).Draw(t, "alt"))
		case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
			lo, hi := 0, 3
			switch re.Op {
			case syntax.OpPlus:
				lo = 1
			case syntax.OpQuest:
				hi = 1
			case syntax.OpRepeat:
				lo, hi = re.Min, re.Max
				if hi < 0 {
					hi = lo + 3
				}
			}
			for n := rapid.IntRange(lo, hi).Draw(t, "count"); n > 0; n-- {
				walk(re.Sub[0])
			}
		}
	}
	walk(re)
	return string(out)
}

func sortedKeys(m openapi3.Schemas) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
