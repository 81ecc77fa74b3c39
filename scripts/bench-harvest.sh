#!/usr/bin/env bash
# The harvesting benchmark: one Arkiv harvests another over OAI-PMH.
#
#   scripts/bench-harvest.sh [COUNTS...]        (default: 100000)
#
# For each count it makes (once; cached in bench-out/pages-repo-N, shared
# with bench-oai.sh and bench-pages.sh) a source repository of N generated
# records and serves it with `arkiv serve` on 127.0.0.1. Then, for each
# metadata format in BENCH_PREFIXES (default "oai_dc ep3"), a fresh
# repository runs `arkiv harvest URL --prefix P` under /usr/bin/time: a
# full harvest (records/s, peak RSS of the harvester), then a second,
# incremental run (nothing changed: its wall time). The source server and
# the harvester share the machine's cores. Prints a Markdown table; the
# "OAI-PMH harvesting" section of BENCHMARKS.md keeps the rows by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(100000)
PREFIXES=${BENCH_PREFIXES:-"oai_dc ep3"}
OUT=bench-out
say() { echo "bench-harvest: $*" >&2; }

cargo build --release --locked >&2
ARKIV=${CARGO_TARGET_DIR:-target}/release/arkiv
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/harvest-run.XXXXXX")
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "error: no free port from $1" >&2; exit 1
}

build=$(git rev-parse --short HEAD)
echo "| build | records | format | full harvest | records/s | harvester peak RSS | incremental run (nothing new) |"
echo "|---|---:|---|---:|---:|---:|---:|"
for n in "${COUNTS[@]}"; do
  dir="$OUT/pages-repo-$n"
  if ! { [ -f "$dir/.bench-complete" ] && [ "$(cat "$dir/.bench-complete")" = "$n" ]; }; then
    say "generating $n records into $dir"
    rm -rf "$dir"
    "$ARKIV" init "$dir" >/dev/null
    ARKIV_LOG=error "$ARKIV" --repo "$dir" generate --count "$n" --seed 1 >&2
    echo "$n" >"$dir/.bench-complete"
  fi
  port=$(free_port 38500)
  ARKIV_LOG=warn "$ARKIV" --repo "$dir" serve --listen "127.0.0.1:$port" 2>"$WORK/serve.log" &
  SERVER=$!
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$port/oai2?verb=Identify" && break; sleep 0.1; done
  # A server over generated records indexes them first: wait until idle.
  while :; do
    a=$(awk '{print $14 + $15}' "/proc/$SERVER/stat"); sleep 2
    b=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
    [ $((b - a)) -lt 20 ] && break
  done
  for prefix in $PREFIXES; do
    target="$WORK/target-$prefix"
    "$ARKIV" init "$target" >/dev/null
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$ARKIV" --repo "$target" harvest "http://127.0.0.1:$port/oai2" \
      --prefix "$prefix" --name bench >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err" >&2; exit 1; }
    read -r secs kb <"$WORK/time"
    created=$(sed -n 's/^bench: \([0-9]*\) created.*/\1/p' "$WORK/out")
    [ "$created" = "$n" ] || { say "expected $n records, the harvest says: $(cat "$WORK/out")"; exit 1; }
    /usr/bin/time -f "%e" -o "$WORK/time2" "$ARKIV" --repo "$target" harvest "http://127.0.0.1:$port/oai2" \
      --prefix "$prefix" --name bench >/dev/null 2>&1
    again=$(cat "$WORK/time2")
    LC_NUMERIC=C awk -v b="$build" -v n="$n" -v p="$prefix" -v s="$secs" -v kb="$kb" -v again="$again" 'BEGIN {
      printf "| `%s` | %\047d | %s | %.1f s | %\047d | %d MB | %.2f s |\n", b, n, p, s, n / s, kb / 1024, again }'
    rm -rf "$target"
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
done
