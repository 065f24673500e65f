package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// ResponseValidation says what happens to a response that breaks the spec.
type ResponseValidation string

// Response validation modes.
const (
	// ResponseEnforce replaces a broken response by a 500 and logs it.
	ResponseEnforce ResponseValidation = "enforce"
	// ResponseLog logs a broken response and sends it unchanged.
	ResponseLog ResponseValidation = "log"
	// ResponseOff skips response validation.
	ResponseOff ResponseValidation = "off"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// formatOptions defines the string formats the spec uses beyond kin-openapi's defaults.
var formatOptions = []openapi3.SchemaValidationOption{
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern.String())),
	// authentik's email fields may be blank.
	openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(`^$|`+openapi3.FormatOfStringForEmail)),
}

// operationValidator validates the requests and responses of one operation.
// Routes are resolved once at start: echo has already matched the path, so
// no per-request route lookup is needed.
type operationValidator struct {
	route    *routers.Route
	request  *openapi3filter.Options
	response *openapi3filter.Options
	mode     ResponseValidation
	// body describes the JSON request body; nil when the operation takes
	// none (a body sent anyway is ignored, as Django ignores it).
	body   *bodyFields
	bodies *bodyReader
	log    *slog.Logger
}

// operationValidators builds one validator per operationId of spec.
func operationValidators(spec *openapi3.T, mode ResponseValidation, bodies *bodyReader, log *slog.Logger) map[string]*operationValidator {
	out := map[string]*operationValidator{}
	request := &openapi3filter.Options{
		MultiError:                 true,
		AuthenticationFunc:         openapi3filter.NoopAuthenticationFunc,
		ExcludeReadOnlyValidations: true, // read-only fields in a request are ignored, as in authentik
		SkipSettingDefaults:        true,
		SchemaValidationOptions:    formatOptions,
	}
	response := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: append([]openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()}, formatOptions...),
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			out[op.OperationID] = &operationValidator{
				route:    &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
				request:  request,
				response: response,
				mode:     mode,
				body:     requestBodyFields(op),
				bodies:   bodies,
				log:      log,
			}
		}
	}
	return out
}

func (v *operationValidator) input(c echo.Context) *openapi3filter.RequestValidationInput {
	names, values := c.ParamNames(), c.ParamValues()
	params := make(map[string]string, len(names))
	for i, n := range names {
		if i < len(values) {
			params[n] = values[i]
		}
	}
	return &openapi3filter.RequestValidationInput{Request: c.Request(), PathParams: params, Route: v.route, Options: v.request}
}

// validateRequest is the middleware that rejects a request breaking the spec
// before its handler runs.
func (v *operationValidator) validateRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if p := normalizeParameters(c); p != nil {
			return p
		}
		if v.body != nil {
			raw, release, err := v.bodies.read(c)
			if err != nil {
				return err
			}
			defer release() // after the handler is done with the decoded body
			if isJSON(req) && len(bytes.TrimSpace(raw)) > 0 {
				cleaned, p := cleanBody(raw, v.body)
				if p != nil {
					return p
				}
				raw = cleaned
			}
			setBody(req, raw)
		}
		if err := openapi3filter.ValidateRequest(req.Context(), v.input(c)); err != nil {
			return requestProblem(err)
		}
		return next(c)
	}
}

// validateResponse is the outermost per-operation middleware: it buffers the
// response (errors included), checks it against the spec, and only then
// sends it.
func (v *operationValidator) validateResponse(next echo.HandlerFunc) echo.HandlerFunc {
	if v.mode == ResponseOff {
		return next
	}
	return func(c echo.Context) error {
		res := c.Response()
		orig := res.Writer
		buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK, orig: orig}
		res.Writer = buf
		defer func() { res.Writer = orig }() // also when a handler panics
		if err := next(c); err != nil {
			c.Echo().HTTPErrorHandler(err, c)
		}
		res.Writer = orig
		if buf.status == StatusClientClosedRequest { // not an answer: nobody is listening
			orig.WriteHeader(buf.status)
			return nil
		}

		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: v.input(c),
			Status:                 buf.status,
			Header:                 buf.header,
			Options:                v.response,
		}
		in.SetBodyBytes(buf.body.Bytes())
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			v.log.Error("response breaks the spec", "operation", v.route.Operation.OperationID,
				"status", buf.status, "error", responseErrorText(err))
			if v.mode == ResponseEnforce {
				orig.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				orig.WriteHeader(http.StatusInternalServerError)
				_, werr := orig.Write([]byte(`{"detail":"Internal server error."}` + "\n"))
				res.Status = http.StatusInternalServerError
				return werr
			}
		}
		for k, vs := range buf.header {
			orig.Header()[k] = vs
		}
		orig.WriteHeader(buf.status)
		_, err := orig.Write(buf.body.Bytes())
		return err
	}
}

// responseErrorText describes a response validation error without values.
func responseErrorText(err error) string {
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) {
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			return fmt.Sprintf("%s: field %q: %s", re.Reason, strings.Join(se.JSONPointer(), "."), se.Reason)
		}
		return re.Reason
	}
	return "invalid response"
}

// bufferedWriter holds a response until it has been validated.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
	orig   http.ResponseWriter
}

// Unwrap gives http.ResponseController the connection's writer (for read
// deadlines while a body arrives).
func (w *bufferedWriter) Unwrap() http.ResponseWriter { return w.orig }

func (w *bufferedWriter) Header() http.Header         { return w.header }
func (w *bufferedWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *bufferedWriter) WriteHeader(status int)      { w.status = status }

// requestBodyFields describes the JSON request body of op, or returns nil
// when it takes none. Writable string properties without an enum or a
// uuid/date-time format are free text, trimmed as DRF's CharField does.
func requestBodyFields(op *openapi3.Operation) *bodyFields {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	f := &bodyFields{known: map[string]bool{}, trim: map[string]bool{}}
	for name, ref := range mt.Schema.Value.Properties {
		p := ref.Value
		if p == nil || p.ReadOnly {
			continue
		}
		f.known[name] = true
		if p.Type.Is("string") && len(p.Enum) == 0 && p.Format != "uuid" && p.Format != "date-time" {
			f.trim[name] = true
		}
	}
	return f
}
