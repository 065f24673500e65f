package server

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"akconn/server/schema"
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

// formatPatterns are the string formats the spec uses beyond kin-openapi's
// defaults. Requests (kin-openapi) and responses (package schema) check
// them alike.
var formatPatterns = map[string]string{
	"uuid": `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`,
	// authentik's email fields may be blank.
	"email": `^$|` + openapi3.FormatOfStringForEmail,
}

// formatOptions gives formatPatterns to kin-openapi.
var formatOptions = func() (out []openapi3.SchemaValidationOption) {
	for name, pattern := range formatPatterns {
		out = append(out, openapi3.WithStringFormatValidator(name, openapi3.NewRegexpFormatValidator(pattern)))
	}
	return out
}()

// responseSchemas compiles the response schemas of spec, with
// formatPatterns. A body on a status that documents none (a 204) is
// refused, which kin-openapi did not do; net/http cannot send one anyway.
func responseSchemas(spec *openapi3.T) (*schema.Validator, error) {
	opts := []schema.Option{schema.RequireEmptyBodies()}
	for name, pattern := range formatPatterns {
		opts = append(opts, schema.WithFormatPattern(name, pattern))
	}
	return schema.Compile(spec, opts...)
}

// operationValidator validates the requests and responses of one operation.
// Routes are resolved once at start: echo has already matched the path, so
// no per-request route lookup is needed. Request parameters are validated
// by kin-openapi, request bodies by checkBody against kin-openapi's
// schemas, responses by the compiled schemas of package schema, which
// decide as kin-openapi's ValidateResponse on every well-formed body
// (package schema states its contract).
type operationValidator struct {
	route    *routers.Route
	request  *openapi3filter.Options
	response *schema.Operation
	mode     ResponseValidation
	// body describes the JSON request body; nil when the operation takes
	// none (a body sent anyway is ignored, as Django ignores it).
	body *bodyFields
	// bodySchema are the options its schema is checked with, kin-openapi's
	// for a request body.
	bodySchema []openapi3.SchemaValidationOption
	bodies     *bodyReader
	log        *slog.Logger
	// rejected counts the responses that broke the spec (nil: not counted).
	rejected prometheus.Counter
}

// operationValidators builds one validator per operationId of spec.
func operationValidators(spec *openapi3.T, mode ResponseValidation, bodies *bodyReader, log *slog.Logger) (map[string]*operationValidator, error) {
	responses, err := responseSchemas(spec)
	if err != nil {
		return nil, fmt.Errorf("compile response schemas: %w", err)
	}
	out := map[string]*operationValidator{}
	// kin-openapi checks the parameters; the body is decoded and checked
	// by checkBody, once.
	request := &openapi3filter.Options{
		ExcludeRequestBody:      true,
		MultiError:              true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: formatOptions,
	}
	bodySchema := append([]openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.MultiErrors(),
		openapi3.DisableReadOnlyValidation()}, // read-only fields in a request are ignored, as in authentik
		formatOptions...)
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			out[op.OperationID] = &operationValidator{
				route:      &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
				request:    request,
				response:   responses.Operation(op.OperationID),
				mode:       mode,
				body:       requestBodyFields(op),
				bodySchema: bodySchema,
				bodies:     bodies,
				log:        log,
			}
		}
	}
	return out, nil
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
		if p := normalizeParameters(c); p != nil {
			return p
		}
		var body *requestBody
		var bodyErr error
		if v.body != nil {
			raw, release, err := v.bodies.read(c)
			if err != nil {
				return err
			}
			defer release() // after the handler is done with the decoded body
			var p *Problem
			if body, bodyErr = v.checkBody(c.Request(), raw); errors.As(bodyErr, &p) {
				return p
			}
		}
		paramErr := openapi3filter.ValidateRequest(c.Request().Context(), v.input(c))
		if paramErr != nil || bodyErr != nil {
			return requestProblem(paramErr, bodyErr)
		}
		if body != nil {
			c.Set(bodyKey, body)
			defer c.Set(bodyKey, nil) // echo pools contexts: a pooled one must not keep the body alive
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
		buf, orig := bufferAnswer(c, next)
		defer buf.release()
		if buf.status == StatusClientClosedRequest { // not an answer: nobody is listening
			orig.WriteHeader(buf.status)
			return nil
		}

		err := v.response.ValidateHeaders(buf.status, buf.header)
		if err == nil {
			err = v.response.Validate(buf.status, buf.header.Get(echo.HeaderContentType), buf.body.Bytes())
		}
		if err != nil {
			v.log.Error("response breaks the spec", "operation", v.route.Operation.OperationID,
				"status", buf.status, "request_id", requestIDOf(c), "error", responseErrorText(err))
			if v.rejected != nil {
				v.rejected.Inc()
			}
			if v.mode == ResponseEnforce {
				orig.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				orig.WriteHeader(http.StatusInternalServerError)
				_, werr := orig.Write([]byte(`{"detail":"Internal server error."}` + "\n"))
				res.Status = http.StatusInternalServerError
				return werr
			}
		}
		return send(orig, buf)
	}
}

// bufferAnswer runs next with c's response held in a buffer, an error
// answered into it too, and returns it with the writer it replaced, which
// is c's again once it returns (also when next panics). The caller
// releases the buffer.
func bufferAnswer(c echo.Context, next echo.HandlerFunc) (buf *bufferedWriter, orig http.ResponseWriter) {
	res := c.Response()
	buf = buffers.Get().(*bufferedWriter)
	buf.status = http.StatusOK
	orig = res.Writer
	buf.orig = orig
	res.Writer = buf
	defer func() { res.Writer = orig }()
	if err := next(c); err != nil {
		c.Echo().HTTPErrorHandler(err, c)
	}
	return buf, orig
}

// send writes a buffered response.
func send(w http.ResponseWriter, buf *bufferedWriter) error {
	for k, vs := range buf.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(buf.status)
	_, err := w.Write(buf.body.Bytes())
	return err
}

// responseErrorText describes a response validation error without values.
func responseErrorText(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		if se.Path == "" {
			return se.Reason
		}
		return fmt.Sprintf("field %q: %s", se.Path, se.Reason)
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

// buffers are the bufferedWriters not in use.
var buffers = sync.Pool{New: func() any { return &bufferedWriter{header: http.Header{}} }}

// release empties w and puts it back in buffers, unless its buffer grew
// too large to keep.
func (w *bufferedWriter) release() {
	if w.body.Cap() > 1<<20 {
		return
	}
	clear(w.header) // the values went to the real writer: new ones are made on the next Set
	w.body.Reset()
	w.orig = nil
	buffers.Put(w)
}

func (w *bufferedWriter) Header() http.Header         { return w.header }
func (w *bufferedWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *bufferedWriter) WriteHeader(status int)      { w.status = status }
