package server

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"
)

// nullString converts an optional column to a JSON string or null.
func nullString(p *string) nullable.Nullable[string] {
	if p == nil {
		return nullable.NewNullNullable[string]()
	}
	return nullable.NewNullableWithValue(*p)
}

// nullUUID converts an optional uuid column to a JSON uuid or null.
func nullUUID(p *string) nullable.Nullable[uuid.UUID] {
	if p == nil {
		return nullable.NewNullNullable[uuid.UUID]()
	}
	id, err := uuid.Parse(*p)
	if err != nil {
		return nullable.NewNullNullable[uuid.UUID]()
	}
	return nullable.NewNullableWithValue(id)
}

// optional reads a request's nullable field: set says whether the field was
// sent at all, and value is nil for null.
func optional[T any](n nullable.Nullable[T]) (value *T, set bool) {
	if !n.IsSpecified() {
		return nil, false
	}
	if n.IsNull() {
		return nil, true
	}
	v := n.MustGet()
	return &v, true
}

// setTime copies a request's nullable datetime field (null included) onto
// dst when it was sent, refusing instants outside years 1 to 9999 in UTC,
// which Python's (and JSON's RFC 3339) datetimes cannot represent.
func setTime(dst **time.Time, field string, n nullable.Nullable[time.Time]) error {
	value, sent := optional(n)
	if !sent {
		return nil
	}
	if value != nil {
		if err := checkTime(field, *value); err != nil {
			return err
		}
		value = apiTime(*value)
	}
	*dst = value
	return nil
}

// nullTime converts an optional timestamp column to a JSON datetime or null.
func nullTime(t *time.Time) nullable.Nullable[time.Time] {
	if t == nil {
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(*apiTime(*t))
}

// checkTime refuses an instant outside years 1 to 9999 in UTC.
func checkTime(field string, t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fieldError(field, dateTimeMessage)
	}
	return nil
}

// apiTime is how timestamps leave the API: UTC, microsecond precision.
func apiTime(t time.Time) *time.Time {
	t = t.UTC().Truncate(time.Microsecond)
	return &t
}

func ptr[T any](v T) *T { return &v }

// maxJSONField bounds a free-form JSON field (attributes, oidc_jwks) as
// stored, so that no row, and no list of rows, grows without bound.
const maxJSONField = 16 << 10

// checkJSONSize refuses a free-form JSON value longer than maxJSONField
// once encoded.
func checkJSONSize(field string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil || len(raw) > maxJSONField {
		return fieldError(field, fmt.Sprintf("Ensure this value has at most %d bytes of JSON.", maxJSONField))
	}
	return nil
}

// invalidPK is Django REST framework's message for an unknown reference.
func invalidPK(field string, pk any) *Problem {
	return fieldError(field, fmt.Sprintf("Invalid pk \"%v\" - object does not exist.", pk))
}

// set copies a sent field onto dst.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// setAs copies a sent enum field onto a string column.
func setAs[T ~string](dst *string, v *T) {
	if v != nil {
		*dst = string(*v)
	}
}

// stringOf converts an optional enum parameter to an optional string.
func stringOf[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	return ptr(string(*p))
}

// uuidString converts an optional uuid parameter to an optional string.
func uuidString(p *uuid.UUID) *string {
	if p == nil {
		return nil
	}
	return ptr(p.String())
}

// setNullable copies a sent nullable field (null included) onto dst.
func setNullable(dst **string, n nullable.Nullable[string]) {
	if v, sent := optional(n); sent {
		*dst = v
	}
}
