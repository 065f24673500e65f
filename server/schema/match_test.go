package schema

import (
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"
)

// nearly draws a string close to one of seeds: characters replaced,
// inserted or dropped, from an alphabet of the seeds' characters and a few
// others.
func nearly(t *rapid.T, seeds []string) string {
	s := []rune(rapid.SampledFrom(seeds).Draw(t, "seed"))
	alphabet := []rune("09aAfFgzZ-_:.+T Zt@<>\",é😀\n\x00\ufffd=/")
	for _, r := range seeds {
		alphabet = append(alphabet, []rune(r)...)
	}
	for i := rapid.IntRange(0, 3).Draw(t, "edits"); i > 0; i-- {
		at := rapid.IntRange(0, len(s)).Draw(t, "at")
		r := rapid.SampledFrom(alphabet).Draw(t, "rune")
		switch rapid.IntRange(0, 2).Draw(t, "edit") {
		case 0:
			if at < len(s) {
				s[at] = r
			}
		case 1:
			s = append(s[:at], append([]rune{r}, s[at:]...)...)
		default:
			if at < len(s) {
				s = append(s[:at], s[at+1:]...)
			}
		}
	}
	return string(s)
}

// TestMatcherAgreesWithRegexp compares the greedy walk with regexp.
func TestMatcherAgreesWithRegexp(t *testing.T) {
	for _, c := range []struct {
		pattern string
		walks   bool
		seeds   []string
	}{
		{`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`, true, []string{"0f0e4a8c-1c2b-4d3e-8f9a-0b1c2d3e4f5a"}},
		{`^$|` + openapi3.FormatOfStringForEmail, true, []string{"", "a@b.c", "x y@z"}},
		{openapi3.FormatOfStringByte, true, []string{"", "U3dhZ2dlciByb2Nrcw==", "a-_/+="}},
		{`^[-a-zA-Z0-9_]+$`, true, []string{"github", "a-b_c"}},
		{`^ab{2,3}c?$`, true, []string{"abb", "abbbc", "abc"}},
		{`^(?:ab|cd)*$`, false, []string{"abcd"}},
		{`^a*a$`, false, []string{"aaa"}},
		{`^[^x]*x?$`, true, []string{"abx", "x"}},
		{`^.{2,4}$`, true, []string{"ab", "a\nb"}},
		{`^(?i)ab$`, false, []string{"AB"}},
		{`ab`, false, []string{"xaby"}},
		{`^é+😀?$`, true, []string{"éé😀"}},
		{`^\d{2}$`, true, []string{"12", "١٢"}},
	} {
		m, err := compilePattern(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if (m.alts != nil) != c.walks {
			t.Errorf("%s: walked %v, want %v", c.pattern, m.alts != nil, c.walks)
		}
		re := regexp.MustCompile(c.pattern)
		rapid.Check(t, func(t *rapid.T) {
			s := nearly(t, c.seeds)
			if got, want := m.match([]byte(s)), re.MatchString(s); got != want {
				t.Fatalf("%s on %q: %v, regexp says %v", c.pattern, s, got, want)
			}
		})
	}
}

// TestFormatsAgreeWithKin compares the formats written by hand with
// kin-openapi's.
func TestFormatsAgreeWithKin(t *testing.T) {
	for name, seeds := range map[string][]string{
		"date-time": {"2024-02-29T23:59:60.123+23:59", "0000-01-01T00:00:00Z", "1999-12-31T10:20:30-05:00", "2023-02-28T00:00:00.5Z"},
		"date":      {"2024-02-29", "2100-02-28", "2000-02-29", "0000-12-31", "2023-04-30"},
		"byte":      {"", "U3dhZ2dlciByb2Nrcw==", "a-_/+="},
	} {
		ours, kin := kinStringFormat(name), openapi3.SchemaStringFormats[name]
		rapid.Check(t, func(t *rapid.T) {
			s := nearly(t, seeds)
			if got, want := ours.match([]byte(s)), kin.Validate(s) == nil; got != want {
				t.Fatalf("%s on %q: %v, kin-openapi says %v", name, s, got, want)
			}
		})
	}
}
