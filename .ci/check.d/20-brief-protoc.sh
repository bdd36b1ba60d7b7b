#!/usr/bin/env bash
# protoc must accept `brief gen proto` of every ok Brief fixture, and
# hand-written fixtures must be `brief fmt --check`-clean; also `brief check` exits 0
# on ok fixtures and 1 on err fixtures. About 5 s after the workspace build.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q -p brief
brief="${CARGO_TARGET_DIR:-target}/debug/brief"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for f in fixtures/brief/ok/*.brief; do
  out="$work/$(basename "$f" .brief | tr '.-' '__').proto"
  "$brief" gen proto "$f" --out "$out"
  (cd "$work" && protoc -I. -o /dev/null "$(basename "$out")") || { echo "protoc rejected brief gen proto $f"; exit 1; }
  n=$((n + 1))
done
"$brief" check --color never fixtures/brief/ok/*.brief 2>/dev/null
for f in fixtures/brief/err/*.brief; do
  if "$brief" check --color never "$f" >/dev/null 2>&1; then
    # warnings-only fixtures exit 0 by design; they must still report something
    json=$("$brief" check --format json "$f" || true)
    grep -q '"code"' <<< "$json" || { echo "$f: no diagnostics"; exit 1; }
  fi
done
# Hand-written fixtures are kept in canonical form (summer* and events.brief
# are the spec's copies, byte for byte, and deliberately are not: the fmt
# tests use them).
"$brief" fmt --check fixtures/brief/ok/shop*.brief fixtures/brief/compat/*.brief fixtures/brief/rust/*.brief fixtures/brief/gen/*.brief
echo "brief: protoc accepted $n generated .proto files"
