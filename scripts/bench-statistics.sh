#!/usr/bin/env bash
# The usage statistics' benchmark, two parts:
#
# 1. What counting costs a page: requests/s of an abstract page and of a
#    PDF download with `[statistics] enabled = true` against `false`, on the
#    same repository in the same run (off, on, off, on; each 10 s, wrk -t2
#    -c16 with a browser's User-Agent, so every request is a visit that is
#    counted, not a robot's). The ratio on/off is the figure (goal >= 0.9).
# 2. The store: 10,000,000 events over 30 days and 1,000,000 items written
#    and rolled up (crates/arkiv-storage/examples/bench_usage.rs): events/s
#    each way, bytes per event and per item-day, peak memory.
#
#   scripts/bench-statistics.sh [RECORDS] [EVENTS]   (default: 20000 10000000)
#
# Results are printed and written into the "Usage statistics" section of
# BENCHMARKS.md (other sections are left alone). BENCH_STORE_FROM=FILE
# takes the store's figures from FILE (bench_usage's output of an earlier
# run) instead of running it again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${1:-20000}
EVENTS=${2:-10000000}
DURATION=${BENCH_DURATION:-10s}
OUT=bench-out
ARKIV=target/release/arkiv
SECTION="## Usage statistics"
UA="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/stats-run.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "== $*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
say "building arkiv and the store benchmark (release)"
cargo build --release
cargo build --release -p arkiv-storage --example bench_usage

dir="$OUT/stats-repo-$N"
if [ ! -f "$dir/.bench-complete" ] || [ "$(cat "$dir/.bench-complete")" != "$N" ]; then
  say "generating $N records with PDFs into $dir"
  rm -rf "$dir"
  "$ARKIV" init "$dir" >/dev/null
  ARKIV_LOG=error "$ARKIV" --repo "$dir" generate --count "$N" --seed 1 --pdfs 2>"$WORK/generate.log" \
    || { tail -n 20 "$WORK/generate.log" >&2; exit 1; }
  echo "$N" > "$dir/.bench-complete"
fi

# The load comes through 127.0.0.1 as through a proxy, so that the
# "new reader" rows are believed (see the README on trusted_proxies).
sed -i -E 's/^trusted_proxies = \[\]/trusted_proxies = ["127.0.0.1"]/' "$dir/arkiv.toml"

set_statistics() {
  sed -i -E "/^\[statistics\]/,/^\[/ s/^enabled = (true|false)/enabled = $1/" "$dir/arkiv.toml"
  grep -A3 '^\[statistics\]' "$dir/arkiv.toml" | grep -q "^enabled = $1" || { echo "error: cannot set [statistics] enabled" >&2; exit 1; }
}

# Waits until process $1 has been (nearly) idle for two seconds: a server
# over a repository whose search index is behind (generated records are not
# indexed, their PDFs' text is extracted) catches up first, and that must not
# be measured.
wait_idle() {
  local pid=$1 waited=0 a b
  while [ "$waited" -lt 1800 ]; do
    a=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep 2
    b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    # Idle, and no PDF-text child running (their time is not the server's).
    [ $(( b - a )) -lt 20 ] && ! pgrep -P "$pid" >/dev/null && return 0
    waited=$((waited + 2))
  done
  echo "== warning: the server is still busy after ${waited}s; measuring anyway" >&2
}

to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

# A new reader for every request: a random address in X-Forwarded-For,
# which the server believes from 127.0.0.1 (trusted_proxies below).
cat >"$WORK/readers.lua" <<'LUA'
-- Each wrk thread its own random stream (the same seed would give both
-- threads the same addresses, and every second request a double click).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
end
request = function()
  -- wrk.format takes these headers instead of -H's: copy those first.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format(nil, nil, headers)
end
LUA

# measure URL [LUA] -> "rps p99ms"
measure() {
  local lua=()
  [ -n "${2:-}" ] && lua=(-s "$2")
  wrk -t2 -c16 -d"$DURATION" --latency -H "User-Agent: $UA" "${lua[@]}" "$1" >"$WORK/wrk.txt"
  local bad
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$WORK/wrk.txt")
  [ -z "$bad" ] || { echo "error: $bad failed answers from $1" >&2; cat "$WORK/wrk.txt" >&2; exit 1; }
  echo "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk.txt") $(to_ms "$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")")"
}

export LC_NUMERIC=C
RESULTS="$WORK/results.tsv"   # mode page rps p99
: >"$RESULTS"
id=$(( N / 2 ))
for round in 1 2; do
  for mode in false true; do
    set_statistics "$mode"
    port=38400
    ARKIV_LOG=warn "$ARKIV" --repo "$dir" serve --listen "127.0.0.1:$port" 2>"$WORK/serve.log" &
    spid=$!
    PIDS+=("$spid")
    for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    wait_idle "$spid"
    page="http://127.0.0.1:$port/$id/"
    pdf="http://127.0.0.1:$port$(curl -s "$page" | grep -o "href=\"/$id/1/[^\"]*\.pdf\"" | head -n1 | sed 's/href="//; s/"$//')"
    wrk -t2 -c16 -d2s -H "User-Agent: $UA" "$page" >/dev/null
    read -r rps p99 <<<"$(measure "$page")"
    printf '%s\tabstract page, one reader\t%s\t%s\n' "$mode" "$rps" "$p99" >>"$RESULTS"
    read -r rps p99 <<<"$(measure "$page" "$WORK/readers.lua")"
    printf '%s\tabstract page, a new reader each request\t%s\t%s\n' "$mode" "$rps" "$p99" >>"$RESULTS"
    read -r rps p99 <<<"$(measure "$pdf")"
    printf '%s\tPDF download\t%s\t%s\n' "$mode" "$rps" "$p99" >>"$RESULTS"
    anon=$(awk '/^RssAnon:/ {printf "%.0f", $2 / 1024}' "/proc/$spid/status")
    printf '%s\tmemory\t%s\t0\n' "$mode" "$anon" >>"$RESULTS"
    # Ctrl-C: the server writes what is queued and says what it dropped.
    kill -INT "$spid"; wait "$spid" 2>/dev/null || true
    dropped=$(grep -o 'dropped=[0-9]*' "$WORK/serve.log" | tail -n1 | cut -d= -f2 || true)
    printf '%s\tdropped\t%s\t0\n' "$mode" "${dropped:-0}" >>"$RESULTS"
    say "round $round, statistics $mode: $(tail -n 5 "$RESULTS" | tr '\n' ' ')"
  done
done
set_statistics true
written=$(grep -c . "$WORK/serve.log" || true)

say "the store: $EVENTS events"
if [ -n "${BENCH_STORE_FROM:-}" ]; then
  # The store's figures of an earlier run (it takes minutes), same code.
  cp "$BENCH_STORE_FROM" "$WORK/store.txt"
else
  "target/release/examples/bench_usage" "$EVENTS" >"$WORK/store.txt"
fi
cat "$WORK/store.txt" >&2

table=$(awk -F'\t' '
  $2 != "memory" && $2 != "dropped" { sum[$1 "\t" $2] += $3; n[$1 "\t" $2]++; if ($4 > p99[$1 "\t" $2]) p99[$1 "\t" $2] = $4 }
  $2 == "memory" { mem[$1] = $3 }
  $2 == "dropped" { dropped += $3 }
  END {
    split("abstract page, one reader|abstract page, a new reader each request|PDF download", pages, "|")
    for (i = 1; i <= 3; i++) {
      p = pages[i]; off = sum["false\t" p] / n["false\t" p]; on = sum["true\t" p] / n["true\t" p]
      printf "| %s | %.0f | %.0f | %.2f | %s | %s |\n", p, off, on, on / off, p99["false\t" p], p99["true\t" p]
    }
    printf "\nServer memory after the runs (anonymous RSS): %s MB with statistics off, %s MB on. Visits dropped because the queue to the database was full (the server says so at shutdown), over both rounds with statistics on: %d.\n", mem["false"], mem["true"], dropped
  }' "$RESULTS")

machine="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM; $(rustc --version); $(date -u '+%Y-%m-%d %H:%M UTC')"
section="$SECTION

What counting views and downloads costs, and what the statistics keep.
Reproduce with:

    scripts/bench-statistics.sh $N $EVENTS

- Machine: $machine.
- Pages: a repository of $N generated records with PDFs (\`arkiv generate --count $N --seed 1 --pdfs\`,
  SQLite), served by \`arkiv serve\` with \`[statistics] enabled = false\`, then \`true\`, twice over;
  wrk -t2 -c16, $DURATION per row, a browser's User-Agent (so each request is a counted visit,
  not a robot's), the abstract page \`/$id/\` and its PDF. \"One reader\": every request from the
  same address, so all but one in 30 s are double clicks, merged in memory; \"a new reader each
  request\": a random address in \`X-Forwarded-For\` (the server trusts 127.0.0.1 as a proxy), so
  every request is a view written to the database. Figures are the mean of the two rounds, p99
  the worse of them.

| answer | requests/s, statistics off | requests/s, on | on / off | p99 off (ms) | p99 on (ms) |
|---|---:|---:|---:|---:|---:|
$table

- The store (\`cargo run --release -p arkiv-storage --example bench_usage -- $EVENTS\`, SQLite):

\`\`\`
$(cat "$WORK/store.txt")
\`\`\`

How cost grows: writing an event is a row appended to one table with one
index; a roll-up reads one hour of events at a time (memory bounded by the
busiest hour, not by the total) and adds to one daily and one monthly row per
item used that hour, so its cost grows with the events and the items used,
never with the size of the repository. An abstract page reads its item's
monthly rows: one index range, at most twelve rows a year of the item's life.
"
python3 - "$section" <<'EOF'
import re, sys
section = sys.argv[1].rstrip() + "\n"
text = open("BENCHMARKS.md").read()
start = text.find("## Usage statistics")
if start < 0:
    text = text.rstrip() + "\n\n" + section
else:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end:] if end >= 0 else "")
open("BENCHMARKS.md", "w").write(text)
EOF
say "written to BENCHMARKS.md"
