#!/usr/bin/env bash
# Whole-process comparison of `brief check` / `brief gen rust` against
# `protoc -o /dev/null` / `protoc --cpp_out` on the same schema (2,000
# messages, 500 rpcs; the .proto is `brief gen proto` of it, which protoc
# accepts). Needs hyperfine and protoc (Debian: hyperfine, protobuf-compiler).
#
# `brief gen rust` runs rustfmt over its output by default (when rustfmt is on
# PATH), so it is measured twice, each mode named explicitly:
#   gen_no_rustfmt  `brief gen rust --no-rustfmt`: the generator alone. This is
#                   the figure compared with `protoc --cpp_out`, which does not
#                   format its output either (target >= 10x).
#   gen_rustfmt     `brief gen rust` with rustfmt (the default), reported
#                   beside it; skipped, and said so, when rustfmt is missing.
# Prints hyperfine's tables and the ratios of medians measured in this run.
# Usage: benches/brief/compare.sh [path/to/brief]   (default: builds release)
set -euo pipefail
cd "$(dirname "$0")/../.."
BRIEF=${1:-}
if [ -z "$BRIEF" ]; then
  cargo build --release -q -p brief
  BRIEF="${CARGO_TARGET_DIR:-target}/release/brief"
fi
for tool in hyperfine protoc python3; do
  command -v "$tool" >/dev/null || { echo "compare.sh needs $tool (apt-get install -y hyperfine protobuf-compiler)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/brief/gen_schema.py "$work/bench.brief"
"$BRIEF" gen proto "$work/bench.brief" --out "$work/bench.proto"
mkdir -p "$work/rs" "$work/rs_fmt" "$work/cpp"
echo "schema: $(grep -c '^message' "$work/bench.brief") messages, $(grep -c '^rpc' "$work/bench.brief") rpcs, $(wc -l < "$work/bench.brief") lines"
echo "brief: $BRIEF; $(protoc --version); hyperfine $(hyperfine --version | cut -d' ' -f2)"
if command -v rustfmt >/dev/null; then
  echo "rustfmt: $(rustfmt --version)"
  has_rustfmt=1
else
  echo "rustfmt: not on PATH; the with-rustfmt run is skipped"
  has_rustfmt=0
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # name, command...
  local name=$1; shift
  hyperfine --warmup 3 --min-runs 15 -N --export-json "$work/$name.json" "$@" >&2
}
run check "$BRIEF check $work/bench.brief"
run protoc_check "protoc -I$work -o /dev/null $work/bench.proto"
run gen_no_rustfmt "$BRIEF gen rust --no-rustfmt $work/bench.brief --out $work/rs"
names="check protoc_check gen_no_rustfmt"
if [ "$has_rustfmt" = 1 ]; then
  run gen_rustfmt "$BRIEF gen rust $work/bench.brief --out $work/rs_fmt"
  names="$names gen_rustfmt"
  if cmp -s "$work/rs/bench.rs" "$work/rs_fmt/bench.rs"; then
    echo "rustfmt changed nothing in the generated $(wc -l < "$work/rs/bench.rs")-line module"
  else
    echo "rustfmt changed the generated module (the generator's layout differs from rustfmt's)"
  fi
fi
run protoc_cpp "protoc -I$work --cpp_out=$work/cpp $work/bench.proto"
names="$names protoc_cpp"

python3 - "$work" $names <<'PY'
import json, statistics, sys
w, names = sys.argv[1], sys.argv[2:]
res = {n: json.load(open(f"{w}/{n}.json"))["results"][0] for n in names}
med = {n: statistics.median(r["times"]) * 1000 for n, r in res.items()}
# CPU time (user + system, means) is steadier than wall time on a loaded machine.
cpu = {n: (r["user"] + r["system"]) * 1000 for n, r in res.items()}
for n in names:
    print(f"{n:>15}: median {med[n]:9.2f} ms wall, {cpu[n]:9.2f} ms cpu")
def ratio(label, fast, slow, target):
    print(f"{label}: {med[slow] / med[fast]:.1f}x faster wall, "
          f"{cpu[slow] / cpu[fast]:.1f}x cpu ({target})")
ratio("brief check                   vs protoc -o /dev/null", "check", "protoc_check", "target >= 5x")
ratio("brief gen rust --no-rustfmt   vs protoc --cpp_out   ", "gen_no_rustfmt", "protoc_cpp", "target >= 10x")
if "gen_rustfmt" in med:
    ratio("brief gen rust (with rustfmt) vs protoc --cpp_out   ", "gen_rustfmt", "protoc_cpp", "no target: rustfmt's time")
PY
