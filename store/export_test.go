package store

import "strings"

// EventColumnNames are the names of eventColumns, unquoted, for the
// external tests.
func EventColumnNames() []string {
	names := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		names[i] = strings.Trim(c.name, `"`)
	}
	return names
}
