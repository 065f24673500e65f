package schema

import (
	"fmt"
	"math"

	"github.com/getkin/kin-openapi/openapi3"
)

// stringFormat checks a string format.
type stringFormat struct {
	name  string
	match func([]byte) bool
}

// kinStringFormat returns this package's version of a string format that
// kin-openapi v0.153.0 defines by default (openapi3/schema_formats.go,
// init), or nil.
func kinStringFormat(name string) *stringFormat {
	switch name {
	case "date":
		return &stringFormat{name: name, match: isDate}
	case "date-time":
		return &stringFormat{name: name, match: isDateTime}
	case "byte":
		m, err := compilePattern(openapi3.FormatOfStringByte)
		if err != nil {
			panic(err) // a constant of kin-openapi
		}
		return &stringFormat{name: name, match: m.match}
	}
	return nil
}

// kinIntegerFormat returns the range kin-openapi v0.153.0 checks for an
// integer format it defines by default, or nil. validateIntegerFormat
// accepts an int64 format up to 2^63 inclusive, as float64(MaxInt64)
// rounds up to it.
func kinIntegerFormat(name string) *numberRange {
	switch name {
	case "int32":
		return &numberRange{name: name, min: math.MinInt32, max: math.MaxInt32}
	case "int64":
		return &numberRange{name: name, min: math.MinInt64, max: math.MaxInt64}
	}
	return nil
}

// stringFormatFor finds what kin-openapi would check for format name on a
// string: the formats given to Compile first, then kin-openapi's global
// ones. A format neither knows is not checked, as in kin-openapi.
func (c *compiler) stringFormatFor(name, at string) (*stringFormat, error) {
	if f, ok := c.cfg.formats[name]; ok {
		return f, nil
	}
	if _, ok := openapi3.SchemaStringFormats[name]; !ok {
		return nil, nil
	}
	if f := kinStringFormat(name); f != nil {
		return f, nil
	}
	return nil, fmt.Errorf("%s: string format %q has a kin-openapi validator that schema does not implement (pass it to Compile)", at, name)
}

// numberFormatFor finds the range kin-openapi would check for format name
// on a number (integer: a schema that permits integer and not number).
func (c *compiler) numberFormatFor(name string, integer bool, at string) (*numberRange, error) {
	if integer {
		if _, ok := openapi3.SchemaIntegerFormats[name]; !ok {
			return nil, nil
		}
		if r := kinIntegerFormat(name); r != nil {
			return r, nil
		}
		return nil, fmt.Errorf("%s: integer format %q has a kin-openapi validator that schema does not implement", at, name)
	}
	if _, ok := openapi3.SchemaNumberFormats[name]; ok {
		return nil, fmt.Errorf("%s: number format %q has a kin-openapi validator that schema does not implement", at, name)
	}
	return nil, nil
}

// isDate is kin-openapi's "date": FormatOfStringDate, then time.Parse of
// time.DateOnly, which checks that the month has the day.
func isDate(s []byte) bool {
	return len(s) == 10 && datePart(s)
}

// isDateTime is kin-openapi's "date-time": FormatOfStringDateTime
//
//	^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)([0-1][0-9]|2[0-3]):[0-5][0-9])$
//
// then the same day check as isDate. Only "T" and "Z" in upper case, any
// number of fraction digits, a leap second at any time.
func isDateTime(s []byte) bool {
	if len(s) < 20 || !datePart(s[:10]) || s[10] != 'T' ||
		!hour(s[11], s[12]) || s[13] != ':' || !sixty(s[14], s[15]) || s[16] != ':' ||
		!(sixty(s[17], s[18]) || s[17] == '6' && s[18] == '0') {
		return false
	}
	i := 19
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 {
			return false
		}
		i = j
	}
	rest := s[i:]
	switch {
	case len(rest) == 1:
		return rest[0] == 'Z'
	case len(rest) == 6:
		return (rest[0] == '+' || rest[0] == '-') && hour(rest[1], rest[2]) && rest[3] == ':' && sixty(rest[4], rest[5])
	}
	return false
}

// datePart checks YYYY-MM-DD, a real day of the proleptic Gregorian
// calendar (year 0 included, as time.Parse takes it).
func datePart(s []byte) bool {
	for _, k := range [...]int{0, 1, 2, 3, 5, 6, 8, 9} {
		if !isDigit(s[k]) {
			return false
		}
	}
	if s[4] != '-' || s[7] != '-' {
		return false
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month := int(s[5]-'0')*10 + int(s[6]-'0')
	day := int(s[8]-'0')*10 + int(s[9]-'0')
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// hour checks 00 to 23.
func hour(a, b byte) bool {
	return (a == '0' || a == '1') && isDigit(b) || a == '2' && '0' <= b && b <= '3'
}

// sixty checks 00 to 59.
func sixty(a, b byte) bool { return '0' <= a && a <= '5' && isDigit(b) }
