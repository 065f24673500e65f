#!/usr/bin/env bash
# Vendors the API browser's assets: installs the RapiDoc version pinned in
# package-lock.json (npm ci) and copies its dist files into
# server/apibrowser/assets/, recording their SHA-256 in SHA256SUMS (the Go
# tests check the embedded files against it).
#   update.sh          copy the files (make update-api-browser)
#   update.sh --check  fail when the committed files differ from what the
#                      pinned package holds (make check-api-browser)
set -euo pipefail
cd "$(dirname "$0")"
dest=../../server/apibrowser/assets
files=(rapidoc-min.js rapidoc-min.js.LICENSE.txt)

npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "${files[@]}"; do
  cp node_modules/rapidoc/dist/"$f" "$tmp/$f"
done
cp node_modules/rapidoc/LICENSE.txt "$tmp/LICENSE.txt"
(cd "$tmp" && LC_ALL=C sha256sum "${files[@]}" LICENSE.txt > SHA256SUMS)

if [ "${1:-}" = "--check" ]; then
  for f in "${files[@]}" LICENSE.txt SHA256SUMS; do
    if ! cmp -s "$tmp/$f" "$dest/$f"; then
      echo "server/apibrowser/assets/$f differs from rapidoc $(node -p 'require("./node_modules/rapidoc/package.json").version'): run 'make update-api-browser' and commit the result" >&2
      exit 1
    fi
  done
  echo "server/apibrowser/assets match the pinned rapidoc"
  exit 0
fi
mkdir -p "$dest"
for f in "${files[@]}" LICENSE.txt SHA256SUMS; do
  cp "$tmp/$f" "$dest/$f"
done
echo "copied rapidoc $(node -p 'require("./node_modules/rapidoc/package.json").version') into server/apibrowser/assets:"
cat "$dest/SHA256SUMS"
