package schema

import (
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit (scanner.go, maxNestingDepth):
// kin-openapi decodes bodies with encoding/json, which rejects deeper ones.
const maxDepth = 10000

// plain marks the bytes a string literal may hold that need no care:
// printable ASCII other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

// state is one validation in progress: the body, the position of the
// scanner in it, and scratch space reused from one validation to the next.
type state struct {
	b       []byte
	i       int
	depth   int
	scratch []byte   // decoded strings that hold escapes or invalid UTF-8
	seen    []uint64 // a stack of property bitsets, one per open object
}

// ws skips JSON whitespace.
func (st *state) ws() {
	for st.i < len(st.b) {
		switch st.b[st.i] {
		case ' ', '\t', '\n', '\r':
			st.i++
		default:
			return
		}
	}
}

// more reports whether a byte remains, and fails with "unexpected end"
// otherwise.
func (st *state) more() *failure {
	if st.i < len(st.b) {
		return nil
	}
	return syntaxFailure("unexpected end of JSON input")
}

// expect consumes c after optional whitespace.
func (st *state) expect(c byte) *failure {
	st.ws()
	if st.i >= len(st.b) {
		return syntaxFailure("unexpected end of JSON input")
	}
	if st.b[st.i] != c {
		return syntaxFailure("invalid character, expected '" + string(c) + "'")
	}
	st.i++
	return nil
}

// str scans the string literal at st.i and returns its content, decoded as
// encoding/json decodes it (decode.go, unquoteBytes): escapes resolved, an
// unpaired surrogate escape and each byte of invalid UTF-8 replaced by
// U+FFFD. The result aliases the body when no decoding is needed, else the
// scratch buffer, so it is valid until the next call.
func (st *state) str() ([]byte, *failure) {
	b := st.b
	start := st.i + 1
	i := start
	for {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return nil, syntaxFailure("unexpected end of JSON input")
		}
		c := b[i]
		if c == '"' {
			st.i = i + 1
			return b[start:i], nil
		}
		if c < 0x20 {
			return nil, syntaxFailure("invalid character in string literal")
		}
		if c < utf8.RuneSelf { // a backslash
			break
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return st.decodeStr(start, i)
}

// decodeStr decodes the string literal whose content starts at start, from
// i on the slow way; b[start:i] needs no decoding.
func (st *state) decodeStr(start, i int) ([]byte, *failure) {
	b := st.b
	out := append(st.scratch[:0], b[start:i]...)
	defer func() { st.scratch = out[:0] }()
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			st.i = i + 1
			return out, nil
		case c == '\\':
			if i+1 >= len(b) {
				return nil, syntaxFailure("unexpected end of JSON input")
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(b, i+2)
				if r < 0 {
					return nil, syntaxFailure("invalid character in \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// As encoding/json: a valid pair is one rune, anything
					// else is U+FFFD and the next escape is read on its own.
					if b2 := hex4(b, i+2); i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' && b2 >= 0 {
						if d := utf16.DecodeRune(r, b2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return nil, syntaxFailure("invalid escape in string literal")
			}
			i += 2
		case c < 0x20:
			return nil, syntaxFailure("invalid character in string literal")
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			out = utf8.AppendRune(out, r) // invalid bytes become U+FFFD, one each
			i += size
		}
	}
	return nil, syntaxFailure("unexpected end of JSON input")
}

// hex4 reads the four hex digits at b[i:], or returns -1.
func hex4(b []byte, i int) rune {
	if i < 0 || i+4 > len(b) {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// skipStr checks the syntax of the string literal at st.i and moves past
// it without decoding it.
func (st *state) skipStr() *failure {
	b := st.b
	i := st.i + 1
	for {
		for i < len(b) && (plain[b[i]] || b[i] >= utf8.RuneSelf) {
			i++
		}
		if i >= len(b) {
			return syntaxFailure("unexpected end of JSON input")
		}
		switch c := b[i]; {
		case c == '"':
			st.i = i + 1
			return nil
		case c < 0x20:
			return syntaxFailure("invalid character in string literal")
		}
		// A backslash.
		if i+1 >= len(b) {
			return syntaxFailure("unexpected end of JSON input")
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if hex4(b, i+2) < 0 {
				return syntaxFailure("invalid character in \\u escape")
			}
			i += 6
		default:
			return syntaxFailure("invalid escape in string literal")
		}
	}
}

// num scans the number literal at st.i. integer is true when the literal
// has neither a fraction nor an exponent.
func (st *state) num() (lit []byte, integer bool, f *failure) {
	b := st.b
	start, i := st.i, st.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return nil, false, syntaxFailure("unexpected end of JSON input")
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return nil, false, syntaxFailure("invalid character in numeric literal")
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return nil, false, numEnd(b, i)
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return nil, false, numEnd(b, i)
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	st.i = i
	return b[start:i], integer, nil
}

// numEnd is the failure of a number literal cut at b[i].
func numEnd(b []byte, i int) *failure {
	if i >= len(b) {
		return syntaxFailure("unexpected end of JSON input")
	}
	return syntaxFailure("invalid character in numeric literal")
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// literal consumes the keyword word (true, false or null) at st.i.
func (st *state) literal(word string) *failure {
	b := st.b[st.i:]
	for k := 0; k < len(word); k++ {
		if k >= len(b) {
			return syntaxFailure("unexpected end of JSON input")
		}
		if b[k] != word[k] {
			return syntaxFailure("invalid character in literal " + word)
		}
	}
	st.i += len(word)
	return nil
}

// skip checks the syntax of the value at st.i and moves past it.
func (st *state) skip() *failure {
	if f := st.more(); f != nil {
		return f
	}
	switch c := st.b[st.i]; c {
	case '"':
		return st.skipStr()
	case 't':
		return st.literal("true")
	case 'f':
		return st.literal("false")
	case 'n':
		return st.literal("null")
	case '{', '[':
		return st.container(c)
	default:
		_, _, f := st.num()
		return f
	}
}

// container checks the syntax of the object or array at st.i and moves
// past it, counting the nesting depth as encoding/json does.
func (st *state) container(open byte) *failure {
	if st.depth++; st.depth > maxDepth {
		return syntaxFailure("exceeded max depth")
	}
	closer := byte(']')
	if open == '{' {
		closer = '}'
	}
	st.i++
	st.ws()
	if st.i < len(st.b) && st.b[st.i] == closer {
		st.i++
		st.depth--
		return nil
	}
	for {
		if open == '{' {
			st.ws()
			if f := st.more(); f != nil {
				return f
			}
			if st.b[st.i] != '"' {
				return syntaxFailure("invalid character, expected a string")
			}
			if f := st.skipStr(); f != nil {
				return f
			}
			if f := st.expect(':'); f != nil {
				return f
			}
		}
		st.ws()
		if f := st.skip(); f != nil {
			return f
		}
		st.ws()
		if f := st.more(); f != nil {
			return f
		}
		switch st.b[st.i] {
		case ',':
			st.i++
		case closer:
			st.i++
			st.depth--
			return nil
		default:
			if open == '{' {
				return syntaxFailure("invalid character after object member")
			}
			return syntaxFailure("invalid character after array element")
		}
	}
}
