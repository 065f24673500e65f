#!/usr/bin/env bash
# Writes e2e/testdata/upgrade-<release>/: databases written by an earlier
# release of this server, for the upgrade test (e2e/upgrade_test.go).
#
#   scripts/upgrade-fixture.sh [release]     (default: e3ef6f3)
#
# It builds the server at <release> from git (a temporary worktree), and
# for each backend (a SQLite file; a PostgreSQL schema) runs that build's
# own commands and API: `seed`, `users create --with-token`, then `serve`
# and a few audited writes (users, API tokens, sources, connections with
# and without access tokens, an update, a delete, a user acting with her
# own token). It then records what that release answers for every row
# (each list, in full) and writes:
#   sqlite.db      the SQLite database (checkpointed, vacuumed);
#   postgres.sql   pg_dump --inserts of the schema (plain SQL; psql's
#                  \restrict lines dropped, so any client can run it);
#   secret.key     the sealing key (SECRET_KEY) the secrets are sealed with;
#   manifest.json  the release, the bootstrap key, each API token's key
#                  (view_key) and users/me's answer to it, and every list's
#                  answer, per backend.
# Needs git, go, curl, jq, sqlite3, pg_dump and a PostgreSQL
# (AKCONN_TEST_POSTGRES_URL, or what scripts/postgres-url.sh finds).
set -euo pipefail
release=${1:-e3ef6f3}
root=$(git rev-parse --show-toplevel)
cd "$root"
out=$root/e2e/testdata/upgrade-$release
pg=$(scripts/postgres-url.sh)
[ -n "$pg" ] || { echo "no PostgreSQL: see above" >&2; exit 1; }
schema=akconn_upgrade_$release
# The e2e tests' bootstrap key (e2e/process_test.go's adminKey).
admin_key=e2e-admin-key-0123456789

tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  git worktree remove --force "$tmp/src" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== building akconn at $release"
git worktree add --quiet --detach "$tmp/src" "$release"
(cd "$tmp/src" && GOFLAGS= go build -tags=sqlite_fts5 -o "$tmp/akconn" .)
bin=$tmp/akconn
secret_key=$("$bin" keys generate)
export SECRET_KEY=$secret_key

# api METHOD PATH [BODY] [KEY]: one request; prints the body, fails unless 2xx.
api() {
  local method=$1 path=$2 body=${3:-} key=${4:-$admin_key} status
  local args=(-sS -o "$tmp/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $key")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  status=$(curl "${args[@]}" "$base/api/v3$path")
  if [ "${status:0:1}" != 2 ]; then
    echo "$method $path: $status $(cat "$tmp/body")" >&2
    return 1
  fi
  cat "$tmp/body"
}

# write DATABASE: the rows, through the release's commands and API; prints
# the backend's manifest entry.
write() {
  local db=$1 port
  "$bin" seed --database "$db" --users 3 --sources 2 --connections 5 --prefix fx >&2
  local cli_key
  cli_key=$("$bin" users create --database "$db" --username fixture-cli --name "CLI User" --email cli@example.com --with-token |
    sed -n 's/^token .* key: //p')
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base=http://127.0.0.1:$port
  # Events expire after the retention: a century, so that the committed
  # fixture's events outlive it.
  BOOTSTRAP_TOKEN=$admin_key "$bin" serve --addr "127.0.0.1:$port" --database "$db" --event-retention 36500d \
    >"$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "$base/-/health/ready/" && break
    sleep 0.1
  done
  local alice bob github azure conn gone alice_key
  # The secrets sent (sealed by the release; the API never shows them).
  local gh_secret=gh-secret-do-not-show az_secret=az-secret-do-not-show gh_token=gho_fixtureAccessTokenAlice az_token=eyJ.fixture.alice
  local secrets="{\"consumer_secrets\":{\"fixture-github\":\"$gh_secret\",\"fixture-azuread\":\"$az_secret\"},
    \"access_tokens\":{\"alice-gh-1002\":\"$gh_token\",\"Ålice@contoso.example\":\"$az_token\"}}"
  alice=$(api POST /core/users/ '{"username":"fixture-alice","name":"Alice","email":"alice@example.com","path":"users/fixture",
    "type":"internal","attributes":{"team":"blue","quota":3,"tags":["a","b"]}}' | jq .pk)
  api PATCH "/core/users/$alice/" '{"name":"Alice Liddell","attributes":{"team":"red","quota":4}}' >/dev/null
  bob=$(api POST /core/users/ '{"username":"fixture-bob","name":"Bob","email":"bob@example.com","type":"external",
    "is_active":false}' | jq .pk)
  api POST /core/tokens/ "{\"identifier\":\"fixture-alice-api\",\"intent\":\"api\",\"user\":$alice,\"description\":\"Alice's key\",
    \"expiring\":false}" >/dev/null
  api POST /core/tokens/ "{\"identifier\":\"fixture-bob-expiring\",\"intent\":\"api\",\"user\":$bob,\"expiring\":true,
    \"expires\":\"2099-01-02T03:04:05Z\"}" >/dev/null
  alice_key=$(api GET /core/tokens/fixture-alice-api/view_key/ | jq -r .key)
  github=$(api POST /sources/oauth/ '{"name":"GitHub (fixture)","slug":"fixture-github","provider_type":"github",
    "consumer_key":"gh-client","consumer_secret":"'$gh_secret'","additional_scopes":"read:org",
    "authorization_url":"https://github.com/login/oauth/authorize","access_token_url":"https://github.com/login/oauth/access_token",
    "profile_url":"https://api.github.com/user","user_matching_mode":"email_link"}' | jq -r .pk)
  azure=$(api POST /sources/oauth/ '{"name":"Azure AD (fixture)","slug":"fixture-azuread","provider_type":"azuread",
    "consumer_key":"az-client","consumer_secret":"'$az_secret'","enabled":false,
    "oidc_well_known_url":"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
    "oidc_jwks":{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}}' | jq -r .pk)
  api PATCH /sources/oauth/fixture-github/ '{"policy_engine_mode":"all","group_matching_mode":"name_link"}' >/dev/null
  conn=$(api POST /sources/user_connections/oauth/ "{\"source\":\"$github\",\"user\":$alice,\"identifier\":\"alice-gh-1001\",
    \"access_token\":\"$gh_token\",\"expires\":\"2099-06-07T08:09:10Z\"}" | jq .pk)
  api PATCH "/sources/user_connections/oauth/$conn/" '{"identifier":"alice-gh-1002"}' >/dev/null
  api POST /sources/user_connections/oauth/ "{\"source\":\"$github\",\"user\":$bob,\"identifier\":\"bob-gh\"}" >/dev/null
  gone=$(api POST /sources/user_connections/oauth/ "{\"source\":\"$azure\",\"user\":$bob,\"identifier\":\"bob-gone\"}" | jq .pk)
  api DELETE "/sources/user_connections/oauth/$gone/" >/dev/null
  # Alice, with her own key: a connection of hers (user: the caller).
  api POST /sources/user_connections/oauth/ "{\"source\":\"$azure\",\"identifier\":\"Ålice@contoso.example\",
    \"access_token\":\"$az_token\"}" "$alice_key" >/dev/null
  # Each token's key (view_key, an audited read: before the lists), and
  # what users/me answers with it (an inactive owner's key is refused).
  local keys='{}' me='{}' identifier key status
  for identifier in $(api GET "/core/tokens/?page_size=1000" | jq -r '.results[].identifier'); do
    key=$(api GET "/core/tokens/$identifier/view_key/" | jq -r .key)
    keys=$(jq --arg k "$identifier" --arg v "$key" '. + {($k): $v}' <<<"$keys")
    status=$(curl -sS -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $key" "$base/api/v3/core/users/me/")
    me=$(jq --arg k "$identifier" --argjson s "$status" --slurpfile b "$tmp/body" '. + {($k): {status: $s, body: $b[0]}}' <<<"$me")
  done
  # Every list in full, as this release answers it.
  local lists='{}' path name
  for name in users:/core/users/ tokens:/core/tokens/ sources:/sources/oauth/ \
    connections:/sources/user_connections/oauth/ events:/events/events/; do
    path=${name#*:}
    lists=$(jq --arg k "${name%%:*}" --argjson v "$(api GET "$path?page_size=1000")" '. + {($k): $v}' <<<"$lists")
  done
  kill -TERM "$server_pid"
  wait "$server_pid" || { cat "$tmp/server.log" >&2; return 1; }
  server_pid=
  jq -n --argjson lists "$lists" --argjson keys "$keys" --argjson me "$me" --arg cli "$cli_key" \
    --argjson secrets "$secrets" '{lists: $lists, token_keys: $keys, me: $me, cli_token_key: $cli, secrets: $secrets}'
}

rm -rf "$out"
mkdir -p "$out"
echo "== SQLite"
sqlite_entry=$(write "$tmp/fixture.db")
sqlite3 "$tmp/fixture.db" 'PRAGMA wal_checkpoint(TRUNCATE); VACUUM;' >/dev/null
[ ! -s "$tmp/fixture.db-wal" ] || { echo "the SQLite WAL was not checkpointed" >&2; exit 1; }
cp "$tmp/fixture.db" "$out/sqlite.db"

echo "== PostgreSQL (schema $schema)"
PGOPTIONS=--client-min-messages=warning psql -q "$pg" -c "DROP SCHEMA IF EXISTS $schema CASCADE" -c "CREATE SCHEMA $schema"
pg_url=$pg$([[ $pg == *\?* ]] && echo '&' || echo '?')search_path=$schema
postgres_entry=$(write "$pg_url")
pg_dump --dbname="$pg" --schema="$schema" --inserts --no-owner --no-privileges | grep -Ev '^\\(un)?restrict ' >"$out/postgres.sql"
PGOPTIONS=--client-min-messages=warning psql -q "$pg" -c "DROP SCHEMA $schema CASCADE"

printf '%s\n' "$secret_key" >"$out/secret.key"
jq -n --arg release "$release" --arg commit "$(git rev-parse "$release")" --arg admin "$admin_key" --arg schema "$schema" \
  --argjson sqlite "$sqlite_entry" --argjson postgres "$postgres_entry" \
  '{release: $release, commit: $commit, written_by: "scripts/upgrade-fixture.sh", secret_key_file: "secret.key",
    admin_key: $admin,
    sqlite: ($sqlite + {database: "sqlite.db"}),
    postgres: ($postgres + {database: "postgres.sql", schema: $schema})}' >"$out/manifest.json"
du -sh "$out"/*
