#!/usr/bin/env bash
# Prints a PostgreSQL URL the tests may use, starting the local cluster
# first if it is installed but down. When no PostgreSQL can be had here it
# prints nothing and says on stderr how to provide one; it then exits 0
# (the callers skip the PostgreSQL runs with a message), or 1 when
# AKCONN_REQUIRE_POSTGRES=1 (CI), so that no run passes without them.
#   AKCONN_TEST_POSTGRES_URL, when set, is used as is.
set -u
if [ -n "${AKCONN_TEST_POSTGRES_URL:-}" ]; then
  echo "$AKCONN_TEST_POSTGRES_URL"
  exit 0
fi
host=127.0.0.1 port=5432
url="postgres://postgres@$host:$port/test?sslmode=disable"
installed() { command -v pg_isready >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; }
ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
if installed && ! ready; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version (cluster main)" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
if ready; then
  echo "$url"
  exit 0
fi
cat >&2 <<MSG
No PostgreSQL answers on $host:$port. To provide one, either
  - install Debian's package and start its cluster (as root):
      apt-get install postgresql && pg_ctlcluster <version> main start
    then let user postgres in from $host without a password (trust in
    pg_hba.conf) and create the database: createdb -U postgres test
  - or set AKCONN_TEST_POSTGRES_URL=postgres://user:password@host:port/db?sslmode=disable
    to a database where the tests may create schemas.
MSG
if [ "${AKCONN_REQUIRE_POSTGRES:-}" = 1 ]; then
  echo "AKCONN_REQUIRE_POSTGRES=1 (CI): the PostgreSQL tests may not be skipped." >&2
  exit 1
fi
exit 0
