package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// scanner walks a JSON text.
type scanner struct {
	data   []byte
	pos    int
	values int  // values counted so far
	count  bool // whether values are being counted (kept members)
	build  bool // whether values are being decoded (decode)
	nul    bool // a string held \u0000
}

// scanError is a syntax error, a broken limit, or NUL in a member.
type scanError struct {
	msg   string
	pos   int    // byte offset, or -1 when no position applies
	field string // the member holding NUL
}

func syntaxAt(msg string, pos int) *scanError { return &scanError{msg: msg, pos: pos} }

// parseError is the answer to a body that cannot be read as JSON, worded
// as Django REST framework's JSONParser words it.
func parseError(msg string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Detail: "JSON parse error - " + msg}
}

// problem words e as Python's json module (which authentik's parser uses)
// would: "Expecting value: line 1 column 5 (char 4)", counting characters.
func (e *scanError) problem(raw []byte) *Problem {
	if e.field != "" {
		return fieldError(e.field, nullCharactersMessage)
	}
	if e.pos < 0 {
		return parseError(e.msg)
	}
	before := raw[:min(e.pos, len(raw))]
	line := bytes.Count(before, []byte("\n")) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col := utf8.RuneCount(before[lineStart:]) + 1
	char := utf8.RuneCount(before)
	return parseError(fmt.Sprintf("%s: line %d column %d (char %d)", e.msg, line, col, char))
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// decode decodes text, one JSON value the scanner has checked.
func decode(text []byte) any {
	v, _ := (&scanner{data: text, build: true}).value(0)
	return v
}

// literals are JSON's true, false and null, with their values.
var literals = []struct {
	text  string
	value any
}{{"true", true}, {"false", false}, {"null", nil}}

// value scans one value at the given depth and, when s.build is set,
// returns it decoded.
func (s *scanner) value(depth int) (any, *scanError) {
	if depth > maxBodyDepth {
		return nil, &scanError{pos: -1, msg: fmt.Sprintf("nested more than %d levels deep", maxBodyDepth)}
	}
	if s.count {
		if s.values++; s.values > maxBodyValues {
			return nil, &scanError{pos: -1, msg: fmt.Sprintf("more than %d values", maxBodyValues)}
		}
	}
	if s.pos >= len(s.data) {
		return nil, syntaxAt("Expecting value", s.pos)
	}
	switch c := s.data[s.pos]; {
	case c == '{' || c == '[':
		return s.container(depth, c == '{')
	case c == '"':
		start := s.pos
		escaped, err := s.str()
		if err != nil || !s.build {
			return nil, err
		}
		return stringValue(s.data[start:s.pos], escaped), nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.pos
		if err := s.number(); err != nil || !s.build {
			return nil, err
		}
		return json.Number(s.data[start:s.pos]), nil
	}
	for _, lit := range literals {
		if bytes.HasPrefix(s.data[s.pos:], []byte(lit.text)) {
			s.pos += len(lit.text)
			return lit.value, nil
		}
	}
	return nil, syntaxAt("Expecting value", s.pos)
}

// container scans an array or a nested object and, when s.build is set,
// returns it decoded: []any or map[string]any, never nil.
func (s *scanner) container(depth int, object bool) (any, *scanError) {
	end := byte(']')
	var m map[string]any
	var list []any
	switch {
	case object:
		end = '}'
		if s.build {
			m = map[string]any{}
		}
	case s.build:
		list = []any{}
	}
	decoded := func() (any, *scanError) {
		if !s.build {
			return nil, nil
		}
		if object {
			return m, nil
		}
		return list, nil
	}
	s.pos++
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == end {
		s.pos++
		return decoded()
	}
	for {
		s.space()
		var key string
		if object {
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return nil, syntaxAt("Expecting property name enclosed in double quotes", s.pos)
			}
			keyStart := s.pos
			escaped, err := s.str()
			if err != nil {
				return nil, err
			}
			if s.build {
				key = stringValue(s.data[keyStart:s.pos], escaped)
			}
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				return nil, syntaxAt("Expecting ':' delimiter", s.pos)
			}
			s.pos++
			s.space()
		}
		v, err := s.value(depth + 1)
		if err != nil {
			return nil, err
		}
		switch {
		case object && s.build:
			m[key] = v
		case s.build:
			list = append(list, v)
		}
		s.space()
		if s.pos < len(s.data) && s.data[s.pos] == ',' {
			s.pos++
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] == end {
			s.pos++
			return decoded()
		}
		return nil, syntaxAt("Expecting ',' delimiter", s.pos)
	}
}

// str scans a string, noting whether it holds an escaped NUL, and reports
// whether it holds any escape.
func (s *scanner) str() (escaped bool, err *scanError) {
	start := s.pos
	s.pos++
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c < 0x20:
			return false, syntaxAt("Invalid control character at", s.pos)
		case c != '\\':
			s.pos++
			continue
		}
		escaped = true
		if s.pos+1 >= len(s.data) {
			break
		}
		switch s.data[s.pos+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.pos += 2
		case 'u':
			hex := s.data[s.pos+2 : min(s.pos+6, len(s.data))]
			if len(hex) < 4 || !isHex(hex) {
				return false, syntaxAt("Invalid \\uXXXX escape", s.pos+1)
			}
			if string(hex) == "0000" {
				s.nul = true
			}
			s.pos += 6
		default:
			return false, syntaxAt("Invalid \\escape", s.pos)
		}
	}
	return false, syntaxAt("Unterminated string starting at", start)
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number scans a number with JSON's grammar.
func (s *scanner) number() *scanError {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case digits() == 0:
		return syntaxAt("Expecting value", start)
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return syntaxAt("Expecting value", start) // "1." is not a number
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return syntaxAt("Expecting value", start)
		}
	}
	return nil
}

// integral returns a number token written with a fraction or an exponent
// as a plain integer, when its value is one (within float64's exact
// range); ok is false otherwise, and for tokens that need no rewriting.
func integral(token []byte) ([]byte, bool) {
	if len(token) == 0 || (token[0] != '-' && (token[0] < '0' || token[0] > '9')) || !bytes.ContainsAny(token, ".eE") {
		return nil, false
	}
	v, err := strconv.ParseFloat(string(token), 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return nil, false
	}
	return strconv.AppendInt(nil, int64(v), 10), true
}

// stringValue decodes a scanned JSON string token as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD); only tokens with
// escapes or invalid UTF-8 need encoding/json itself.
func stringValue(token []byte, escaped bool) string {
	inner := token[1 : len(token)-1]
	if !escaped && utf8.Valid(inner) {
		return string(inner)
	}
	var v string
	_ = json.Unmarshal(token, &v) // the token is a scanned string: it decodes
	return v
}

// isPythonSpace is Python's str.isspace for one character: Go's
// unicode.IsSpace and the information separators U+001C to U+001F.
func isPythonSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}
