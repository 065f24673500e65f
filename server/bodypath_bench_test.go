package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"akconn/gen"
)

// BenchmarkRequestBody is what a request body costs from its bytes to the
// handler's typed value: read, check, validate against the schema, bind.
// No store, no authentication: the body path alone.
func BenchmarkRequestBody(b *testing.B) {
	validators := testValidators(b)
	var attrs []string
	for i := 0; i < 50; i++ {
		attrs = append(attrs, fmt.Sprintf(`"key-%d":{"n":%d,"s":"value %d","l":[true,null,1.5]}`, i, i, i))
	}
	for _, c := range []struct {
		name, op, body string
		bind           func(echo.Context) error
	}{
		{"connection", "sources_user_connections_oauth_create",
			`{"source":"0b6f8a55-2d5e-4c8e-9a39-3f1f0e7a5c11","identifier":"gh-1","access_token":"gho_0123456789abcdef","expires":"2030-01-01T00:00:00Z"}`,
			func(c echo.Context) error {
				var req gen.PatchedUserOAuthSourceConnectionRequest
				return bindBody(c, &req)
			}},
		{"user-attributes", "core_users_create",
			`{"username":"user-1","name":"User","email":"user@example.com","attributes":{` + strings.Join(attrs, ",") + `}}`,
			func(c echo.Context) error { var req gen.PatchedUserRequest; return bindBody(c, &req) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := validators[c.op].validateRequest(c.bind)
			e := echo.New()
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
				req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				if err := h(e.NewContext(req, httptest.NewRecorder())); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
