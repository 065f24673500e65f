package store

import (
	"database/sql"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"
)

// connectionColumns are what connection reads select, in scanConnection's
// order: the connection and the source fields its API form shows.
const connectionColumns = "connections.id, connections.user_id, connections.source_id, connections.identifier, " +
	"connections.access_token, connections.expires, connections.created, connections.last_updated, " +
	"src.name, src.slug, src.enabled, src.authentication_flow, src.enrollment_flow, src.user_property_mappings, " +
	"src.group_property_mappings, src.policy_engine_mode, src.user_matching_mode, src.managed, src.user_path_template"

// withSource starts a connection read joined to its source.
func withSource(q *gorm.DB) *gorm.DB {
	return q.Table("connections").Select(connectionColumns).Joins("JOIN oauth_sources src ON src.id = connections.source_id")
}

// sourcesFirst starts a connection read that walks sources first. Ordered
// by source slug, SQLite then reads sources by their slug index and each
// source's connections by (source_id, id), already in order, instead of
// sorting every row; its CROSS JOIN fixes that loop order. PostgreSQL
// chooses its own join order.
func (s *Store) sourcesFirst(q *gorm.DB) *gorm.DB {
	if s.dialect != SQLite {
		return withSource(q)
	}
	return q.Table("oauth_sources src").Select(connectionColumns).Joins("CROSS JOIN connections ON src.id = connections.source_id")
}

// readConnections runs q (built on withSource) and scans its rows by hand:
// GORM's reflective scanning was half the cost of a retrieve (pprof).
func readConnections(q *gorm.DB) ([]Connection, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	return scanConnections(rows)
}

// scanConnections scans and closes rows selecting connectionColumns.
func scanConnections(rows *sql.Rows) ([]Connection, error) {
	defer rows.Close()
	out := []Connection{}
	for rows.Next() {
		var c Connection
		var userMappings, groupMappings string
		src := &c.Source
		err := rows.Scan(&c.ID, &c.UserID, &c.SourceID, &c.Identifier, &c.AccessTokenSealed, &c.Expires, &c.Created, &c.LastUpdated,
			&src.Name, &src.Slug, &src.Enabled, &src.AuthenticationFlow, &src.EnrollmentFlow, &userMappings,
			&groupMappings, &src.PolicyEngineMode, &src.UserMatchingMode, &src.Managed, &src.UserPathTemplate)
		if err != nil {
			return nil, err
		}
		src.ID = c.SourceID
		if src.UserPropertyMappings, err = stringList(userMappings); err != nil {
			return nil, err
		}
		if src.GroupPropertyMappings, err = stringList(groupMappings); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// stringList decodes a JSON list column.
func stringList(raw string) ([]string, error) {
	if raw == "" || raw == "[]" {
		return []string{}, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("decode list column: %w", err)
	}
	return out, nil
}

// readConnection is readConnections for one row, or ErrNotFound.
func readConnection(q *gorm.DB) (*Connection, error) {
	list, err := readConnections(q.Limit(1))
	if err != nil {
		return nil, translate(err)
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return &list[0], nil
}
