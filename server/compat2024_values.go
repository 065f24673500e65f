package server

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"

	"akconn/gen"
)

// The 2024.8 change's value fast paths (VersionChange.Values) for the
// connection operations, the API's hottest: the handler's connection
// becomes 2024.8's before it is encoded, its nested source taken from a
// cache of each source view's 2024.8 JSON, made by the JSON change itself
// (nestedSource2024).

// connection2024Value is a connection as connection2024 leaves it, its
// members in the order a re-encoded object has them (by name).
type connection2024Value struct {
	Created     *time.Time      `json:"created,omitempty"`
	Expires     *time.Time      `json:"expires"`
	Identifier  string          `json:"identifier"`
	LastUpdated *time.Time      `json:"last_updated,omitempty"`
	Pk          *int            `json:"pk,omitempty"`
	Source      json.RawMessage `json:"source"`
	User        *int            `json:"user,omitempty"`
}

// connectionList2024Value is a page of them, without autocomplete.
type connectionList2024Value struct {
	Pagination gen.Pagination        `json:"pagination"`
	Results    []connection2024Value `json:"results"`
}

// eventList2024Value is a page of events without autocomplete.
type eventList2024Value struct {
	Pagination gen.Pagination `json:"pagination"`
	Results    []gen.Event    `json:"results"`
}

// eventListValue2024 is the value path of the events list's change, which
// only drops autocomplete: the events keep their free-form objects as
// stored, members in their order, as a retrieve of one answers them.
func eventListValue2024(status int, v any) (any, bool) {
	page, ok := v.(gen.PaginatedEventList)
	if !ok || status >= 300 {
		return nil, false
	}
	return eventList2024Value{Pagination: page.Pagination, Results: page.Results}, true
}

// connectionValue2024 is the fast path of each(connection2024).
func connectionValue2024(status int, v any) (any, bool) {
	if status >= 300 {
		return nil, false
	}
	switch x := v.(type) {
	case gen.UserOAuthSourceConnection:
		return connectionAs2024(&x)
	case gen.PaginatedUserOAuthSourceConnectionList:
		out := connectionList2024Value{Pagination: x.Pagination, Results: make([]connection2024Value, len(x.Results))}
		for i := range x.Results {
			c, ok := connectionAs2024(&x.Results[i])
			if !ok {
				return nil, false
			}
			out.Results[i] = c
		}
		return out, true
	}
	return nil, false
}

func connectionAs2024(c *gen.UserOAuthSourceConnection) (connection2024Value, bool) {
	src, ok := sources2024.of(c.SourceObj)
	if !ok {
		return connection2024Value{}, false
	}
	return connection2024Value{Created: c.Created, Expires: c.Expires, Identifier: c.Identifier, LastUpdated: c.LastUpdated,
		Pk: c.Pk, Source: src, User: c.User}, true
}

// nestedSources2024 keeps each source view's 2024.8 JSON by the view: a
// view (sourceViews) is made once per source version and never changed,
// so its pointer names one representation.
type nestedSources2024 struct {
	mu   sync.RWMutex
	json map[*gen.Source]json.RawMessage
}

var sources2024 nestedSources2024

// of returns src as 2024.8 nests it.
func (n *nestedSources2024) of(src *gen.Source) (json.RawMessage, bool) {
	if src == nil {
		return nil, false
	}
	n.mu.RLock()
	raw, ok := n.json[src]
	n.mu.RUnlock()
	if ok {
		return raw, true
	}
	raw, err := nestedSourceJSON2024(src)
	if err != nil {
		return nil, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.json == nil || len(n.json) >= maxSourceViews {
		n.json = map[*gen.Source]json.RawMessage{}
	}
	n.json[src] = raw
	return raw, true
}

// nestedSourceJSON2024 runs nestedSource2024 on src's JSON.
func nestedSourceJSON2024(src *gen.Source) (json.RawMessage, error) {
	raw, err := gojson.Marshal(src)
	if err != nil {
		return nil, err
	}
	dec := gojson.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	nestedSource2024(obj)
	return gojson.Marshal(obj)
}
