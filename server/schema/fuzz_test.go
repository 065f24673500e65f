package schema_test

import (
	"testing"
)

// FuzzAgreesWithKin checks, for the operations of openapi.yaml and of
// futureSpec, that both validators agree on any well-formed body, and that
// schema accepts no body that kin-openapi rejects (agreeWith).
//
//	go test ./server/schema -run '^$' -fuzz FuzzAgreesWithKin -fuzztime 1m
func FuzzAgreesWithKin(f *testing.F) {
	ops := append(append([]*op{}, repoSpec(f).ops...), loadDoc(f, futureSpec).ops...)
	index := map[string]uint8{}
	for i, o := range ops {
		index[o.ID] = uint8(i)
	}
	f.Add(index["sources_user_connections_oauth_retrieve"], uint16(200), []byte(retrieveBody))
	f.Add(index["sources_user_connections_oauth_retrieve"], uint16(200), []byte(`{"pk":1,"pk":"x","user":2}`))
	f.Add(index["sources_user_connections_oauth_list"], uint16(200), []byte(`{"autocomplete":{},"pagination":{"next":0,"previous":0,"count":1,"current":1,"total_pages":1,"start_index":1,"end_index":1},"results":[`+retrieveBody+`]}`))
	f.Add(index["sources_oauth_destroy"], uint16(204), []byte(``))
	f.Add(index["sources_oauth_destroy"], uint16(404), []byte(`{"detail":"Not found."}`))
	f.Add(index["sources_oauth_list"], uint16(400), []byte(`{"slug":["bad \u00e9"],"non_field_errors":[]}`))
	f.Add(index["core_users_me_retrieve"], uint16(200), []byte(`{"user":{"pk":1,"username":"a","name":"","is_active":true,"is_superuser":false,"groups":[],"avatar":"","uid":"u","settings":{},"system_permissions":[]}}`))
	f.Add(index["events_retrieve"], uint16(200), []byte(`{"action":"login","level":2,"parent":null,"extra_required":1,"when":"2024-02-29T23:59:60.5+23:59","context":{"a":[1e400]}}`))
	f.Add(index["events_list"], uint16(250), []byte(`[{"a":"\ud800\udc00\xff"}]`))
	f.Fuzz(func(t *testing.T, i uint8, status uint16, body []byte) {
		agree(t, ops[int(i)%len(ops)], int(status), "application/json", body)
	})
}
