package server

// change2024to2026 carries authentik 2024.8's contract (this server's
// previous release, api/2024.8.yaml) to 2026.8's and back. Each entry is
// listed, with what a 2024.8 client sees, in docs/COMPATIBILITY.md.
var change2024to2026 = VersionChange{
	Description: "authentik 2024.8.3 → 2026.8.3",
	Requests: map[string]func(*Request) error{
		"sources_oauth_create":                          sourceRequest2024,
		"sources_oauth_update":                          sourceRequest2024,
		"sources_oauth_partial_update":                  sourceRequest2024,
		"sources_oauth_list":                            queryForward("provider_type"),
		"sources_oauth_source_types_list":               queryForward("name"),
		"sources_user_connections_oauth_create":         connectionCreate2024,
		"sources_user_connections_oauth_update":         connectionRequest2024,
		"sources_user_connections_oauth_partial_update": connectionRequest2024,
		"events_events_create":                          eventRequest2024,
		"events_events_volume_list":                     volumeRequest2024,
	},
	Responses: map[string]func(int, any) (any, error){
		"sources_oauth_list":                            each(source2024),
		"sources_oauth_create":                          each(source2024),
		"sources_oauth_retrieve":                        each(source2024),
		"sources_oauth_update":                          each(source2024),
		"sources_oauth_partial_update":                  each(source2024),
		"sources_oauth_source_types_list":               sourceTypes2024,
		"sources_user_connections_oauth_list":           each(connection2024),
		"sources_user_connections_oauth_create":         each(connection2024),
		"sources_user_connections_oauth_retrieve":       each(connection2024),
		"sources_user_connections_oauth_update":         each(connection2024),
		"sources_user_connections_oauth_partial_update": each(connection2024),
		"core_users_list":                               each(user2024),
		"core_users_create":                             each(user2024),
		"core_users_retrieve":                           each(user2024),
		"core_users_update":                             each(user2024),
		"core_users_partial_update":                     each(user2024),
		"core_users_me_retrieve":                        each(sessionUser2024),
		"core_tokens_list":                              each(token2024),
		"core_tokens_create":                            each(token2024),
		"core_tokens_retrieve":                          each(token2024),
		"core_tokens_update":                            each(token2024),
		"core_tokens_partial_update":                    each(token2024),
		"events_events_list":                            each(func(map[string]any) {}),
		"events_events_actions_list":                    actionTypes2024,
		"events_events_volume_list":                     volume2024,
	},
	Values: map[string]func(int, any) (any, bool){
		"events_events_list":                            eventListValue2024,
		"sources_user_connections_oauth_list":           connectionValue2024,
		"sources_user_connections_oauth_create":         connectionValue2024,
		"sources_user_connections_oauth_retrieve":       connectionValue2024,
		"sources_user_connections_oauth_update":         connectionValue2024,
		"sources_user_connections_oauth_partial_update": connectionValue2024,
	},
}

// shown2024 is what 2024.8's contract can express: sources of its
// provider types (entraid as azuread; not slack or wechat) whose OAuth
// URLs have at most 255 characters, connection identifiers of at most 255
// characters, and its event actions.
var shown2024 = Shown{
	ProviderTypes: []string{"openidconnect", "apple", "discord", entraID, "facebook", "github", "gitlab", "google",
		"mailcow", "okta", "patreon", "reddit", "twitch", "twitter"},
	MaxIdentifier: 255,
	MaxSourceURL:  255,
	Actions:       actions2024,
}
