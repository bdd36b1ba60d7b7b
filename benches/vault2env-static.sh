#!/usr/bin/env bash
# Builds vault2env as it ships: one static executable. The one place that
# says how; benches/vault2env.sh and .ci/check.d/40-vault2env-static.sh both
# call it, and docs/vault2env.md quotes it.
#
#   benches/vault2env-static.sh     # prints the binary's path on stdout
#
# - glibc with `-C target-feature=+crt-static` on x86_64-unknown-linux-gnu
#   (the musl target cannot be installed on our build machines). vault2env
#   never calls getaddrinfo, so the NSS modules static glibc cannot load are
#   never needed (see docs/vault2env.md, "Name resolution").
# - `--target` is given explicitly so that RUSTFLAGS reach only the target
#   crates: build scripts and proc macros are built for the host without
#   +crt-static, as usual.
# - Release profile with vault2env's size settings on top of the
#   workspace's (LTO, one codegen unit): opt-level "s", panic = abort, no
#   debug info, symbols stripped.
# - Its own target directory (default target/vault2env-static; set
#   VAULT2ENV_STATIC_TARGET_DIR to move it), since RUSTFLAGS differ from the
#   workspace build's and would otherwise rebuild it.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-gnu
target_dir="${VAULT2ENV_STATIC_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/vault2env-static}"
env -u CARGO_ENCODED_RUSTFLAGS \
  CARGO_TARGET_DIR="$target_dir" \
  RUSTFLAGS="-C target-feature=+crt-static" \
  CARGO_PROFILE_RELEASE_LTO=true \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_PANIC=abort \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
  CARGO_PROFILE_RELEASE_DEBUG=false \
  CARGO_PROFILE_RELEASE_STRIP=symbols \
  cargo build --release -q -p vault2env --bin vault2env --target "$TARGET" >&2
echo "$target_dir/$TARGET/release/vault2env"
