package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

const slugPattern = `^[-a-zA-Z0-9_]+$`

// dateTimeMessage is Django REST framework's message for a bad datetime.
const dateTimeMessage = "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."

// requestProblem turns the errors of a request's parameters (kin-openapi's)
// and of its body (errNoData or the schema's) into authentik's error
// shape. kin-openapi's own text never reaches the client.
func requestProblem(paramErr, bodyErr error) *Problem {
	fields := map[string][]string{}
	add := func(field, msg string) {
		for _, m := range fields[field] {
			if m == msg {
				return
			}
		}
		fields[field] = append(fields[field], msg)
	}
	for _, e := range multi(paramErr) {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			add("non_field_errors", "Invalid request.")
			continue
		}
		add(re.Parameter.Name, parameterMessage(re))
	}
	if bodyErr == errNoData {
		add("non_field_errors", "No data provided")
		bodyErr = nil
	}
	for _, e := range multi(bodyErr) {
		// What VisitJSON finds wrong in a decoded body (numbers as
		// json.Number, against a spec validated at start) is a SchemaError.
		var se *openapi3.SchemaError
		errors.As(e, &se)
		path := se.JSONPointer()
		if len(path) == 0 {
			add("non_field_errors", rootMessage(se))
			continue
		}
		add(path[0], schemaMessage(se))
	}
	return &Problem{Status: http.StatusBadRequest, Fields: fields}
}

// multi lists the errors err holds: those of a MultiError, err itself, or
// none.
func multi(err error) []error {
	var me openapi3.MultiError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return me
	}
	return []error{err}
}

func rootMessage(se *openapi3.SchemaError) string {
	if se.SchemaField == "type" {
		return fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", pythonType(se.Value))
	}
	return "Invalid data."
}

// parameterMessage words a path or query parameter error as authentik does.
func parameterMessage(re *openapi3filter.RequestError) string {
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return "This field is required."
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return schemaMessage(se)
	}
	var schema *openapi3.Schema
	if re.Parameter.Schema != nil {
		schema = re.Parameter.Schema.Value
	}
	return typeMessage(schema, nil)
}

// schemaMessage words one schema violation with Django REST framework's messages.
func schemaMessage(se *openapi3.SchemaError) string {
	s := se.Schema
	switch se.SchemaField {
	case "required":
		return "This field is required."
	case "nullable":
		return "This field may not be null."
	case "type":
		return typeMessage(s, se.Value)
	case "enum":
		return fmt.Sprintf("%q is not a valid choice.", truncate(fmt.Sprint(se.Value), 100))
	case "maxLength":
		return fmt.Sprintf("Ensure this field has no more than %d characters.", *s.MaxLength)
	case "minLength":
		if v, ok := se.Value.(string); ok && v == "" {
			return "This field may not be blank."
		}
		return fmt.Sprintf("Ensure this field has at least %d characters.", s.MinLength)
	case "pattern":
		if s.Pattern == slugPattern {
			return `Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.`
		}
		return "This value does not match the required pattern."
	case "format":
		switch s.Format {
		case "uuid":
			return "Must be a valid UUID."
		case "date-time":
			return dateTimeMessage
		case "email":
			return "Enter a valid email address."
		}
	case "minimum":
		return fmt.Sprintf("Ensure this value is greater than or equal to %v.", *s.Min)
	case "maximum":
		return fmt.Sprintf("Ensure this value is less than or equal to %v.", *s.Max)
	}
	return "Invalid value."
}

func typeMessage(s *openapi3.Schema, value any) string {
	if s == nil || s.Type == nil {
		return "Invalid value."
	}
	switch {
	case s.Type.Is("integer"):
		return "A valid integer is required."
	case s.Type.Is("number"):
		return "A valid number is required."
	case s.Type.Is("boolean"):
		return "Must be a valid boolean."
	case s.Type.Is("string"):
		return "Not a valid string."
	case s.Type.Is("array"):
		return fmt.Sprintf("Expected a list of items but got type %q.", pythonType(value))
	case s.Type.Is("object"):
		return fmt.Sprintf("Expected a dictionary of items but got type %q.", pythonType(value))
	}
	return "Invalid value."
}

// pythonType names a JSON value's type as authentik (Python) would.
func pythonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "dict"
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "int"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
