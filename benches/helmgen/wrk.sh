#!/usr/bin/env bash
# helmgen throughput on loopback against the in-process render rate, in one
# run on the same machine (../shared/spec/benchmarks.md: wrk, 2 threads, 32
# connections, POST /v1/render; target at least 80% of the in-process rate;
# p99 reported; memory flat over a long run).
#
#   benches/helmgen/wrk.sh                  # 30 s of wrk
#   DURATION=60s SOAK_MINUTES=10 benches/helmgen/wrk.sh
#   PIN=1 benches/helmgen/wrk.sh            # server on CPU 0, wrk on CPU 1
#
# Unpinned, wrk shares the two cores with the server (the spec's setup), so
# the ratio also pays for wrk's own CPU. PIN=1 gives the server one core to
# itself and compares it with the one-thread in-process rate: the ratio is
# then the server's own efficiency (HTTP, logging, the loopback write).
#
# Needs Debian's wrk (`apt-get install -y --no-install-recommends wrk`).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-30s}
SOAK_MINUTES=${SOAK_MINUTES:-0}
PIN=${PIN:-0}
if [ "$PIN" = 1 ]; then SERVE=(taskset -c 0); LOAD=(taskset -c 1); else SERVE=(); LOAD=(); fi
PORT=${PORT:-18088}
TARGET=${CARGO_TARGET_DIR:-target}
APP=fixtures/app-toml/ok/wordcounter.toml
URL="http://127.0.0.1:$PORT/v1/render?env=prod&image_tag=abc123"

echo "== in-process rate (criterion, benches/helmgen.rs)"
cargo bench -q -p paas-benches --bench helmgen -- --noplot 'helmgen/render' >/dev/null
median_ns() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['median']['point_estimate'])" "$TARGET/criterion/helmgen/$1/new/estimates.json"; }
ONE=$(median_ns render_1-thread)
TWO=$(median_ns render_2-threads)
python3 -c "import sys; o,t=map(float,sys.argv[1:]); print(f'1 thread : {o/1000:.1f} us/render = {1e9/o:.0f} renders/s'); print(f'2 threads: {t/1000:.1f} us/render = {1e9/t:.0f} renders/s')" "$ONE" "$TWO"

echo "== helmgen serve + wrk -t2 -c32 -d$DURATION"
cargo build -q --release -p helmgen
"${SERVE[@]}" "$TARGET/release/helmgen" serve --listen "127.0.0.1:$PORT" 2>/dev/null >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$PID/status"; }
echo "RSS at start: $(rss)"
export HELMGEN_APP="$PWD/$APP"
"${LOAD[@]}" wrk -t2 -c32 -d5s -s benches/helmgen/post.lua "$URL" >/dev/null   # warm-up
echo "RSS after warm-up: $(rss)"
# CPU time of the server (utime + stime, in clock ticks) around the run: the
# CPU per request is robust to the noise of a shared machine, the rate is not.
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
CPU0=$(cpu)
# wrk's own CPU, from GNU time when it is installed (Debian package `time`).
WRKCPU=$(mktemp)
if [ -x /usr/bin/time ]; then TIMEIT=(/usr/bin/time -o "$WRKCPU" -f '%U %S'); else TIMEIT=(); fi
OUT=$("${TIMEIT[@]}" "${LOAD[@]}" wrk -t2 -c32 -d"$DURATION" --latency -s benches/helmgen/post.lua "$URL")
CPU1=$(cpu)
echo "$OUT"
RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
REQS=$(echo "$OUT" | awk '/requests in/ {print $1}')
P99=$(echo "$OUT" | awk '$1 == "99%" {print $2}')
if [ "$PIN" = 1 ]; then BASE=$ONE; CORES="1 core, 1 thread"; else BASE=$TWO; CORES="2 threads"; fi
python3 -c "import sys; r,t=float(sys.argv[1]),float(sys.argv[2]); print(f'wrk: {r:.0f} req/s, p99 {sys.argv[3]}; in-process ({sys.argv[4]}) {1e9/t:.0f} renders/s; ratio {r*t/1e9*100:.0f}% (target >= 80%)')" "$RPS" "$BASE" "$P99" "$CORES"
python3 -c "import sys; c0,c1,n,one,hz=map(float,sys.argv[1:]); us=(c1-c0)/hz*1e6/n; print(f'server CPU: {us:.0f} us per request vs {one/1000:.0f} us per in-process render (1 thread): {one/1000/us*100:.0f}% of the server CPU is the render')" "$CPU0" "$CPU1" "$REQS" "$ONE" "$(getconf CLK_TCK)"
if [ -s "$WRKCPU" ]; then
  # Unpinned, wrk's CPU comes out of the same two cores, so even a server
  # whose only cost is the render cannot exceed 2 cores / (render + wrk).
  python3 -c "import sys; u,s=map(float,open(sys.argv[1]).read().split()); n,one,two=map(float,sys.argv[2:]); w=(u+s)*1e9/n; print(f'wrk CPU: {w/1000:.0f} us per request; unpinned ceiling for a server that only renders: 2 cores / ({one/1000:.0f} + {w/1000:.0f}) us = {2*two/(one+w)*100:.0f}% of the in-process rate')" "$WRKCPU" "$REQS" "$ONE" "$TWO"
fi
rm -f "$WRKCPU"
echo "RSS after the wrk run: $(rss)"

if [ "$SOAK_MINUTES" != 0 ]; then
  echo "== soak: $SOAK_MINUTES minutes of wrk, RSS every minute"
  for m in $(seq "$SOAK_MINUTES"); do
    R=$("${LOAD[@]}" wrk -t2 -c32 -d60s -s benches/helmgen/post.lua "$URL" | awk '/Requests\/sec/ {print $2}')
    echo "minute $m: $R req/s, RSS $(rss)"
  done
fi
kill -TERM $PID; wait $PID || true
