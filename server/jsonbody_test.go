package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var testFields = &bodyFields{
	known: map[string]bool{"identifier": true, "attributes": true, "access_token": true, "user": true},
	trim:  map[string]bool{"identifier": true, "access_token": true},
	ints:  map[string]bool{"user": true},
}

// TestDecodeBody checks the body decoder: what each body decodes to
// (written as the JSON that encoding/json would decode to the same value,
// numbers as json.Number), or the problem it answers.
func TestDecodeBody(t *testing.T) {
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
		body, p := decodeBody([]byte(c.in), testFields)
		switch {
		case c.problem != "":
			if p == nil {
				t.Errorf("%.60s: accepted as %#v, want %q", c.in, body.value, c.problem)
			} else if got := p.Detail + strings.Join(p.Fields["identifier"], "") + strings.Join(p.Fields["attributes"], ""); got != c.problem {
				t.Errorf("%.60s: problem %q, want %q", c.in, got, c.problem)
			}
		case p != nil:
			t.Errorf("%.60s: refused: %v", c.in, p)
		case !reflect.DeepEqual(body.value, decodeAsKin(t, []byte(c.out))):
			t.Errorf("%.60s: decoded to %#v, want %s", c.in, body.value, c.out)
		}
	}
}

// decodeAsKin decodes raw as kin-openapi decodes a body to validate it.
func decodeAsKin(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

// FuzzDecodeBody checks that the decoder accepts exactly the JSON texts
// encoding/json accepts (within the limits), and that it decodes them as
// kin-openapi did before it validated them: to encoding/json's value with
// numbers as json.Number, unknown members dropped, known ones trimmed and
// integral integers written as integers. The members bindBody binds are
// the kept ones, in body order.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{`{"identifier":"x","zz":[1,{"a":null}]}`, `{"identifier":" \u00e9 "}`, `[1,2.5e3,-0]`, `{"a":"\ud800"}`, `{}`, `{"a":1}{}`,
		`tru`, `"\u0000"`, `{"user":1.0,"user":2,"attributes":{"k":["\u00e9\n",1E2,{}]}}`, "{\"identifier\":\"\xff\"}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		body, p := decodeBody(raw, testFields)
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
		want := decodeAsKin(t, raw)
		in, object := want.(map[string]any)
		if !object {
			if !reflect.DeepEqual(body.value, want) || body.members != nil {
				t.Fatalf("%q decoded to %#v, want %#v", raw, body.value, want)
			}
			return
		}
		for k, v := range in {
			if !testFields.known[k] {
				delete(in, k)
				continue
			}
			switch x := v.(type) {
			case string:
				if testFields.trim[k] {
					in[k] = strings.TrimFunc(x, isPythonSpace)
				}
			case json.Number:
				if n, ok := integral([]byte(x)); ok && testFields.ints[k] {
					in[k] = json.Number(n)
				}
			}
		}
		if !reflect.DeepEqual(body.value, want) {
			t.Fatalf("%q decoded to %#v, want %#v", raw, body.value, want)
		}
		for _, m := range body.members {
			if !testFields.known[m.name] || !json.Valid(m.raw) {
				t.Fatalf("%q: member %q (%q) kept", raw, m.name, m.raw)
			}
		}
		if n := len(body.members); n > 0 && !reflect.DeepEqual(body.members[n-1].value, in[body.members[n-1].name]) {
			t.Fatalf("%q: the last member is not the value's", raw)
		}
	})
}
