#!/usr/bin/env bash
# Fails when SPEC (default openapi.yaml) breaks a client of authentik
# 2026.8.3, the release /api/v3/ serves: `oasdiff breaking` from each of
# authentik's published files (the subset and the events) to SPEC, failing
# on any ERR that api/acknowledged-upstream.txt does not list. SPEC holds
# both files' operations; each file is compared against all of SPEC, so
# that only the operations it has are checked (oasdiff reports what the
# base loses, and SPEC's other operations are additions to it).
#
# The references live outside the repository and are found as the tests
# find them (testenv.ReferenceFile): in $AKCONN_AUTHENTIK_REFERENCE, which
# must then hold them, else in shared/reference/ beside the repository,
# else in /work/shared/reference/. When they are in none of these, the
# check is skipped with a message, or fails when CI is set (not "" or
# "false" or "0"), as .ci/run sets it.
#
# --flatten-allof and --flatten-params compare what the schemas and
# parameters describe, not how they are written: authentik 2026.8.3 wraps
# enums in a one-branch allOf and this project puts path parameters at
# path level, which oasdiff would otherwise report (request-parameter-
# enum-value-removed on GET /sources/oauth/'s matching modes, request-
# parameter-removed on every {id}).
#   usage: scripts/check-upstream.sh [SPEC]
set -uo pipefail
go=${GO:-go}
spec=${1:-openapi.yaml}
version=2026.8.3
root=$(cd "$(dirname "$0")/.." && pwd)
ignore=$root/api/acknowledged-upstream.txt
env=AKCONN_AUTHENTIK_REFERENCE

strict=
case "${CI:-}" in "" | false | 0) ;; *) strict=1 ;; esac

# reference prints the path of authentik's published file $1, or nothing
# when it is in none of the places above; it fails when $AKCONN_AUTHENTIK_REFERENCE
# is set and lacks it.
reference() {
  local dir
  if [ -n "${!env:-}" ]; then
    if [ ! -f "${!env}/$1" ]; then
      echo "== FAILED: make check-upstream: $env=${!env}, which has no $1" >&2
      return 1
    fi
    echo "${!env}/$1"
    return 0
  fi
  for dir in "$(cd "$root/.." && pwd)/shared/reference" /work/shared/reference; do
    if [ -f "$dir/$1" ]; then
      echo "$dir/$1"
      return 0
    fi
  done
  return 0
}

if [ ! -f "$spec" ]; then
  echo "== FAILED: make check-upstream: no spec $spec" >&2
  exit 1
fi
# oasdiff is the module's pinned go tool: it runs in the repository.
specpath=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")
refs=()
missing=()
for part in subset events; do
  name=authentik-$version-$part.yaml
  path=$(reference "$name") || exit 1
  if [ -z "$path" ]; then missing+=("$name"); else refs+=("$path"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  where="\$$env (unset), $(cd "$root/.." && pwd)/shared/reference/, /work/shared/reference/"
  if [ -n "$strict" ]; then
    echo "== FAILED: make check-upstream: authentik's published ${missing[*]} not found in $where; CI=$CI, so the check may not be skipped. Set $env to the directory holding authentik-$version-{subset,events}.yaml." >&2
    exit 1
  fi
  echo "== SKIPPED: make check-upstream: authentik's published ${missing[*]} not found in $where. Set $env to the directory holding authentik-$version-{subset,events}.yaml to run it."
  exit 0
fi

failed=0
for ref in "${refs[@]}"; do
  echo "== $spec against $ref"
  if (cd "$root" && "$go" tool oasdiff breaking "$ref" "$specpath" --fail-on ERR --err-ignore "$ignore" \
    --flatten-allof --flatten-params); then
    echo "$spec does not break a client of $(basename "$ref")"
  else
    failed=1
  fi
done
if [ "$failed" != 0 ]; then
  echo "== FAILED: make check-upstream: $spec breaks a client of authentik $version (above). Fix the spec, or, for a false positive or a decided departure only, add a line with its reason to api/acknowledged-upstream.txt." >&2
  exit 1
fi
