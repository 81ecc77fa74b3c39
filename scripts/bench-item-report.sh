#!/usr/bin/env bash
# The Item Report over a whole repository: a year's COUNTER Item Report
# (SUSHI, /sushi/r51/reports/ir) over every record, asked over HTTP of a
# running `arkiv serve`, the way a harvester asks. What it measures: time
# to the first byte (the answer is streamed a page of 500 items at a time,
# so this should not grow with the repository), the whole answer's time and
# size, and the server's memory before and after (bounded: it must not hold
# the report).
#
#   scripts/bench-item-report.sh [RECORDS]   (default: 1000000)
#
# The repository: `arkiv generate --count RECORDS --seed 1` (no PDFs), and
# a year of history for it brought in the way a moving repository brings
# its own: a combined-format access log of 2025, two views of each record
# by different readers in different months, through `arkiv stats
# import-log` (which also rolls it up). Results are printed and written
# into the "Item Report over the whole repository" section of
# BENCHMARKS.md (other sections are left alone).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${1:-1000000}
OUT=bench-out
ARKIV=target/release/arkiv
SECTION="## Item Report over the whole repository"
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/ir-run.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "== $*" >&2; }
export LC_NUMERIC=C

say "building arkiv (release)"
cargo build --release

dir="$OUT/ir-repo-$N"
if [ ! -f "$dir/.bench-generated" ] || [ "$(cat "$dir/.bench-generated")" != "$N" ]; then
  say "generating $N records into $dir"
  rm -rf "$dir"
  "$ARKIV" init "$dir" >/dev/null
  ARKIV_LOG=error "$ARKIV" --repo "$dir" generate --count "$N" --seed 1 2>"$WORK/generate.log" \
    || { tail -n 20 "$WORK/generate.log" >&2; exit 1; }
  echo "$N" > "$dir/.bench-generated"
fi
if [ ! -f "$dir/.bench-complete" ] || [ "$(cat "$dir/.bench-complete")" != "$N" ]; then

  say "writing a year of access log (2 views per record) and importing it"
  python3 - "$N" "$WORK/access.log" <<'PY'
import sys, time
n, path = int(sys.argv[1]), sys.argv[2]
start = 1735689600  # 2025-01-01T00:00:00Z
year = 365 * 86400
lines = 2 * n
ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
with open(path, "w") as f:
    for k in range(lines):
        record = k % n + 1
        at = time.gmtime(start + k * year // lines)
        ip = f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"
        f.write(f'{ip} - - [{time.strftime("%d/%b/%Y:%H:%M:%S +0000", at)}] "GET /{record}/ HTTP/1.1" 200 18000 "-" "{ua}"\n')
PY
  start=$(date +%s.%N)
  ARKIV_LOG=error "$ARKIV" --repo "$dir" stats import-log "$WORK/access.log" >"$WORK/import.txt" &
  ipid=$!
  # The import's own memory (anonymous RSS), sampled each second.
  peak=0
  while kill -0 "$ipid" 2>/dev/null; do
    now=$(awk '/^RssAnon:/ {print int($2 / 1024)}' "/proc/$ipid/status" 2>/dev/null || echo 0)
    [ "${now:-0}" -gt "$peak" ] && peak=$now
    sleep 1
  done
  wait "$ipid"
  end=$(date +%s.%N)
  cat "$WORK/import.txt"
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$dir/.import-seconds"
  echo "$peak" >"$dir/.import-peak-mb"
  rm -f "$WORK/access.log"
  echo "$N" > "$dir/.bench-complete"
fi
import_seconds=$(cat "$dir/.import-seconds" 2>/dev/null || echo "?")
import_peak=$(cat "$dir/.import-peak-mb" 2>/dev/null || echo "?")

creds=$("$ARKIV" --repo "$dir" stats sushi-client "benchmark $(date +%s)")
q=$(echo "$creds" | paste -sd'&')

port=38500
ARKIV_LOG=warn "$ARKIV" --repo "$dir" serve --listen "127.0.0.1:$port" 2>"$WORK/serve.log" &
spid=$!
PIDS+=("$spid")
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
# A server over generated records first indexes them for search (a
# minute or so per million, once): that must not be measured.
waited=0
while [ "$waited" -lt 3600 ]; do
  a=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  sleep 2
  b=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  [ $(( b - a )) -lt 20 ] && break
  waited=$((waited + 2))
done
say "the server was busy (indexing) for ${waited}s before the reports"
rss() { awk "/^$1:/ {printf \"%.0f\", \$2 / 1024}" "/proc/$spid/status"; }
anon_before=$(rss RssAnon)
url="http://127.0.0.1:$port/sushi/r51/reports/ir?$q&begin_date=2025-01&end_date=2025-12"
RESULTS="$WORK/results.txt"
: >"$RESULTS"
for round in 1 2 3; do
  curl -s -o "$WORK/ir.json" -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}\n' "$url" >>"$RESULTS"
  say "round $round: $(tail -n1 "$RESULTS")"
done
anon_after=$(rss RssAnon)
hwm=$(rss VmHWM)
items=$(grep -o '"Item_ID"' "$WORK/ir.json" | wc -l)
exceptions=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["Report_Header"].get("Exceptions", []))' "$WORK/ir.json" 2>/dev/null || echo "?")
kill -INT "$spid"; wait "$spid" 2>/dev/null || true
grep -v '^200 ' "$RESULTS" && { echo "error: a request failed" >&2; exit 1; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cores=$(nproc)
mem=$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)
rustc_v=$(rustc --version)
db=$(du -sm "$dir" | cut -f1)
table=$(sort -t' ' -k3 -n "$RESULTS" | awk '
  { first[NR] = $2 * 1000; total[NR] = $3; size = $4 }
  END { printf "| %d | %.0f ms | %.1f s | %.0f MB |\n", NR, first[int((NR+1)/2)], total[int((NR+1)/2)], size / 1e6 }')
worst_first=$(awk '{ if ($2 > m) m = $2 } END { printf "%.0f", m * 1000 }' "$RESULTS")

section=$(cat <<EOF
$SECTION

A year's COUNTER Item Report over every record of a repository, asked of the
running server over HTTP as a harvester asks. Reproduce with:

    scripts/bench-item-report.sh $N

- Machine: $cores cores ($cpu), $mem GB RAM; $rustc_v; $(date -u +"%Y-%m-%d %H:%M") UTC.
- Repository: \`arkiv generate --count $N --seed 1\` (SQLite, no PDFs; $db MB on disk with
  the statistics), with a year of history (2025) imported from an access log of two views of
  each record by different readers in different months (\`arkiv stats import-log\`,
  $((2 * N)) lines, rolled up; $import_seconds s in all, the import's anonymous memory at most
  $import_peak MB, sampled each second).
- Request: \`/sushi/r51/reports/ir?begin_date=2025-01&end_date=2025-12\` with a client's
  credentials, by curl, three times; the middle of the three by total time.
  Exceptions in the answer's header: $exceptions.

| requests | first byte | whole answer | size |
|---:|---:|---:|---:|
$table

Items in the answer: $items. Worst first byte of the three: $worst_first ms.
Server memory (anonymous RSS): $anon_before MB before the reports, $anon_after MB after;
peak resident set of the server's life (with SQLite's mapped pages): $hwm MB.

How cost grows: the report is read 500 items at a time (one index range of the
monthly roll-up and one read of those 500 records), each page written to the
socket before the next is read, so the first byte costs one page whatever the
repository's size, memory is bounded by a page, and the whole answer grows with
the items used in the year.
EOF
)
echo "$section"
python3 - "$SECTION" "$section" <<'PY'
import re, sys
heading, body = sys.argv[1], sys.argv[2]
text = open("BENCHMARKS.md").read()
start = text.find(heading + "\n")
if start < 0:
    text = text.rstrip("\n") + "\n\n" + body + "\n"
else:
    nxt = text.find("\n## ", start + len(heading))
    text = text[:start] + body + ("\n" + text[nxt:] if nxt >= 0 else "\n")
open("BENCHMARKS.md", "w").write(text)
PY
