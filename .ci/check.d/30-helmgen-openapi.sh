#!/usr/bin/env bash
# helmgen's served /openapi.json is a valid OpenAPI 3.1 document
# (openapi-spec-validator from the venv of 10-python-checkers.sh).
# Starts `helmgen serve` on a free loopback port, fetches the document, stops it.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${CARGO_TARGET_DIR:-target}/debug/helmgen"
# `cargo test --workspace` has built it already; building it alone with
# `-p helmgen` could rebuild dependencies under other features.
[ -x "$bin" ] || cargo build -q -p helmgen
tmp="$(mktemp -d)"
"$bin" serve --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  grep -q 'listening on' "$tmp/out" && break
  sleep 0.1
done
url="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/out" | head -1)"
[ -n "$url" ] || { echo "helmgen did not start:"; cat "$tmp/err"; exit 1; }
.venv/bin/python - "$url/openapi.json" "$tmp/openapi.json" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    open(sys.argv[2], "wb").write(r.read())
PY
.venv/bin/python -m openapi_spec_validator "$tmp/openapi.json"
