#!/usr/bin/env bash
# Dissemination benchmark: a full OAI-PMH ListRecords harvest and a BibTeX
# export of every record, at each repository size.
#
#   scripts/bench-oai.sh [COUNTS...]        (default: 100000 1000000)
#
# For each count it makes (once; cached in bench-out/pages-repo-N, shared
# with scripts/bench-pages.sh) a repository of N generated records, serves
# it with `arkiv serve` on 127.0.0.1 and harvests it whole with a small
# Python client (one keep-alive connection, following resumption tokens,
# counting <record> elements): records/s, pages, p50/p99 page latency, and
# the server's memory before and after (VmRSS, and VmHWM: the peak). Then
# `arkiv export bibtex` of the same repository to a byte-counting pipe:
# records/s and peak memory. Results go into the "OAI-PMH harvest and
# BibTeX export" section of BENCHMARKS.md (other sections are left alone).
#
# The harvesting client shares the machine's cores with the server, as in
# bench-pages.sh; rows measured while cargo/rustc ran are marked.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(100000 1000000)
OUT=bench-out
ARKIV=target/release/arkiv
SECTION="## OAI-PMH harvest and BibTeX export"
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/oai-run.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "== $*" >&2; }

say "building arkiv (release)"
cargo build --release --locked
command -v python3 >/dev/null || { echo "error: python3 is needed" >&2; exit 1; }

for n in "${COUNTS[@]}"; do
  dir="$OUT/pages-repo-$n"
  if [ -f "$dir/.bench-complete" ] && [ "$(cat "$dir/.bench-complete")" = "$n" ]; then
    say "reusing $dir ($n records)"
    continue
  fi
  say "generating $n records into $dir"
  rm -rf "$dir"
  "$ARKIV" init "$dir" >/dev/null
  ARKIV_LOG=error "$ARKIV" --repo "$dir" generate --count "$n" --seed 1 2>"$WORK/generate.log" \
    || { tail -n 20 "$WORK/generate.log" >&2; exit 1; }
  echo "$n" > "$dir/.bench-complete"
done

busy() { pgrep -x cargo >/dev/null || pgrep -x rustc >/dev/null; }
free_port() {
  local p
  for p in $(seq "$1" $(( $1 + 200 ))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "error: no free port from $1" >&2; exit 1
}
wait_http() {
  local i
  for i in $(seq 1 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "error: nothing answers at $1" >&2; exit 1
}
mem_mb() { awk -v k="$2:" '$1 == k {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
# Samples process $1's anonymous resident memory (RssAnon: what it
# allocated, not the database file SQLite maps and the OS caches) twice a
# second into file $2 until the process ends or $3 (a file) appears.
sample_anon() {
  while kill -0 "$1" 2>/dev/null && [ ! -e "$3" ]; do
    awk '$1 == "RssAnon:" {print $2}' "/proc/$1/status" 2>/dev/null >>"$2" || true
    sleep 0.5
  done
}
peak_mb() { sort -n "$1" | tail -n 1 | awk '{printf "%.0f", $1 / 1024}'; }
fmt_int() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# Waits until process $1 has been (nearly) idle for two seconds: a server
# started on a repository whose search index is behind (generated records
# are not indexed) catches up first, and that must not be measured.
wait_idle() {
  local pid=$1 waited=0 a b
  while [ "$waited" -lt 1800 ]; do
    a=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep 2
    b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    [ $(( b - a )) -lt 20 ] && { [ "$waited" -gt 0 ] && echo "== server idle after ${waited}s (search index caught up)" >&2; return 0; }
    waited=$((waited + 2))
  done
  echo "== warning: the server is still busy after ${waited}s; measuring anyway" >&2
}

cat >"$WORK/harvest.py" <<'EOF'
"""Harvests /oai2 whole over one keep-alive connection; prints
records pages seconds p50_ms p99_ms."""
import html, http.client, re, sys, time, urllib.parse

port, prefix = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
query = f"verb=ListRecords&metadataPrefix={prefix}"
token_re = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
records = pages = 0
latencies = []
start = time.perf_counter()
while True:
    t = time.perf_counter()
    conn.request("GET", "/oai2?" + query)
    res = conn.getresponse()
    body = res.read()
    latencies.append(time.perf_counter() - t)
    if res.status != 200 or b"<error" in body:
        sys.exit(f"page {pages}: HTTP {res.status}: {body[:300]!r}")
    records += body.count(b"<record>")
    pages += 1
    # The token closes the response: look for it there, not through the
    # whole megabyte (a regex over every page cost the client 3 ms a page).
    at = body.rfind(b"<resumptionToken")
    m = token_re.match(body, at) if at >= 0 else None
    if not m:
        break
    query = "verb=ListRecords&resumptionToken=" + urllib.parse.quote(html.unescape(m.group(1).decode()), safe="")
elapsed = time.perf_counter() - start
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(records, pages, f"{elapsed:.2f}", f"{pick(0.5):.2f}", f"{pick(0.99):.2f}")
EOF

RESULTS="$WORK/results.md"
: >"$RESULTS"
export LC_NUMERIC=C
for n in "${COUNTS[@]}"; do
  dir="$OUT/pages-repo-$n"
  port=$(free_port 38300)
  ARKIV_LOG=warn "$ARKIV" --repo "$dir" serve --listen "127.0.0.1:$port" 2>"$WORK/serve-$n.log" &
  spid=$!
  PIDS+=("$spid")
  wait_http "http://127.0.0.1:$port/oai2?verb=Identify"
  wait_idle "$spid"
  # Warm-up: the first pages open the database and fill caches.
  curl -s -o /dev/null "http://127.0.0.1:$port/oai2?verb=ListRecords&metadataPrefix=oai_dc"
  for prefix in oai_dc datacite; do
    before_rss=$(mem_mb "$spid" RssAnon)
    loaded=""; busy && loaded=" (under load)"
    say "harvesting $n records as $prefix"
    rm -f "$WORK/anon.txt" "$WORK/stop"
    sample_anon "$spid" "$WORK/anon.txt" "$WORK/stop" &
    sampler=$!
    read -r records pages secs p50 p99 < <(python3 "$WORK/harvest.py" "$port" "$prefix")
    touch "$WORK/stop"; wait "$sampler" 2>/dev/null || true
    busy && loaded=" (under load)"
    after_rss=$(mem_mb "$spid" RssAnon)
    peak=$(peak_mb "$WORK/anon.txt")
    mapped=$(mem_mb "$spid" RssFile)
    rate=$(awk -v r="$records" -v s="$secs" 'BEGIN {printf "%.0f", r / s}')
    [ "$records" = "$n" ] || say "warning: harvested $records of $n records"
    echo "| ListRecords $prefix | $(fmt_int "$n") | $(fmt_int "$records") | $pages | ${secs} s | $(fmt_int "$rate")$loaded | $p50 / $p99 ms | $before_rss → $after_rss MB (peak $peak MB; file pages mapped: $mapped MB) |" >>"$RESULTS"
  done
  kill "$spid"; wait "$spid" 2>/dev/null || true

  say "exporting $n records as BibTeX"
  loaded=""; busy && loaded=" (under load)"
  rm -f "$WORK/anon.txt" "$WORK/stop" "$WORK/export.pipe"
  mkfifo "$WORK/export.pipe"
  wc -c <"$WORK/export.pipe" >"$WORK/bytes.txt" &
  counter=$!
  start_ns=$(date +%s%N)
  "$ARKIV" --repo "$dir" export bibtex >"$WORK/export.pipe" &
  epid=$!
  PIDS+=("$epid")
  sample_anon "$epid" "$WORK/anon.txt" "$WORK/stop" &
  sampler=$!
  wait "$epid"
  wait "$counter"
  secs=$(awk -v a="$start_ns" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
  wait "$sampler" 2>/dev/null || true
  busy && loaded=" (under load)"
  bytes=$(cat "$WORK/bytes.txt")
  rate=$(awk -v r="$n" -v s="$secs" 'BEGIN {printf "%.0f", r / s}')
  echo "| \`arkiv export bibtex\` | $(fmt_int "$n") | $(fmt_int "$n") | – | ${secs} s | $(fmt_int "$rate")$loaded | – | peak $(peak_mb "$WORK/anon.txt") MB; $(( bytes / 1048576 )) MB written |" >>"$RESULTS"
done

{
  echo "$SECTION"
  echo
  echo "A full harvest with a client that follows resumption tokens over one"
  echo "keep-alive connection (\`scripts/bench-oai.sh\`; Python's http.client on the"
  echo "same machine, sharing its cores), and a BibTeX export of every live record"
  echo "from the store to a pipe. Memory is the process's anonymous resident memory"
  echo "(RssAnon: what it allocated) before and after, and its peak sampled twice a"
  echo "second; the pages of the database file SQLite reads through a memory map are"
  echo "the operating system's file cache, listed apart (counted once per connection"
  echo "that maps them)."
  echo
  echo "- Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM; $(rustc --version); $(date -u '+%Y-%m-%d %H:%M') UTC; build \`$(git rev-parse --short HEAD)\`."
  echo "- Datasets: \`arkiv generate --count N --seed 1\` into a fresh SQLite repository (no PDFs)."
  echo
  echo "| what | records in repository | records out | pages | wall time | records/s | page p50 / p99 | memory |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  cat "$RESULTS"
} >"$WORK/section.md"
cat "$WORK/section.md"
python3 - "$WORK/section.md" <<'EOF'
import re, sys
section = open(sys.argv[1]).read().rstrip() + "\n"
text = open("BENCHMARKS.md").read()
head = section.splitlines()[0]
pattern = re.compile(re.escape(head) + r"\n.*?(?=\n## |\Z)", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section.rstrip("\n"), text)
else:
    text = text.rstrip() + "\n\n" + section
open("BENCHMARKS.md", "w").write(text)
EOF
say "BENCHMARKS.md updated"
