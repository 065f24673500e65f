// Package schema validates API responses against an OpenAPI 3.0 document.
// Each response schema is compiled once into a tree of nodes, and a body
// is checked in one pass over its bytes, without decoding it into values
// and, on success, without allocating. It exists because the libraries
// that validate decoded values cost a retrieve several times its own
// validation and about half the server's throughput (docs/BENCHMARKS.md,
// "Response validator").
//
// # Contract
//
// On a well-formed body, Validate accepts exactly what kin-openapi
// v0.153.0's openapi3filter.ValidateResponse accepts (with
// IncludeResponseStatus, and the same string formats): the differential
// tests check it. Well-formed means one JSON value that encoding/json's
// Valid accepts (surrounding whitespace allowed), in which no object
// repeats a member name. On any other body the package is never looser
// than kin-openapi, and is stricter where kin-openapi is lenient: data
// after the value fails (kin-openapi reads the first value only), and
// every member of a repeated name is checked (kin-openapi, decoding into
// a map, checks the last one).
//
// Compile accepts, in responses:
//
//   - statuses as numbers, ranges ("2XX") and "default"; a status is
//     looked up in that order, and an undocumented one fails. 301, 304,
//     307, 308 and any response to HEAD are not checked.
//   - a response without content: any Content-Type and any body, unless
//     RequireEmptyBodies. Otherwise the Content-Type is looked up
//     lower-cased and trimmed, whole, then without its parameters, among
//     media types that kin-openapi decodes as JSON (application/json,
//     anything+json), without wildcards. A media type without a schema
//     takes any body.
//   - response headers whose schema is a plain string: a required one
//     must be present (ValidateHeaders).
//
// and, in schemas: $ref (cycles included); type, one or a list ("null"
// in it as nullable); nullable; enum of strings, numbers, booleans and
// null; properties, required, additionalProperties (true, false or a
// schema); items, minItems, maxItems; minLength, maxLength, pattern;
// minimum, maximum, exclusiveMinimum and exclusiveMaximum (boolean, or
// a number as in 3.1); an allOf of one schema with only annotations
// (nullable, readOnly, writeOnly, deprecated, title, description,
// default, example) next to it, the form a nullable or read-only $ref
// takes; readOnly (no effect on a response); writeOnly (the property must
// be absent or null, and is not required); the empty schema; formats
// date, date-time, byte, int32 and int64 as kin-openapi checks them,
// those passed with WithFormatPattern, and any other format as an
// annotation; discriminator, example, externalDocs and x- extensions as
// annotations.
//
// kin-openapi's semantics kept on well-formed bodies: numbers are
// float64, so one out of its range (1e400) fails wherever a non-empty
// schema meets it, an integer is any integral value (1.0, 1e3), and int64
// reaches 2^63; the empty schema accepts any value but null, unchecked
// inside; null passes only where the schema (or the allOf wrapper, or the
// schema it wraps) is nullable, before any enum; string lengths count
// runes; invalid UTF-8 and unpaired surrogates in strings read as U+FFFD,
// as encoding/json reads them; patterns are unanchored, with \uXXXX
// (upper-case hex) read as \x{XXXX}; date-time takes "T" and "Z" in upper
// case, any number of fraction digits and a leap second at any time, and
// checks that the day exists; a required name that is not a property must
// be present, and is checked as an additional property.
//
// Compile refuses, naming it: oneOf, anyOf, not, allOf of several
// schemas or with constraints next to it, a cycle of allOf wrappers,
// uniqueItems, multipleOf, minProperties and maxProperties, an exclusive
// bound given both as a number and with minimum/maximum, OpenAPI 3.1
// documents and keywords (const, prefixItems, if/then/else, ...), enum
// values that are arrays or objects, format binary, an unknown type,
// response headers other than plain strings, media types that kin-openapi
// does not decode as JSON, wildcard media ranges, and string or number
// formats that kin-openapi validates and this package does not implement.
// TestCompilesAuthentikReference checks that authentik's published
// contracts (2024.8.3 and 2026.8.3) use nothing it refuses.
package schema
