package server

import (
	"fmt"
	"strconv"
	"time"

	"akconn/gen"
	"akconn/store"
)

// connectionUsedBy describes a connection that goes when what it belongs
// to (its source or its user) is deleted.
func connectionUsedBy(conn *store.Connection) gen.UsedBy {
	return gen.UsedBy{
		App:       "authentik_sources_oauth",
		ModelName: "useroauthsourceconnection",
		Pk:        strconv.FormatInt(conn.ID, 10),
		Name:      fmt.Sprintf("User-source connection (user=%d, source=%s)", conn.UserID, conn.SourceID),
		Action:    "cascade",
	}
}

// tokenUsedBy describes a token that goes when its user is deleted.
func tokenUsedBy(t *store.Token) gen.UsedBy {
	return gen.UsedBy{App: "authentik_core", ModelName: "token", Pk: t.ID, Name: tokenName(t), Action: "cascade"}
}

// tokenName is authentik's str(token).
func tokenName(t *store.Token) string {
	if t.Expiring && t.Expires != nil {
		return fmt.Sprintf("%s (expires=%s)", t.Identifier, t.Expires.UTC().Format(time.RFC3339))
	}
	return t.Identifier
}
