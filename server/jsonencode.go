package server

import (
	gojson "github.com/goccy/go-json"
	"github.com/labstack/echo/v4"
)

// jsonSerializer encodes responses with goccy/go-json, which writes the
// same JSON as encoding/json (HTML-escaped, a newline after the value)
// faster for this API's types, whose encoding is much of a list page's
// cost (docs/BENCHMARKS.md). Every response is then checked against the
// spec as before. Its Deserialize is echo's, which nothing calls: the
// request validator decodes each request body once (decodeBody), leaves
// none to read, and handlers take the decoded one with bindBody.
type jsonSerializer struct{ echo.DefaultJSONSerializer }

// Serialize writes i as JSON.
func (jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	enc := gojson.NewEncoder(c.Response())
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(changedValue(c, i))
}
