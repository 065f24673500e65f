package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a response that breaks the spec. It names where, never what:
// no value from the body is kept, since bodies may hold secrets.
type Error struct {
	Operation string // operationId
	Status    int    // the response's status
	// Path is the dotted JSON path of the first problem found in the body
	// ("results.3.source.pk"), empty when the problem is not inside it. An
	// undocumented property whose name is not a plain identifier shows as
	// "(undocumented)".
	Path   string
	Reason string // what is wrong, without values
}

// Error formats e on one line.
func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: status %d: %s", e.Operation, e.Status, e.Reason)
	}
	return fmt.Sprintf("%s: status %d: field %q: %s", e.Operation, e.Status, e.Path, e.Reason)
}

// failure is a problem found while scanning: its reason and the path to it,
// innermost segment first. It is built only when validation fails.
type failure struct {
	reason string
	path   []string
	syntax bool // the body is not JSON, whatever the schema
}

// syntaxFailure is a body that is not JSON.
func syntaxFailure(reason string) *failure { return &failure{reason: reason, syntax: true} }

// schemaFailure is a value the schema does not accept.
func schemaFailure(reason string) *failure { return &failure{reason: reason} }

// at adds the property name to the path of f.
func (f *failure) at(name string) *failure {
	f.path = append(f.path, name)
	return f
}

// atKey adds a property name read from the body to the path of f: only a
// plain identifier is shown as is, anything else could carry data.
func (f *failure) atKey(key []byte) *failure {
	if len(key) == 0 || len(key) > 64 {
		return f.at("(undocumented)")
	}
	for _, c := range key {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return f.at("(undocumented)")
		}
	}
	return f.at(string(key))
}

// atIndex adds an array index to the path of f.
func (f *failure) atIndex(i int) *failure { return f.at(strconv.Itoa(i)) }

// dotted renders the path of f, outermost segment first.
func (f *failure) dotted() string {
	parts := make([]string, len(f.path))
	for i, p := range f.path {
		parts[len(f.path)-1-i] = p
	}
	return strings.Join(parts, ".")
}
