#!/usr/bin/env bash
# vault2env ships as one static executable (docs/vault2env.md, "Name
# resolution and the static binary"). This builds it exactly as it ships
# (benches/vault2env-static.sh: +crt-static on x86_64-unknown-linux-gnu, its
# own target directory under target/), checks with file and ldd that it is
# static, strips a copy and prints its size (and fails at 3 MB or more), then
# runs the stripped copy against the repository's Vault test server
# (vault-testserver) by IP, by `localhost` and by a loopback name of
# /etc/hosts: exit 0, the expected names, the secret values received by the
# child, and no secret value, JWT or token in anything vault2env printed.
# Cost: the release build of vault2env and its dependencies, measured at
# 111 s from a clean target directory (57 s of CPU) on 2 shared cores at
# load 5-6; 0.6 s in all when the build is up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=$(benches/vault2env-static.sh)
work=$(mktemp -d)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "file: $(file -b "$bin")"
file -b "$bin" | grep -Eq 'static(-pie)? linked' || { echo "vault2env is not statically linked"; exit 1; }
ldd_out=$(ldd "$bin" 2>&1 || true)
echo "ldd: $(echo "$ldd_out" | tr '\n' ' ')"
grep -Eq 'statically linked|not a dynamic executable' <<< "$ldd_out" || { echo "ldd lists shared libraries"; exit 1; }
if readelf -lW "$bin" | grep -q 'INTERP'; then echo "vault2env has a program interpreter"; exit 1; fi

stripped="$work/vault2env"
strip -o "$stripped" "$bin"
size=$(stat -c %s "$stripped")
echo "stripped static size: $size bytes ($(awk -v s="$size" 'BEGIN{printf "%.2f", s/1048576}') MiB; target < 3 MB)"
[ "$size" -lt 3000000 ] || { echo "the stripped static binary is 3 MB or more"; exit 1; }

# The test server (the workspace tests built it; building it alone could
# rebuild dependencies under other features).
server="${CARGO_TARGET_DIR:-target}/debug/vault-testserver"
[ -x "$server" ] || cargo build -q -p vault-testserver --bin vault-testserver
jwt="ci-static-jwt-$RANDOM$RANDOM-must-not-leak"
token="s.ci-static-token-$RANDOM$RANDOM"
"$server" --jwt "$jwt" --token "$token" > "$work/server.out" &
srv_pid=$!
for _ in $(seq 100); do grep -q '^VAULT_ADDR=' "$work/server.out" 2>/dev/null && break; sleep 0.05; done
addr=$(sed -n 's/^VAULT_ADDR=//p' "$work/server.out")
[ -n "$addr" ] || { echo "vault-testserver did not start"; exit 1; }
port=${addr##*:}
printf '%s\n' "$jwt" > "$work/jwt"

# The demo dataset (vault-testserver --help): 12 keys in billing,
# billing/db and billing/partners/acme, values demo-value-<i>.
expected="ACME_KEY_0 ACME_KEY_1 ACME_KEY_2 BILLING_KEY_0 BILLING_KEY_1 BILLING_KEY_2 BILLING_KEY_3 BILLING_KEY_4 BILLING_KEY_5 DB_KEY_0 DB_KEY_1 DB_KEY_2"
# The child compares values itself and prints nothing.
child='[ "$BILLING_KEY_5" = demo-value-5 ] && [ "$DB_KEY_0" = demo-value-0 ] && [ "$ACME_KEY_2" = demo-value-2 ] && [ -z "${VAULT2ENV_TOKEN_FILE:-}" ]'

hosts=(127.0.0.1 localhost)
# A loopback name of /etc/hosts other than localhost (which vault2env would
# resolve to loopback even without the hosts file): the static binary reads
# the hosts file itself.
hosts_name=$(awk '$1 == "127.0.0.1" { for (i = 2; i <= NF; i++) if ($i !~ /^#/ && $i != "localhost" && $i !~ /\.localhost$/) { print $i; exit } }' /etc/hosts)
if [ -n "$hosts_name" ]; then hosts+=("$hosts_name"); else echo "no loopback name besides localhost in /etc/hosts"; fi

leaks() { grep -Fq -e demo-value -e "$jwt" -e "$token" -e hvs. "$@"; }
for host in "${hosts[@]}"; do
  run=(env -i PATH=/usr/bin:/bin VAULT_ADDR="http://$host:$port" VAULT2ENV_NAMESPACE=billing
    VAULT2ENV_TOKEN_FILE="$work/jwt" VAULT2ENV_TIMEOUT=10s "$stripped")
  code=0
  "${run[@]}" --check > "$work/out" 2> "$work/err" || code=$?
  if leaks "$work/out" "$work/err"; then echo "$host: a secret value leaked into the output of --check"; exit 1; fi
  [ "$code" -eq 0 ] || { echo "$host: --check exited $code"; cat "$work/err"; exit 1; }
  names=$(tr '\n' ' ' < "$work/out" | sed 's/ $//')
  [ "$names" = "$expected" ] || { echo "$host: --check listed: $names"; exit 1; }
  code=0
  "${run[@]}" -- /bin/sh -c "$child" > "$work/out" 2> "$work/err" || code=$?
  if leaks "$work/out" "$work/err"; then echo "$host: a secret value leaked into vault2env's output"; exit 1; fi
  [ "$code" -eq 0 ] || { echo "$host: vault2env -- <child> exited $code"; cat "$work/err"; exit 1; }
  echo "by $host: ok ($(tail -n 1 "$work/err"))"
done
echo "vault2env static binary: static, $size bytes stripped, ran by ${hosts[*]}"
