package store

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// eventColumn is one column an event is written to: its name, its
// PostgreSQL type (for the typed arrays of a batch statement) and how to
// take its value from an event, alone or for a whole batch.
type eventColumn struct {
	name   string
	pgType string
	// value is the column's value for one event.
	value func(*Event) any
	// array is the column's values for events, as a typed slice: pgx
	// encodes a []any element by element through reflection.
	array func(events []*Event) any
}

// eventColumnOf makes the eventColumn whose value value takes.
func eventColumnOf[T any](name, pgType string, value func(*Event) T) eventColumn {
	return eventColumn{
		name:   name,
		pgType: pgType,
		value:  func(e *Event) any { return value(e) },
		array: func(events []*Event) any {
			out := make([]T, len(events))
			for i, e := range events {
				out[i] = value(e)
			}
			return out
		},
	}
}

// eventColumns are the columns every insert of events writes, in order:
// each statement that inserts events, on either backend and in any form
// (one row, many rows, arrays), is built from this table alone. A column
// added here must be added to the migrations of both backends
// (TestEventColumnsAreTheMigratedOnes).
var eventColumns = []eventColumn{
	eventColumnOf("event_uuid", "text", func(e *Event) string { return e.UUID }),
	eventColumnOf("user_pk", "bigint", func(e *Event) *int64 { return e.UserPK }),
	eventColumnOf("username", "text", func(e *Event) string { return e.Username }),
	eventColumnOf(`"user"`, "text", func(e *Event) string { return string(e.User) }),
	eventColumnOf("action", "text", func(e *Event) string { return e.Action }),
	eventColumnOf("app", "text", func(e *Event) string { return e.App }),
	eventColumnOf("context", "text", func(e *Event) string { return string(e.Context) }),
	eventColumnOf("client_ip", "text", func(e *Event) *string { return e.ClientIP }),
	eventColumnOf("created", "timestamptz", func(e *Event) time.Time { return e.Created }),
	eventColumnOf("expires", "timestamptz", func(e *Event) time.Time { return e.Expires }),
	eventColumnOf("brand", "text", func(e *Event) string { return string(e.Brand) }),
	eventColumnOf("model_app", "text", func(e *Event) string { return e.ModelApp }),
	eventColumnOf("model_name", "text", func(e *Event) string { return e.ModelName }),
	eventColumnOf("model_pk", "text", func(e *Event) string { return e.ModelPK }),
	eventColumnOf("authorized_app", "text", func(e *Event) string { return e.AuthorizedApp }),
	eventColumnOf("brand_name", "text", func(e *Event) string { return e.BrandName }),
	eventColumnOf("device_pk", "text", func(e *Event) string { return e.DevicePK }),
}

// eventColumnList is eventColumns' names, comma-separated.
var eventColumnList = func() string {
	names := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}()

// eventArgs are the values of events, row after row, in eventColumns'
// order: the arguments of eventInsert(len(events)).
func eventArgs(events []*Event) []any {
	args := make([]any, 0, len(eventColumns)*len(events))
	for _, e := range events {
		for _, c := range eventColumns {
			args = append(args, c.value(e))
		}
	}
	return args
}

// eventArrays are events as one typed array per column, in eventColumns'
// order: the arguments of eventUnnest.
func eventArrays(events []*Event) []any {
	out := make([]any, len(eventColumns))
	for i, c := range eventColumns {
		out[i] = c.array(events)
	}
	return out
}

// eventInsert is the statement inserting rows events, with ? parameters
// (GORM numbers them on PostgreSQL).
func eventInsert(rows int) string {
	row := valuesRow(len(eventColumns))
	var sb strings.Builder
	sb.WriteString("INSERT INTO events (" + eventColumnList + ") VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	return sb.String()
}

// eventValues is PostgreSQL's INSERT of one event whose values are the
// parameters from $first on (eventArgs).
func eventValues(first int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO events (" + eventColumnList + ") VALUES (")
	for i := range eventColumns {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("$" + strconv.Itoa(first+i))
	}
	sb.WriteString(")")
	return sb.String()
}

// eventUnnest is PostgreSQL's table of the events given as typed arrays
// (eventArrays) in the parameters from $first on, each row led by the
// bigint of the parameter before them ($first-1), named lead:
// "unnest($8::bigint[], $9::text[], …) AS ev (lead, event_uuid, …)".
func eventUnnest(first int, lead string) string {
	var sb strings.Builder
	sb.WriteString("unnest($" + strconv.Itoa(first-1) + "::bigint[]")
	for i, c := range eventColumns {
		sb.WriteString(", $" + strconv.Itoa(first+i) + "::" + c.pgType + "[]")
	}
	sb.WriteString(") AS ev (" + lead + ", " + eventColumnList + ")")
	return sb.String()
}

// eventRows are the row counts one INSERT of events takes: a batch is
// written largest first, so that a handful of statement shapes, each
// prepared once, serve every batch size.
var eventRows = []int{32, 8, 2, 1}

// writeEvents inserts events with as few statements as eventRows allows
// and counts them. The statements are written here rather than by GORM:
// every audited change takes this path, and reflection on it showed.
func (s *Store) writeEvents(tx *writeTx, events []*Event) error {
	if len(events) == 0 {
		return nil
	}
	if s.dialect == SQLite {
		if err := sequenceEvents(tx, events); err != nil {
			return err
		}
	}
	rest := events
	for _, rows := range eventRows {
		for len(rest) >= rows {
			if err := tx.db.Exec(eventInsert(rows), eventArgs(rest[:rows])...).Error; err != nil {
				return err
			}
			rest = rest[rows:]
		}
	}
	return s.tallyEvents(tx.db, events)
}

// sequenceEvents makes each of events, about to be inserted on SQLite in
// this order, created after the last event stored and after the one before
// it, so that the order of seq (the rowid, which the lists order by) is the
// order of created (migration 00013). A clock that steps back, or another
// process's writer that is ahead, moves an event's created and expires
// forward by as much, and a tie by a microsecond.
func sequenceEvents(tx *writeTx, events []*Event) error {
	last, err := lastEventCreated(tx.db)
	if err != nil {
		return err
	}
	for _, e := range events {
		if last.Valid && !e.Created.After(last.Time) {
			shift := last.Time.Sub(e.Created) + time.Microsecond
			e.Created, e.Expires = e.Created.Add(shift), e.Expires.Add(shift)
		}
		last = sql.NullTime{Time: e.Created, Valid: true}
	}
	return nil
}

// lastEventCreated returns, on SQLite, when the last event stored (by seq)
// was created; not Valid when there is none.
func lastEventCreated(db *gorm.DB) (sql.NullTime, error) {
	var last sql.NullTime
	err := db.Raw("SELECT created FROM events ORDER BY seq DESC LIMIT 1").Row().Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return last, err
}
