#!/usr/bin/env bash
# vault2env: install RustyVault (`rvault`), the real Vault-compatible server
# the vault2env tests run against (token and AppRole auth, KV v1).
# Idempotent: skipped when `rvault` is already on the PATH.
# Cost: about 12 minutes of compilation on 2 shared cores (measured: 726 s).
set -euo pipefail

if command -v rvault >/dev/null 2>&1; then
  echo "rvault already installed: $(command -v rvault)"
  exit 0
fi

missing=()
for pkg in libssl-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Installs into ~/.cargo/bin, which is on the PATH of the CI shell.
cargo install rusty_vault --locked
command -v rvault
