package server

import "akconn/gen"

// sourceType describes an OAuth provider as authentik's source type
// registry does (authentik 2026.8).
type sourceType struct {
	name, verboseName                   string
	urlsCustomizable                    bool
	requestToken, authorization, access *string
	profile, oidcWellKnown, oidcJWKS    *string
}

// sourceTypes lists every provider type, in the order of authentik's
// ProviderTypeEnum.
var sourceTypes = []sourceType{
	{name: "openidconnect", verboseName: "OpenID Connect", urlsCustomizable: true},
	{name: "apple", verboseName: "Apple",
		authorization: ptr("https://appleid.apple.com/auth/authorize"), access: ptr("https://appleid.apple.com/auth/token"), profile: ptr("")},
	{name: "discord", verboseName: "Discord",
		authorization: ptr("https://discord.com/api/oauth2/authorize"), access: ptr("https://discord.com/api/oauth2/token"),
		profile: ptr("https://discord.com/api/users/@me")},
	{name: "entraid", verboseName: "Entra ID", urlsCustomizable: true,
		authorization: ptr("https://login.microsoftonline.com/common/oauth2/v2.0/authorize"),
		access:        ptr("https://login.microsoftonline.com/common/oauth2/v2.0/token"),
		profile:       ptr("https://graph.microsoft.com/v1.0/me"),
		oidcJWKS:      ptr("https://login.microsoftonline.com/common/discovery/keys")},
	{name: "facebook", verboseName: "Facebook",
		authorization: ptr("https://www.facebook.com/v7.0/dialog/oauth"), access: ptr("https://graph.facebook.com/v7.0/oauth/access_token"),
		profile: ptr("https://graph.facebook.com/v7.0/me?fields=id,name,email")},
	{name: "github", verboseName: "GitHub", urlsCustomizable: true,
		authorization: ptr("https://github.com/login/oauth/authorize"), access: ptr("https://github.com/login/oauth/access_token"),
		profile:       ptr("https://api.github.com/user"),
		oidcWellKnown: ptr("https://token.actions.githubusercontent.com/.well-known/openid-configuration"),
		oidcJWKS:      ptr("https://token.actions.githubusercontent.com/.well-known/jwks")},
	{name: "gitlab", verboseName: "GitLab", urlsCustomizable: true,
		authorization: ptr("https://gitlab.com/oauth/authorize"), access: ptr("https://gitlab.com/oauth/token"),
		profile:       ptr("https://gitlab.com/oauth/userinfo"),
		oidcWellKnown: ptr("https://gitlab.com/.well-known/openid-configuration"),
		oidcJWKS:      ptr("https://gitlab.com/oauth/discovery/keys")},
	{name: "google", verboseName: "Google",
		authorization: ptr("https://accounts.google.com/o/oauth2/auth"), access: ptr("https://oauth2.googleapis.com/token"),
		profile:       ptr("https://www.googleapis.com/oauth2/v1/userinfo"),
		oidcWellKnown: ptr("https://accounts.google.com/.well-known/openid-configuration"),
		oidcJWKS:      ptr("https://www.googleapis.com/oauth2/v3/certs")},
	{name: "mailcow", verboseName: "Mailcow", urlsCustomizable: true},
	{name: "okta", verboseName: "Okta", urlsCustomizable: true},
	{name: "patreon", verboseName: "Patreon",
		authorization: ptr("https://www.patreon.com/oauth2/authorize"), access: ptr("https://www.patreon.com/api/oauth2/token"),
		profile: ptr("https://www.patreon.com/api/oauth2/api/current_user")},
	{name: "reddit", verboseName: "Reddit",
		authorization: ptr("https://www.reddit.com/api/v1/authorize"), access: ptr("https://www.reddit.com/api/v1/access_token"),
		profile: ptr("https://oauth.reddit.com/api/v1/me")},
	{name: "slack", verboseName: "Slack",
		authorization: ptr("https://slack.com/oauth/v2/authorize"), access: ptr("https://slack.com/api/oauth.v2.access"),
		profile: ptr("https://slack.com/api/openid.connect.userInfo")},
	{name: "twitch", verboseName: "Twitch",
		authorization: ptr("https://id.twitch.tv/oauth2/authorize"), access: ptr("https://id.twitch.tv/oauth2/token"),
		profile: ptr("https://id.twitch.tv/oauth2/userinfo")},
	{name: "twitter", verboseName: "Twitter",
		authorization: ptr("https://twitter.com/i/oauth2/authorize"), access: ptr("https://api.twitter.com/2/oauth2/token"),
		profile: ptr("https://api.twitter.com/2/users/me")},
	{name: "wechat", verboseName: "WeChat",
		authorization: ptr("https://open.weixin.qq.com/connect/qrconnect"), access: ptr("https://api.weixin.qq.com/sns/oauth2/access_token"),
		profile: ptr("https://api.weixin.qq.com/sns/userinfo")},
}

// defaultSourceType is what authentik answers for an unknown type name.
var defaultSourceType = sourceType{name: "default", verboseName: "Default source type"}

// findSourceType returns the type called name, or the default type.
func findSourceType(name string) sourceType {
	for _, t := range sourceTypes {
		if t.name == name {
			return t
		}
	}
	return defaultSourceType
}

// json converts the type to its API form.
func (t sourceType) json() gen.SourceType {
	return gen.SourceType{
		Name:             t.name,
		VerboseName:      t.verboseName,
		UrlsCustomizable: t.urlsCustomizable,
		RequestTokenUrl:  nullString(t.requestToken),
		AuthorizationUrl: nullString(t.authorization),
		AccessTokenUrl:   nullString(t.access),
		ProfileUrl:       nullString(t.profile),
		OidcWellKnownUrl: nullString(t.oidcWellKnown),
		OidcJwksUrl:      nullString(t.oidcJWKS),
	}
}
