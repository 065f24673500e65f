package contract_test

import (
	"net/http"

	"akconn/testenv"
)

// scenario says how to call one operation successfully: who calls, which
// existing objects the path names, and what status success is. Every
// operation of every mount must have one (TestEveryOperationHasAScenario),
// so a new operation cannot land without contract coverage.
type scenario struct {
	key     string
	status  int
	prepare func(f *fixture) map[string]string
	// require lists body fields a business rule needs beyond the schema.
	require []string
}

func none(*fixture) map[string]string { return nil }

func aliceConnection(f *fixture) map[string]string {
	return map[string]string{"id": f.connection(testenv.AliceKey)}
}

func someSource(f *fixture) map[string]string {
	_, slug := f.source()
	return map[string]string{"slug": slug}
}

func someUser(f *fixture) map[string]string { return map[string]string{"id": f.user()} }

func aliceToken(f *fixture) map[string]string {
	return map[string]string{"identifier": f.token(testenv.AliceKey)}
}

// aliceEvent is an event of Alice's own (the creation of a token of hers).
func aliceEvent(f *fixture) map[string]string {
	return map[string]string{"event_uuid": f.event(testenv.AliceKey)}
}

var scenarios = map[string]scenario{
	"sources_user_connections_oauth_list":           {key: testenv.AliceKey, status: http.StatusOK, prepare: none},
	"sources_user_connections_oauth_create":         {key: testenv.AliceKey, status: http.StatusCreated, prepare: none, require: []string{"source"}},
	"sources_user_connections_oauth_retrieve":       {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceConnection},
	"sources_user_connections_oauth_update":         {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceConnection},
	"sources_user_connections_oauth_partial_update": {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceConnection},
	"sources_user_connections_oauth_destroy":        {key: testenv.AliceKey, status: http.StatusNoContent, prepare: aliceConnection},
	"sources_user_connections_oauth_used_by_list":   {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceConnection},

	"sources_oauth_list":              {key: testenv.AliceKey, status: http.StatusOK, prepare: none},
	"sources_oauth_create":            {key: testenv.AdminKey, status: http.StatusCreated, prepare: none},
	"sources_oauth_retrieve":          {key: testenv.AliceKey, status: http.StatusOK, prepare: someSource},
	"sources_oauth_update":            {key: testenv.AdminKey, status: http.StatusOK, prepare: someSource},
	"sources_oauth_partial_update":    {key: testenv.AdminKey, status: http.StatusOK, prepare: someSource},
	"sources_oauth_destroy":           {key: testenv.AdminKey, status: http.StatusNoContent, prepare: someSource},
	"sources_oauth_used_by_list":      {key: testenv.AliceKey, status: http.StatusOK, prepare: someSource},
	"sources_oauth_source_types_list": {key: testenv.AliceKey, status: http.StatusOK, prepare: none},

	"core_users_list":           {key: testenv.AdminKey, status: http.StatusOK, prepare: none},
	"core_users_create":         {key: testenv.AdminKey, status: http.StatusCreated, prepare: none},
	"core_users_retrieve":       {key: testenv.AdminKey, status: http.StatusOK, prepare: someUser},
	"core_users_update":         {key: testenv.AdminKey, status: http.StatusOK, prepare: someUser},
	"core_users_partial_update": {key: testenv.AdminKey, status: http.StatusOK, prepare: someUser},
	"core_users_destroy":        {key: testenv.AdminKey, status: http.StatusNoContent, prepare: someUser},
	"core_users_used_by_list":   {key: testenv.AdminKey, status: http.StatusOK, prepare: someUser},
	"core_users_me_retrieve":    {key: testenv.AliceKey, status: http.StatusOK, prepare: none},

	"core_tokens_list":              {key: testenv.AliceKey, status: http.StatusOK, prepare: none},
	"core_tokens_create":            {key: testenv.AliceKey, status: http.StatusCreated, prepare: none},
	"core_tokens_retrieve":          {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceToken},
	"core_tokens_update":            {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceToken},
	"core_tokens_partial_update":    {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceToken},
	"core_tokens_destroy":           {key: testenv.AliceKey, status: http.StatusNoContent, prepare: aliceToken},
	"core_tokens_used_by_list":      {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceToken},
	"core_tokens_view_key_retrieve": {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceToken},

	"events_events_list":              {key: testenv.AliceKey, status: http.StatusOK, prepare: none},
	"events_events_create":            {key: testenv.AdminKey, status: http.StatusCreated, prepare: none},
	"events_events_retrieve":          {key: testenv.AliceKey, status: http.StatusOK, prepare: aliceEvent},
	"events_events_update":            {key: testenv.AdminKey, status: http.StatusMethodNotAllowed, prepare: aliceEvent},
	"events_events_partial_update":    {key: testenv.AdminKey, status: http.StatusMethodNotAllowed, prepare: aliceEvent},
	"events_events_destroy":           {key: testenv.AdminKey, status: http.StatusMethodNotAllowed, prepare: aliceEvent},
	"events_events_actions_list":      {key: testenv.AliceKey, status: http.StatusOK, prepare: none},
	"events_events_volume_list":       {key: testenv.AliceKey, status: http.StatusOK, prepare: none},
	"events_events_per_month_list":    {key: testenv.AliceKey, status: http.StatusOK, prepare: none}, // 2024.8 only
	"events_events_stats_retrieve":    {key: testenv.AliceKey, status: http.StatusOK, prepare: none}, // current only
	"events_events_top_per_user_list": {key: testenv.AliceKey, status: http.StatusOK, prepare: none},
}
