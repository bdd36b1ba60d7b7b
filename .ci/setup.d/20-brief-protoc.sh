#!/usr/bin/env bash
# protoc (Debian protobuf-compiler), for .ci/check.d/20-brief-protoc.sh and
# benches/brief/compare.sh. Idempotent; about 10 s when not yet installed.
set -euo pipefail
if ! command -v protoc >/dev/null; then
  apt-get install -y --no-install-recommends protobuf-compiler
fi
protoc --version
