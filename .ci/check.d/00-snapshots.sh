#!/usr/bin/env bash
# Snapshots that cannot lie: no pending snapshot may exist after the tests,
# and every committed snapshot must have been used by a test
# (insta records the ones it used in INSTA_SNAPSHOT_REFERENCES_FILE).
set -euo pipefail
cd "$(dirname "$0")/../.."
pending=$(find . -path ./target -prune -o \( -name '*.snap.new' -o -name '*.pending-snap' \) -print)
if [ -n "$pending" ]; then
  echo "pending (unreviewed) snapshots:"; echo "$pending"; exit 1
fi
refs=${INSTA_SNAPSHOT_REFERENCES_FILE:-target/insta-references.txt}
[ -s "$refs" ] || { echo "no snapshot references recorded in $refs"; exit 1; }
unreferenced=$(comm -23 \
  <(git ls-files -- '*.snap' | xargs -r realpath | sort -u) \
  <(xargs -r -d '\n' realpath < "$refs" | sort -u))
if [ -n "$unreferenced" ]; then
  echo "unreferenced snapshots (delete them or add their test back):"; echo "$unreferenced"; exit 1
fi
echo "snapshots: $(git ls-files -- '*.snap' | wc -l) committed, all referenced, none pending"
