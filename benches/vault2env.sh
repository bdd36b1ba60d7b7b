#!/usr/bin/env bash
# vault2env whole-process figures: stripped static binary size, start-to-exec
# time and peak RSS against a local Vault-API test server, by IP and by name,
# then the criterion bench (round trips vs. the library's whole path).
#
#   benches/vault2env.sh            # everything
#   SKIP_CRITERION=1 benches/vault2env.sh
#
# The static binary is built by benches/vault2env-static.sh, exactly as CI
# builds and checks it (.ci/check.d/40-vault2env-static.sh): glibc with
# `-C target-feature=+crt-static` (musl cannot be installed on these
# machines), size-optimised release profile, in target/vault2env-static.
# vault2env never calls getaddrinfo (static glibc cannot load NSS modules):
# it reads /etc/hosts and asks the nameservers of /etc/resolv.conf itself;
# the "by name" runs below check exactly that.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=$(benches/vault2env-static.sh)
cargo build --release -q -p vault-testserver --bin vault-testserver
SERVER="${CARGO_TARGET_DIR:-target}/release/vault-testserver"

echo "== binary"
file -b "$BIN" | cut -d, -f1-5
file "$BIN" | grep -q "static" || { echo "NOT static"; exit 1; }
size=$(stat -c %s "$BIN")
echo "stripped static size: $size bytes ($(awk -v s="$size" 'BEGIN{printf "%.2f", s/1048576}') MiB; target < 3 MiB)"

work=$(mktemp -d)
cleanup() { [ -n "${srv_pid:-}" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$SERVER" > "$work/server.out" &
srv_pid=$!
for _ in $(seq 100); do grep -q VAULT_ADDR "$work/server.out" 2>/dev/null && break; sleep 0.05; done
addr=$(sed -n 's/^VAULT_ADDR=//p' "$work/server.out")
port=${addr##*:}
printf 'bench-jwt' > "$work/jwt"

run_env=(env -i PATH=/usr/bin:/bin VAULT2ENV_NAMESPACE=billing VAULT2ENV_TOKEN_FILE="$work/jwt")
for host in 127.0.0.1 localhost; do
  echo "== by ${host}: --check"
  "${run_env[@]}" VAULT_ADDR="http://$host:$port" "$BIN" --check | tr '\n' ' '; echo
done

echo "== peak RSS (vault2env -- /bin/true; the max over the process, exec'd true included)"
/usr/bin/time -v "${run_env[@]}" VAULT_ADDR="http://localhost:$port" "$BIN" -- /bin/true 2> "$work/time" || true
grep -E "Maximum resident set size|Exit status" "$work/time"

if command -v hyperfine >/dev/null; then
  echo "== start to exec (hyperfine, medians; overhead = vault2env - /bin/true - round trips from criterion)"
  hyperfine -N -w 20 -m 200 --export-json "$work/h.json" \
    "/bin/true" \
    "${run_env[*]} VAULT_ADDR=http://127.0.0.1:$port $BIN -- /bin/true" \
    "${run_env[*]} VAULT_ADDR=http://localhost:$port $BIN -- /bin/true" >/dev/null
  python3 - "$work/h.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    cmd = r["command"].split(" VAULT_ADDR=")[-1][:60]
    print(f'{r["median"]*1e3:8.3f} ms median  (min {r["min"]*1e3:.3f})  {cmd}')
PY
fi

if [ -z "${SKIP_CRITERION:-}" ]; then
  echo "== criterion"
  VAULT2ENV_BIN="$BIN" cargo bench -q -p paas-benches --bench vault2env
fi
