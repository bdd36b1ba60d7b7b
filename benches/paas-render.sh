#!/usr/bin/env bash
# Whole-process `paas render` time (target: under 10 ms median for the seed's
# app.toml), with hyperfine from Debian (`apt-get install hyperfine`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p paas
hyperfine --warmup 20 --runs 200 -N \
  'target/release/paas render -e prod --app fixtures/app-toml/ok/userinfo.toml --service userinfo --image-tag 0123abc' \
  'target/release/paas render -e prod --app fixtures/app-toml/ok/kitchen-sink.toml --image-tag 0123abc' \
  "$@"
