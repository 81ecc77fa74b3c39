#!/usr/bin/env bash
# The whole-repository benchmark through HTTP (issue 33): what a visitor
# and a crawler meet, and what building the repository costs, at N records.
#
#   scripts/bench-http.sh [N]        (default 100000; the goals are stated
#                                     at 1000000 and 10000000)
#
# In order, on a fresh SQLite repository under bench-out/:
# 1. `arkiv import eprints-xml` of N generated records (bench-out/gen-N.xml,
#    made once by `arkiv generate --count N --seed 1`): wall time, records/s,
#    peak RSS (/usr/bin/time);
# 2. `arkiv serve` on 127.0.0.1: the time until /ready answers 200 (the
#    search index caught up with the load), and until the Cite box's
#    citations are rendered ahead (/metrics), then the server left idle;
# 3. wrk (BENCH_DURATION each, 10s by default; no Accept-Encoding, so no
#    compression) against:
#    - the search page and /api/search over a fixed list of queries (below:
#      common and rare words, phrases, facet filters, one broad query that
#      hits about a third of the repository), round robin, c=8;
#    - first views of abstract pages: every request a different record (ids
#      walked in a scattered order, none twice), c=1 and c=16;
#    - the home page, the largest year's browse page and one record's
#      BibTeX export, c=16;
# 4. a full OAI-PMH ListRecords harvest (oai_dc) by a small Python client
#    following resumption tokens: records/s;
# 5. the server's anonymous resident memory (RssAnon), sampled every half
#    second throughout, its peak; the repository's bytes on disk per record;
# 6. the server stopped, `arkiv reindex`: wall time, records/s, peak RSS.
#
# Prints a Markdown table (one row per figure, with the goal beside it) and
# the query list; BENCHMARKS.md's "Through HTTP at scale" section keeps the
# rows by hand, with the date and machine. CI does not run this: at
# 1,000,000 records it takes about 15 minutes. wrk and Python 3 come from
# Debian (wrk installed if missing, as root); everything shares the
# machine's cores, client included.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/wrk-figures.sh

N=${1:-100000}
DURATION=${BENCH_DURATION:-10s}
OUT=bench-out
say() { echo "bench-http: $*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null; }
fi
command -v python3 >/dev/null || { echo "error: python3 is needed" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl is needed" >&2; exit 1; }
cargo build --release --locked >&2
ARKIV=${CARGO_TARGET_DIR:-target}/release/arkiv
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/http-run.XXXXXX")
SERVER=""
SAMPLER=""
cleanup() {
  for pid in $SAMPLER $SERVER; do kill "$pid" 2>/dev/null || true; done
  for pid in $SAMPLER $SERVER; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export LC_NUMERIC=C

# The queries: common and rare words, a phrase, facet filters, and "energy",
# which the generator gives about a third of the records.
QUERIES=(
  "q=energy" "q=security" "q=russia" "q=gas" "q=migration" "q=sanctions" "q=china" "q=nato"
  "q=ukraine" "q=economy" "q=%22european+commission%22" "q=tehran" "q=kremlin+sanctions"
  "q=international+monetary+fund" "q=energy&type=article" "q=security&year=2014"
  "q=gas&language=en" "q=policy&type=policy_paper" "q=reform&year=2019" "q=zzyzx"
)

fmt_int() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# run_wrk CONNS URL LUA -> "rps p50ms p99ms bad"
run_wrk() {
  local conns=$1 url=$2 lua=$3 threads=1 out="$WORK/wrk.txt"
  [ "$conns" -ge 2 ] && threads=2
  wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -s "$lua" "$url" >"$out"
  wrk_figures "$out"
}

# A wrk script sending PATHS (one per line in FILE) round robin, each
# thread starting at its own place in the list.
paths_lua() {
  local file=$1 lua=$2
  cat >"$lua" <<EOF
local paths = {}
for line in io.lines("$file") do paths[#paths + 1] = line end
local counter = 0
local threads = 0
setup = function(thread) thread:set("offset", threads * 7); threads = threads + 1 end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[((counter + (offset or 0)) % #paths) + 1])
end
EOF
}

ROWS="$WORK/rows.md"
: >"$ROWS"
row() { echo "| $* |" >>"$ROWS"; say "$*"; }

# --- 1. import ------------------------------------------------------------
xml="$OUT/gen-$N.xml"
if [ ! -s "$xml" ]; then
  say "generating $N records into $xml"
  "$ARKIV" generate --count "$N" --seed 1 -o "$xml.part" >&2
  mv "$xml.part" "$xml"
fi
repo="$WORK/repo"
"$ARKIV" init "$repo" >/dev/null
say "importing $N records"
/usr/bin/time -f "%e %M" -o "$WORK/time" "$ARKIV" --repo "$repo" import eprints-xml "$xml" >/dev/null 2>"$WORK/import.log" \
  || { tail -n 20 "$WORK/import.log" >&2; exit 1; }
read -r secs kb <"$WORK/time"
row "import (EPrints XML, bulk load) | $(fmt_int "$(awk -v n="$N" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')") records/s ($secs s), peak RSS $((kb / 1024)) MB | ≥ 20,000 records/s"

# --- 2. serve, and the search index catching up ---------------------------
port=$(free_port)
base="http://127.0.0.1:$port"
started=$(date +%s.%N)
ARKIV_LOG=warn "$ARKIV" --repo "$repo" serve --listen "127.0.0.1:$port" 2>"$WORK/serve.log" &
SERVER=$!
for _ in $(seq 1 36000); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready" || true)" = 200 ] && break
  kill -0 "$SERVER" 2>/dev/null || { tail -n 20 "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
ready=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
row "search index caught up after the load (start to /ready) | $ready s | < 60 s"
# The Cite box's citations, rendered ahead by their follower (first views
# read them): until it has caught up, first views render their own.
for _ in $(seq 1 72000); do
  lag=$(curl -s "$base/metrics" | awk '/^arkiv_change_feed_lag\{follower="citations"\}/ {print $2}')
  [ "${lag:-1}" = 0 ] && break
  kill -0 "$SERVER" 2>/dev/null || { tail -n 20 "$WORK/serve.log" >&2; exit 1; }
  sleep 0.5
done
cited=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
row "citations rendered ahead after the load (start to a lag of 0) | $cited s | –"
# /ready allows a small lag: wait until the server has gone idle.
for _ in $(seq 1 900); do
  a=$(awk '{print $14 + $15}' "/proc/$SERVER/stat"); sleep 2; b=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  [ $((b - a)) -lt 20 ] && break
done
# RssAnon sampled from here on; its peak is reported.
( peak=0; while kill -0 "$SERVER" 2>/dev/null; do
    v=$(awk '/^RssAnon:/ {print $2}' "/proc/$SERVER/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$peak" ] && { peak=$v; echo "$peak" >"$WORK/rss-peak"; }
    sleep 0.5
  done ) &
SAMPLER=$!

# --- 3. pages through wrk -------------------------------------------------
printf '%s\n' "${QUERIES[@]/#//search?}" >"$WORK/search.txt"
printf '%s\n' "${QUERIES[@]/#//api/search?}" >"$WORK/api.txt"
paths_lua "$WORK/search.txt" "$WORK/search.lua"
paths_lua "$WORK/api.txt" "$WORK/api.lua"
for q in "${QUERIES[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/search?$q")
  [ "$code" = 200 ] || { echo "error: /search?$q answered $code" >&2; exit 1; }
done
broad=$(curl -s "$base/api/search?q=energy" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("total", "?"))')
# First views: ids walked by a stride coprime with N, so no id comes twice.
cat >"$WORK/first.lua" <<EOF
local n = $N
local start = tonumber(os.getenv("FIRST_FROM") or "0")
local stride = 7919
while n % stride == 0 do stride = stride + 2 end
local counter = 0
local threads = 0
setup = function(thread) thread:set("offset", threads * math.floor(n / 2)); threads = threads + 1 end
request = function()
  counter = counter + 1
  return wrk.format("GET", "/" .. (((counter * stride) + start + (offset or 0)) % n + 1) .. "/")
end
EOF
year=$(curl -s "$base/view/year/" | grep -o 'href="/view/year/[0-9]*\.html">[^<]*</a> *<span class="count">[0-9]*' \
  | sed -E 's|.*/view/year/([0-9]+)\.html.*count">([0-9]+)|\2 \1|' | sort -rn | awk 'NR == 1 {print $2}') || true
year=${year:-2014}
printf '/\n' >"$WORK/home.txt"
printf '/view/year/%s.html\n' "$year" >"$WORK/browse.txt"
printf '/%s/export/bibtex\n' $((N / 2)) >"$WORK/export.txt"
for p in home browse export; do
  paths_lua "$WORK/$p.txt" "$WORK/$p.lua"
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base$(cat "$WORK/$p.txt")")
  [ "$code" = 200 ] || { echo "error: $(cat "$WORK/$p.txt") answered $code" >&2; exit 1; }
done
say "warming up"
wrk -t2 -c8 -d3s -s "$WORK/search.lua" "$base" >/dev/null

measure() { # NAME CONNS LUA GOAL
  local rps p50 p99 bad
  read -r rps p50 p99 bad < <(run_wrk "$2" "$base" "$3")
  row "$1, c=$2 | $(fmt_int "$rps") requests/s, p50 $p50 ms, p99 $p99 ms$([ "$bad" != 0 ] && echo ", $bad errors") | $4"
}
measure "search page, ${#QUERIES[@]} queries round robin" 8 "$WORK/search.lua" "p99 < 20 ms"
measure "/api/search, the same queries" 8 "$WORK/api.lua" "p99 < 20 ms"
FIRST_FROM=0 measure "first view of an abstract page" 16 "$WORK/first.lua" "p99 < 5 ms"
FIRST_FROM=$((N / 4 + 1)) measure "first view of an abstract page" 1 "$WORK/first.lua" "–"
measure "home page" 16 "$WORK/home.lua" "as today"
measure "browse page /view/year/$year.html" 16 "$WORK/browse.lua" "as today"
measure "BibTeX export of one record" 16 "$WORK/export.lua" "as today"

# --- 4. a full OAI-PMH harvest -------------------------------------------
say "harvesting"
python3 - "$base/oai2" >"$WORK/harvest" <<'EOF'
import re, sys, time, urllib.parse, urllib.request
base = sys.argv[1]
query = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
records, pages, started = 0, 0, time.monotonic()
while True:
    with urllib.request.urlopen(base + "?" + urllib.parse.urlencode(query), timeout=120) as r:
        body = r.read().decode("utf-8")
    if "<error" in body:
        sys.exit("OAI-PMH error: " + body[:500])
    records += body.count("<record>")
    pages += 1
    token = re.search(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>", body)
    if not token:
        break
    query = {"verb": "ListRecords", "resumptionToken": token.group(1).replace("&amp;", "&")}
took = time.monotonic() - started
print(records, pages, f"{took:.2f}", f"{records / took:.0f}")
EOF
read -r hrecords hpages htook hrate <"$WORK/harvest"
row "OAI-PMH full harvest, ListRecords oai_dc | $(fmt_int "$hrate") records/s ($(fmt_int "$hrecords") records, $hpages pages, $htook s) | ≥ 50,000 records/s"

# --- 5. memory and disk -----------------------------------------------------
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=""
row "server's anonymous resident memory (RssAnon), peak while serving the above | $(( $(cat "$WORK/rss-peak" 2>/dev/null || echo 0) / 1024 )) MB | < 150 MB"
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=""
bytes=$(du -sb "$repo" | cut -f1)
row "disk per record (database, search index, settings) | $(fmt_int $((bytes / N))) bytes ($(fmt_int $((bytes / 1048576))) MB) | stated"

# --- 6. reindex -------------------------------------------------------------
say "reindexing"
/usr/bin/time -f "%e %M" -o "$WORK/time" "$ARKIV" --repo "$repo" reindex >/dev/null 2>"$WORK/reindex.log" \
  || { tail -n 20 "$WORK/reindex.log" >&2; exit 1; }
read -r secs kb <"$WORK/time"
row "reindex | $(fmt_int "$(awk -v n="$N" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')") records/s ($secs s), peak RSS $((kb / 1024)) MB | ≥ 20,000 records/s, < 1 GB"

# --- report -----------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
ram=$(awk '/^MemTotal:/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)
echo
echo "\`scripts/bench-http.sh $N\` at \`$(git rev-parse --short HEAD)\`, $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($cpu), $ram RAM; SQLite; $(fmt_int "$N") generated records; wrk for $DURATION a figure; client and server on the same cores."
echo
echo "| $(fmt_int "$N") records | measured | goal |"
echo "|---|---|---|"
cat "$ROWS"
echo
echo "Queries (\`/search?\` and \`/api/search?\`, round robin; \`q=energy\` hits $(fmt_int "$broad") records):"
printf '`%s` ' "${QUERIES[@]}"
echo
