package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	gojson "github.com/goccy/go-json"
	"github.com/labstack/echo/v4"
)

// jsonSerializer encodes responses with goccy/go-json, which writes the
// same JSON as encoding/json (HTML-escaped, a newline after the value)
// faster for this API's types, whose encoding is much of a list page's
// cost (docs/BENCHMARKS.md). Every
// response is then checked against the spec as before. Request bodies are
// decoded elsewhere (bindJSON), with encoding/json.
type jsonSerializer struct{}

// Serialize writes i as JSON.
func (jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	enc := gojson.NewEncoder(c.Response())
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}

// Deserialize reads the request body as encoding/json does.
func (jsonSerializer) Deserialize(c echo.Context, i any) error {
	err := json.NewDecoder(c.Request().Body).Decode(i)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("invalid JSON: %v", err)).SetInternal(err)
	}
	return nil
}
