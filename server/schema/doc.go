// Package schema validates API responses against an OpenAPI 3.0 document,
// rejecting exactly what kin-openapi v0.153.0's openapi3filter.ValidateResponse
// rejects (with IncludeResponseStatus, as akconn's server used it) at a
// fraction of its cost: each response schema is compiled once into a tree
// of nodes, and a body is checked in one pass over its bytes, without
// decoding it into values and, on success, without allocating.
//
// kin-openapi's behaviour, matched here, odd parts included (paths are
// in the kin-openapi module unless they name encoding/json):
//
//   - Statuses 301, 304, 307 and 308 are never checked, nor a response
//     to HEAD; a status is looked up as is, then as its range ("2XX"),
//     then "default"; an undocumented one is an error
//     (openapi3filter/validate_response.go, openapi3/response.go).
//   - A response that documents no content accepts any Content-Type and
//     any body, a 204 with a body included (RequireEmptyBodies is
//     stricter). Otherwise the Content-Type is matched as Content.Get does:
//     lower-cased and trimmed, whole, then without its parameters
//     (openapi3/content.go).
//   - The body is read by json.Decoder.Decode with UseNumber
//     (openapi3filter/req_resp_decoder_jsonv1.go): only the first JSON value
//     counts, whatever follows it is ignored ("{}x" passes, and so does "01"
//     at the top level, read as 0); an empty body fails; nesting is limited
//     to 10000 (encoding/json/scanner.go); the last of duplicate member
//     names wins; invalid UTF-8 and unpaired surrogate escapes in strings
//     become U+FFFD (encoding/json/decode.go, unquoteBytes).
//   - Numbers are converted with strconv.ParseFloat wherever a non-empty
//     schema meets them: one out of float64's range (1e400) fails even
//     where any type is allowed, an underflow (1e-400) is 0. An integer is
//     any integral float64: 1.0, 1e3 and 12345678901234567890.5 are
//     integers. int32 and int64 formats are ranges of float64, int64 up to
//     2^63 inclusive (openapi3/schema_formats.go, validateIntegerFormat).
//   - The empty schema {} (Schema.IsEmpty: annotations only) accepts any
//     value but null, and nothing inside it is checked
//     (openapi3/schema_3point0_validator.go, visitJSON).
//   - Null passes where the schema is nullable, or is an allOf whose
//     schemas all take null, before any enum; not otherwise.
//   - String lengths are counted in runes: kin-openapi means UTF-16 units,
//     but ranges over the string, which never yields a surrogate.
//   - Schema patterns have \uXXXX (upper-case hex only) rewritten to
//     \x{XXXX} and are then compiled by regexp, unanchored
//     (openapi3/schema_pattern.go). Formats: date, date-time (regexp, then
//     a real day of the month: 2023-02-29 fails, 0000-02-29 passes; "T"
//     and "Z" upper case only) and byte by default, and those passed to
//     Compile, which take precedence; any other format is not checked.
//   - In a response, a writeOnly property fails unless its value is null,
//     and is not required; readOnly changes nothing (visitJSONObject).
//   - A required name that is not a property must be present, and is
//     checked as an additional property.
//
// Compile refuses, naming it, what this package does not implement: oneOf,
// anyOf, not, allOf of several schemas or with keywords next to it,
// uniqueItems, multipleOf, min/maxProperties, OpenAPI 3.1 keywords,
// non-scalar enum values, response headers, media types kin-openapi does
// not decode as JSON, wildcard media ranges, and formats that have a
// kin-openapi validator this package does not know.
package schema
