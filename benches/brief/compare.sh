#!/usr/bin/env bash
# Whole-process comparison of `brief check` / `brief gen rust` against
# `protoc -o /dev/null` / `protoc --cpp_out` on the same schema (2,000
# messages, 500 rpcs; the .proto is `brief gen proto` of it, which protoc
# accepts). Needs hyperfine and protoc (Debian: hyperfine, protobuf-compiler).
# Prints hyperfine's tables and the ratios of medians measured in this run.
# Usage: benches/brief/compare.sh [path/to/brief]   (default: builds release)
set -euo pipefail
cd "$(dirname "$0")/../.."
BRIEF=${1:-}
if [ -z "$BRIEF" ]; then
  cargo build --release -q -p brief
  BRIEF="${CARGO_TARGET_DIR:-target}/release/brief"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/brief/gen_schema.py "$work/bench.brief"
"$BRIEF" gen proto "$work/bench.brief" --out "$work/bench.proto"
mkdir -p "$work/rs" "$work/cpp"
echo "schema: $(grep -c '^message' "$work/bench.brief") messages, $(grep -c '^rpc' "$work/bench.brief") rpcs, $(wc -l < "$work/bench.brief") lines"

run() { # name, command...
  local name=$1; shift
  hyperfine --warmup 3 --min-runs 15 -N --export-json "$work/$name.json" "$@" >&2
}
run check "$BRIEF check $work/bench.brief"
run protoc_check "protoc -I$work -o /dev/null $work/bench.proto"
run gen "$BRIEF gen rust $work/bench.brief --out $work/rs"
run protoc_cpp "protoc -I$work --cpp_out=$work/cpp $work/bench.proto"

python3 - "$work" <<'PY'
import json, statistics, sys
w = sys.argv[1]
med = {n: statistics.median(json.load(open(f"{w}/{n}.json"))["results"][0]["times"]) * 1000
       for n in ["check", "protoc_check", "gen", "protoc_cpp"]}
# CPU time (user + system, means) is steadier than wall time on a loaded machine.
cpu = {}
for n in med:
    r = json.load(open(f"{w}/{n}.json"))["results"][0]
    cpu[n] = (r["user"] + r["system"]) * 1000
for n, v in med.items():
    print(f"{n:>13}: median {v:8.2f} ms wall, {cpu[n]:8.2f} ms cpu")
print(f"brief check    vs protoc -o /dev/null: {med['protoc_check'] / med['check']:.1f}x faster wall, "
      f"{cpu['protoc_check'] / cpu['check']:.1f}x cpu (target >= 5x)")
print(f"brief gen rust vs protoc --cpp_out:    {med['protoc_cpp'] / med['gen']:.1f}x faster wall, "
      f"{cpu['protoc_cpp'] / cpu['gen']:.1f}x cpu (target >= 10x)")
PY
