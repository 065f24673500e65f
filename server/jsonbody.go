package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a request body may hold. A body is at most
// DefaultBodyLimit bytes; these bound what it costs to decode.
const (
	// maxBodyDepth bounds the nesting of arrays and objects anywhere in a body.
	maxBodyDepth = 64
	// maxBodyValues bounds the JSON values the kept members of a body hold
	// (every number, string, literal, array and object counts once).
	maxBodyValues = 10000
)

// bodyFields describes the top-level members of an operation's JSON
// request body.
type bodyFields struct {
	// known are the writable properties; every other member is dropped
	// before anything decodes the body, as Django REST framework ignores
	// unknown fields.
	known map[string]bool
	// trim are the free-text string properties, whose surrounding
	// whitespace is removed before validation, as DRF's CharField does
	// (trim_whitespace).
	trim map[string]bool
	// ints are the integer properties: an integral number written with a
	// fraction or an exponent (1.0, 1e2) is rewritten as an integer, as
	// Django REST framework's IntegerField accepts it.
	ints map[string]bool
}

// cleanBody checks raw, a whole JSON request body, in one pass without
// decoding it: one JSON value and nothing after it, nested at most
// maxBodyDepth deep. When the value is an object, it drops the members f
// does not know, trims the members f trims, refuses NUL in any string of
// the kept members (naming the member), and refuses more than
// maxBodyValues values in them. It returns the body to decode: raw itself
// when nothing changed.
func cleanBody(raw []byte, f *bodyFields) ([]byte, *Problem) {
	s := &scanner{data: raw}
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == '{' {
		out, err := s.object(f)
		if err != nil {
			return nil, err.problem(raw)
		}
		s.space()
		if s.pos < len(s.data) {
			return nil, syntaxAt("Extra data", s.pos).problem(raw)
		}
		if out == nil {
			return raw, nil
		}
		return out, nil
	}
	if err := s.value(0); err != nil {
		return nil, err.problem(raw)
	}
	s.space()
	if s.pos < len(s.data) {
		return nil, syntaxAt("Extra data", s.pos).problem(raw)
	}
	return raw, nil
}

// scanner walks a JSON text.
type scanner struct {
	data   []byte
	pos    int
	values int  // values counted so far
	count  bool // whether values are being counted (kept members)
	nul    bool // a string held \u0000
}

// scanError is a syntax error, a broken limit, or NUL in a member.
type scanError struct {
	msg   string
	pos   int    // byte offset, or -1 when no position applies
	field string // the member holding NUL
}

func syntaxAt(msg string, pos int) *scanError { return &scanError{msg: msg, pos: pos} }

// problem words e as Python's json module (which authentik's parser uses)
// would: "Expecting value: line 1 column 5 (char 4)", counting characters.
func (e *scanError) problem(raw []byte) *Problem {
	if e.field != "" {
		return fieldError(e.field, nullCharactersMessage)
	}
	if e.pos < 0 {
		return &Problem{Status: http.StatusBadRequest, Detail: "JSON parse error - " + e.msg}
	}
	before := raw[:min(e.pos, len(raw))]
	line := bytes.Count(before, []byte("\n")) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col := utf8.RuneCount(before[lineStart:]) + 1
	char := utf8.RuneCount(before)
	return &Problem{Status: http.StatusBadRequest,
		Detail: fmt.Sprintf("JSON parse error - %s: line %d column %d (char %d)", e.msg, line, col, char)}
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

// object scans the top-level object and returns it rewritten, or nil when
// nothing in it changes.
func (s *scanner) object(f *bodyFields) ([]byte, *scanError) {
	s.pos++ // '{'
	var out []byte
	changed := false
	for first := true; ; first = false {
		s.space()
		if s.pos >= len(s.data) || (first && s.data[s.pos] != '"' && s.data[s.pos] != '}') || (!first && s.data[s.pos] != '"') {
			return nil, syntaxAt("Expecting property name enclosed in double quotes", s.pos)
		}
		if s.data[s.pos] == '}' {
			s.pos++
			break
		}
		keyStart := s.pos
		if err := s.str(); err != nil {
			return nil, err
		}
		key, _ := decodeString(s.data[keyStart:s.pos])
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, syntaxAt("Expecting ':' delimiter", s.pos)
		}
		s.pos++
		s.space()
		valueStart := s.pos
		kept := f.known[key]
		s.count, s.nul = kept, false
		if err := s.value(1); err != nil {
			return nil, err
		}
		if kept && s.nul {
			return nil, &scanError{field: key}
		}
		member := s.data[keyStart:s.pos]
		if kept && f.trim[key] && s.data[valueStart] == '"' {
			if trimmed, ok := trimString(s.data[valueStart:s.pos]); ok {
				member = append(bytes.Clone(s.data[keyStart:valueStart]), trimmed...)
				changed = true
			}
		}
		if kept && f.ints[key] {
			if n, ok := integral(s.data[valueStart:s.pos]); ok {
				member = append(bytes.Clone(s.data[keyStart:valueStart]), n...)
				changed = true
			}
		}
		if kept {
			if len(out) > 0 {
				out = append(out, ',')
			}
			out = append(out, member...)
		} else {
			changed = true
		}
		s.space()
		if s.pos < len(s.data) && s.data[s.pos] == ',' {
			s.pos++
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			break
		}
		return nil, syntaxAt("Expecting ',' delimiter", s.pos)
	}
	if !changed {
		return nil, nil
	}
	return append(append([]byte{'{'}, out...), '}'), nil
}

// value scans one value at the given depth.
func (s *scanner) value(depth int) *scanError {
	if depth > maxBodyDepth {
		return &scanError{pos: -1, msg: fmt.Sprintf("nested more than %d levels deep", maxBodyDepth)}
	}
	if s.count {
		if s.values++; s.values > maxBodyValues {
			return &scanError{pos: -1, msg: fmt.Sprintf("more than %d values", maxBodyValues)}
		}
	}
	if s.pos >= len(s.data) {
		return syntaxAt("Expecting value", s.pos)
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.container(depth, '}', true)
	case c == '[':
		return s.container(depth, ']', false)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
			s.pos += len(lit)
			return nil
		}
	}
	return syntaxAt("Expecting value", s.pos)
}

// container scans an array or a nested object.
func (s *scanner) container(depth int, end byte, object bool) *scanError {
	s.pos++
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == end {
		s.pos++
		return nil
	}
	for {
		s.space()
		if object {
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return syntaxAt("Expecting property name enclosed in double quotes", s.pos)
			}
			if err := s.str(); err != nil {
				return err
			}
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				return syntaxAt("Expecting ':' delimiter", s.pos)
			}
			s.pos++
			s.space()
		}
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.space()
		if s.pos < len(s.data) && s.data[s.pos] == ',' {
			s.pos++
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] == end {
			s.pos++
			return nil
		}
		return syntaxAt("Expecting ',' delimiter", s.pos)
	}
}

// str scans a string, noting whether it holds an escaped NUL.
func (s *scanner) str() *scanError {
	start := s.pos
	s.pos++
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return nil
		case c < 0x20:
			return syntaxAt("Invalid control character at", s.pos)
		case c != '\\':
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.data) {
			break
		}
		switch s.data[s.pos+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.pos += 2
		case 'u':
			hex := s.data[s.pos+2 : min(s.pos+6, len(s.data))]
			if len(hex) < 4 || !isHex(hex) {
				return syntaxAt("Invalid \\uXXXX escape", s.pos+1)
			}
			if string(hex) == "0000" {
				s.nul = true
			}
			s.pos += 6
		default:
			return syntaxAt("Invalid \\escape", s.pos)
		}
	}
	return syntaxAt("Unterminated string starting at", start)
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

// decodeString decodes a scanned JSON string token.
func decodeString(token []byte) (string, bool) {
	var v string
	err := json.Unmarshal(token, &v)
	return v, err == nil
}

// trimString trims a JSON string token as Python's str.strip() does and
// returns it re-encoded, or false when there was nothing to trim.
func trimString(token []byte) ([]byte, bool) {
	v, ok := decodeString(token)
	if !ok {
		return nil, false
	}
	trimmed := strings.TrimFunc(v, isPythonSpace)
	if trimmed == v {
		return nil, false
	}
	out, err := json.Marshal(trimmed)
	return out, err == nil
}

// isPythonSpace is Python's str.isspace for one character: Go's
// unicode.IsSpace and the information separators U+001C to U+001F.
func isPythonSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}
