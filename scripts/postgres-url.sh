#!/usr/bin/env bash
# Prints a PostgreSQL URL the tests may use, starting the local cluster
# first if it is installed but down. Prints nothing when no PostgreSQL can
# be had here; the callers then skip the PostgreSQL runs with a message.
#   AKCONN_TEST_POSTGRES_URL, when set, is used as is.
set -u
if [ -n "${AKCONN_TEST_POSTGRES_URL:-}" ]; then
  echo "$AKCONN_TEST_POSTGRES_URL"
  exit 0
fi
host=127.0.0.1 port=5432
url="postgres://postgres@$host:$port/test?sslmode=disable"
ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1; then
  exit 0
fi
if ! ready && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version (cluster main)" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready && echo "$url"
exit 0
