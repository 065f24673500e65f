package server

import (
	"encoding/json"
	"strings"
	"testing"
)

var testFields = &bodyFields{
	known: map[string]bool{"identifier": true, "attributes": true, "access_token": true, "user": true},
	trim:  map[string]bool{"identifier": true, "access_token": true},
	ints:  map[string]bool{"user": true},
}

func TestCleanBody(t *testing.T) {
	for _, c := range []struct {
		in, out, problem string
	}{
		{in: `{"identifier":"x"}`, out: `{"identifier":"x"}`},
		{in: ` {"identifier" : "x" } `, out: ` {"identifier" : "x" } `},
		{in: `{"identifier":"x","zz":[0,0,0],"Identifier":"y"}`, out: `{"identifier":"x"}`},
		{in: `{"zz":1}`, out: `{}`},
		{in: `{"identifier":"  x \u00a0\n"}`, out: `{"identifier":"x"}`},
		{in: `{"identifier":"\u001f x"}`, out: `{"identifier":"x"}`},
		{in: `{"attributes":{"k":" x "}}`, out: `{"attributes":{"k":" x "}}`},
		{in: `{"identifier":"a"}{"identifier":"b"}`, problem: "JSON parse error - Extra data: line 1 column 19 (char 18)"},
		{in: `{"identifier":"a"} garbage`, problem: "JSON parse error - Extra data: line 1 column 20 (char 19)"},
		{in: `{`, problem: "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{in: `{"a"`, problem: "JSON parse error - Expecting ':' delimiter: line 1 column 5 (char 4)"},
		{in: `{"a":`, problem: "JSON parse error - Expecting value: line 1 column 6 (char 5)"},
		{in: `{"a":1`, problem: "JSON parse error - Expecting ',' delimiter: line 1 column 7 (char 6)"},
		{in: "{\n\"é\":tru}", problem: "JSON parse error - Expecting value: line 2 column 5 (char 6)"},
		{in: `{"a":"x`, problem: "JSON parse error - Unterminated string starting at: line 1 column 6 (char 5)"},
		{in: `{"a":"\x"}`, problem: `JSON parse error - Invalid \escape: line 1 column 7 (char 6)`},
		{in: `{"a":NaN}`, problem: "JSON parse error - Expecting value: line 1 column 6 (char 5)"},
		{in: `{"identifier":"a\u0000"}`, problem: "Null characters are not allowed."},
		{in: `{"attributes":{"k\u0000":1}}`, problem: "Null characters are not allowed."},
		{in: `{"zz":"a\u0000"}`, out: `{}`},
		{in: `{"attributes":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, problem: "JSON parse error - nested more than 64 levels deep"},
		{in: `{"zz":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, problem: "JSON parse error - nested more than 64 levels deep"},
		{in: `{"attributes":[` + strings.Repeat("0,", 10000) + `0]}`, problem: "JSON parse error - more than 10000 values"},
		{in: `{"zz":[` + strings.Repeat("0,", 20000) + `0],"identifier":"x"}`, out: `{"identifier":"x"}`},
		{in: `{"user":1.0}`, out: `{"user":1}`},
		{in: `{"user":2e1,"identifier":"x"}`, out: `{"user":20,"identifier":"x"}`},
		{in: `{"user":-3.00}`, out: `{"user":-3}`},
		{in: `{"user":1.5}`, out: `{"user":1.5}`},
		{in: `{"user":7}`, out: `{"user":7}`},
		{in: `{"attributes":{"n":1.0}}`, out: `{"attributes":{"n":1.0}}`},
		{in: " \u00a0 ", problem: "JSON parse error - Expecting value: line 1 column 2 (char 1)"},
		{in: `[1,2]`, out: `[1,2]`},
		{in: `"x"`, out: `"x"`},
		{in: `[1,2] x`, problem: "JSON parse error - Extra data: line 1 column 7 (char 6)"},
	} {
		out, p := cleanBody([]byte(c.in), testFields)
		switch {
		case c.problem != "":
			if p == nil {
				t.Errorf("%.60s: accepted as %.60s, want %q", c.in, out, c.problem)
			} else if got := p.Detail + strings.Join(p.Fields["identifier"], "") + strings.Join(p.Fields["attributes"], ""); got != c.problem {
				t.Errorf("%.60s: problem %q, want %q", c.in, got, c.problem)
			}
		case p != nil:
			t.Errorf("%.60s: refused: %v", c.in, p)
		case string(out) != c.out:
			t.Errorf("%.60s: cleaned to %s, want %s", c.in, out, c.out)
		}
	}
}

// FuzzCleanBody checks that the scanner accepts exactly the JSON texts
// encoding/json accepts (within the limits), and that what it keeps
// decodes to the input's known members.
func FuzzCleanBody(f *testing.F) {
	for _, seed := range []string{`{"identifier":"x","zz":[1,{"a":null}]}`, `{"identifier":" \u00e9 "}`, `[1,2.5e3,-0]`, `{"a":"\ud800"}`, `{}`, `{"a":1}{}`, `tru`, `"\u0000"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, p := cleanBody(raw, testFields)
		valid := json.Valid(raw)
		if p == nil && !valid {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		if p != nil {
			limit := strings.Contains(p.Detail, "levels deep") || strings.Contains(p.Detail, "values")
			if valid && p.Detail != "" && !limit {
				t.Fatalf("refused valid JSON %q: %s", raw, p.Detail)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("cleaned %q into invalid JSON %q", raw, out)
		}
		var in, got map[string]any
		if json.Unmarshal(raw, &in) != nil {
			return // not an object
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		for k := range got {
			if !testFields.known[k] {
				t.Fatalf("kept unknown member %q", k)
			}
		}
	})
}
