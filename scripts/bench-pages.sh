#!/usr/bin/env bash
# The public site's benchmark: requests/s and p50/p99 latency of an abstract
# page and of a browse page at concurrency 1 and 16, beside a bare axum
# handler that returns a fixed page of the same size (the ceiling,
# crates/arkiv-web/examples/ceiling.rs), on the same machine in the same run.
#
#   scripts/bench-pages.sh [COUNTS...]        (default: 100000 1000000)
#
# For each count it makes (once; cached in bench-out/pages-repo-N, reused
# when complete) a repository of N generated records, serves it with
# `arkiv serve` on 127.0.0.1, and loads it with wrk: `-t1 -c1` and
# `-t2 -c16`, BENCH_DURATION (10s) each. wrk sends no Accept-Encoding, so
# neither server compresses. Results are printed as a Markdown table and
# written into the "Pages (public site)" section of BENCHMARKS.md (other
# sections are left alone). Servers are stopped on exit.
#
# Other work on the same machine skews the figures, so before measuring it
# waits (polling every 15 s, at most BENCH_QUIET_MAX seconds, 1200 by
# default) while cargo, rustc or an `arkiv ... import` runs, and marks rows
# measured while one was running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/wrk-figures.sh

COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(100000 1000000)
DURATION=${BENCH_DURATION:-10s}
QUIET_MAX=${BENCH_QUIET_MAX:-1200}
OUT=bench-out
ARKIV=target/release/arkiv
CEILING=target/release/examples/ceiling
SECTION="## Pages (public site)"
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/pages-run.XXXXXX")

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "== $*" >&2; }

# --- tools and binaries ------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v curl >/dev/null || { echo "error: curl is needed" >&2; exit 1; }
say "building arkiv and the ceiling (release)"
cargo build --release
cargo build --release -p arkiv-web --example ceiling

# --- datasets (first: 1,000,000 records take minutes) ------------------------
for n in "${COUNTS[@]}"; do
  dir="$OUT/pages-repo-$n"
  if [ -f "$dir/.bench-complete" ] && [ "$(cat "$dir/.bench-complete")" = "$n" ]; then
    say "reusing $dir ($n records)"
    continue
  fi
  say "generating $n records into $dir"
  rm -rf "$dir"
  "$ARKIV" init "$dir" >/dev/null
  start=$(date +%s)
  ARKIV_LOG=error "$ARKIV" --repo "$dir" generate --count "$n" --seed 1 2>"$WORK/generate.log" \
    || { tail -n 20 "$WORK/generate.log" >&2; exit 1; }
  say "generated $n records in $(( $(date +%s) - start )) s"
  echo "$n" > "$dir/.bench-complete"
done

# --- helpers ----------------------------------------------------------------
busy() {
  pgrep -x cargo >/dev/null || pgrep -x rustc >/dev/null || pgrep -f '(^|/)arkiv( .*)? import( |$)' >/dev/null
}
what_is_busy() {
  { pgrep -a -x cargo; pgrep -a -x rustc; pgrep -a -f '(^|/)arkiv( .*)? import( |$)'; } 2>/dev/null | cut -c1-100 | head -n 5 || true
}
wait_quiet() {
  local waited=0
  while busy; do
    if [ "$waited" -ge "$QUIET_MAX" ]; then
      say "still busy after ${QUIET_MAX}s; measuring anyway:"
      what_is_busy >&2
      return 0
    fi
    [ "$waited" -eq 0 ] && { say "waiting for a quiet machine:"; what_is_busy >&2; }
    sleep 15
    waited=$((waited + 15))
  done
  [ "$waited" -eq 0 ] || say "quiet after ${waited}s"
}

free_port() {
  local p
  for p in $(seq "$1" $(( $1 + 200 ))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "error: no free port from $1" >&2
  exit 1
}

wait_http() {
  local url=$1 i
  for i in $(seq 1 600); do
    curl -s -o /dev/null "$url" && return 0
    sleep 0.1
  done
  echo "error: nothing answers at $url" >&2
  exit 1
}

# run_wrk CONNS URL [LUA] -> "rps p50ms p99ms bad loaded"
run_wrk() {
  local conns=$1 url=$2 lua=${3:-} threads=1 out="$WORK/wrk.txt" loaded=0
  [ "$conns" -ge 2 ] && threads=2
  busy && loaded=1
  if [ -n "$lua" ]; then
    wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -s "$lua" "$url" >"$out"
  else
    wrk -t"$threads" -c"$conns" -d"$DURATION" --latency "$url" >"$out"
  fi
  busy && loaded=1
  local rps p50 p99 bad
  read -r rps p50 p99 bad < <(wrk_figures "$out")
  cp "$out" "$WORK/last-wrk.txt"
  echo "$rps $p50 $p99 $bad $loaded"
}

# The server's own memory: anonymous resident pages (RssAnon). Its VmRSS
# and VmHWM also count the database file's pages SQLite reads through a
# memory map, once per connection: the operating system's cache, not ours.
anon_mb() { awk '/^RssAnon:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

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

# --- measure ----------------------------------------------------------------
RESULTS="$WORK/results.tsv"   # n page conns rps p50 p99 bad loaded
: >"$RESULTS"
INFO="$WORK/info.tsv"         # n key value
: >"$INFO"
export LC_NUMERIC=C

for n in "${COUNTS[@]}"; do
  dir="$OUT/pages-repo-$n"
  port=$(free_port 38100)
  ARKIV_LOG=warn "$ARKIV" --repo "$dir" serve --listen "127.0.0.1:$port" 2>"$WORK/serve-$n.log" &
  spid=$!
  PIDS+=("$spid")
  base="http://127.0.0.1:$port"
  wait_http "$base/"
  wait_idle "$spid"

  id=$(( n / 2 ))
  abstract="$base/$id/"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$abstract")" = 200 ] || { echo "error: $abstract is not a page" >&2; exit 1; }
  abstract_bytes=$(curl -s "$abstract" | wc -c)
  # The largest year view, and how many records it lists.
  year=$(curl -s "$base/view/year/" | tr '\n' ' ' | grep -o 'href="/view/year/[0-9]*\.html">[^<]*</a> *<span class="count">[0-9]*' \
    | sed -E 's|.*/view/year/([0-9]+)\.html.*count">([0-9]+)|\2 \1|' | sort -rn | awk 'NR == 1 {print $2}') || true
  year=${year:-2014}
  browse="$base/view/year/$year.html"
  browse_bytes=$(curl -s "$browse" | wc -c)
  browse_total=$(curl -s "$browse" | grep -o 'class="figure">[0-9]*' | awk -F'>' 'NR == 1 {print $2}') || true
  browse_total=${browse_total:-?}

  cport=$(free_port $(( port + 1 )))
  "$CEILING" --listen "127.0.0.1:$cport" --size "$abstract_bytes" 2>"$WORK/ceiling-$n.log" &
  cpid=$!
  PIDS+=("$cpid")
  ceiling="http://127.0.0.1:$cport/"
  wait_http "$ceiling"
  ceiling_bytes=$(curl -s "$ceiling" | wc -c)

  # Random abstract pages: every request a different record of the N.
  lua="$WORK/random-$n.lua"
  cat >"$lua" <<EOF
local n = $n
init = function(args)
  local h = tostring({}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(h:sub(-6), 16))
end
request = function() return wrk.format("GET", "/" .. math.random(1, n) .. "/") end
EOF

  {
    printf '%s\tabstract_url\t/%s/\n' "$n" "$id"
    printf '%s\tabstract_bytes\t%s\n' "$n" "$abstract_bytes"
    printf '%s\tbrowse_url\t/view/year/%s.html\n' "$n" "$year"
    printf '%s\tbrowse_bytes\t%s\n' "$n" "$browse_bytes"
    printf '%s\tbrowse_total\t%s\n' "$n" "$browse_total"
    printf '%s\tceiling_bytes\t%s\n' "$n" "$ceiling_bytes"
    printf '%s\tdb_mb\t%s\n' "$n" "$(du -sm "$dir" | cut -f1)"
  } >>"$INFO"

  wait_quiet
  say "$n records: warming up"
  for url in "$abstract" "$browse" "$ceiling"; do
    wrk -t2 -c16 -d3s "$url" >/dev/null
  done
  wrk -t2 -c16 -d5s -s "$lua" "$base/" >/dev/null

  for page in abstract browse ceiling random; do
    case $page in
      abstract) url=$abstract lua_arg= ;;
      browse) url=$browse lua_arg= ;;
      ceiling) url=$ceiling lua_arg= ;;
      random) url="$base/" lua_arg=$lua ;;
    esac
    for c in 1 16; do
      read -r rps p50 p99 bad loaded < <(run_wrk "$c" "$url" $lua_arg)
      say "$n $page c=$c: $rps req/s, p50 $p50 ms, p99 $p99 ms$([ "$bad" != 0 ] && echo ", $bad non-2xx/errors")$([ "$loaded" = 1 ] && echo ' (under load)')"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$page" "$c" "$rps" "$p50" "$p99" "$bad" "$loaded" >>"$RESULTS"
    done
  done
  printf '%s\tarkiv_rss_mb\t%s\n' "$n" "$(anon_mb "$spid")" >>"$INFO"
  printf '%s\tceiling_rss_mb\t%s\n' "$n" "$(anon_mb "$cpid")" >>"$INFO"
  kill "$spid" "$cpid" 2>/dev/null || true
  wait "$spid" "$cpid" 2>/dev/null || true
done

# --- report -----------------------------------------------------------------
info() { awk -F'\t' -v n="$1" -v k="$2" '$1 == n && $2 == k {print $3}' "$INFO"; }
res() { awk -F'\t' -v n="$1" -v p="$2" -v c="$3" -v f="$4" '$1 == n && $2 == p && $3 == c {print $f}' "$RESULTS"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }

table="$WORK/table.md"
{
  echo "| page | records | concurrency | requests/s | p50 (ms) | p99 (ms) | throughput vs ceiling |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for n in "${COUNTS[@]}"; do
    for page in abstract browse ceiling random; do
      for c in 1 16; do
        rps=$(res "$n" "$page" "$c" 4)
        mark=""
        [ "$(res "$n" "$page" "$c" 8)" = 1 ] && mark=" †"
        bad=$(res "$n" "$page" "$c" 7)
        [ "$bad" != 0 ] && mark="$mark ($bad non-2xx/errors)"
        case $page in
          abstract) label="abstract \`$(info "$n" abstract_url)\`" ;;
          browse) label="browse \`$(info "$n" browse_url)\`" ;;
          ceiling) label="ceiling (fixed $(info "$n" ceiling_bytes) B)" ;;
          random) label="abstract, random id" ;;
        esac
        echo "| $label | $(fmt_int "$n") | $c | $(fmt_int "$rps")$mark | $(res "$n" "$page" "$c" 5) | $(res "$n" "$page" "$c" 6) | $(ratio "$rps" "$(res "$n" ceiling "$c" 4)") |"
      done
    done
  done
} >"$table"

verdicts="$WORK/verdicts.md"
{
  for n in "${COUNTS[@]}"; do
    for c in 1 16; do
      r=$(ratio "$(res "$n" abstract "$c" 4)" "$(res "$n" ceiling "$c" 4)")
      p99=$(res "$n" abstract "$c" 6)
      ok_r=$(awk -v r="$r" 'BEGIN { print (r >= 0.5) ? "met" : "missed" }')
      ok_p=$(awk -v p="$p99" 'BEGIN { print (p < 5) ? "met" : "missed" }')
      echo "- $(fmt_int "$n") records, concurrency $c: abstract/ceiling = **$r** (target ≥ 0.5: $ok_r); abstract p99 **$p99 ms** (target < 5 ms: $ok_p)."
    done
  done
} >"$verdicts"

growth="$WORK/growth.md"
{
  if [ ${#COUNTS[@]} -ge 2 ]; then
    lo=${COUNTS[0]} hi=${COUNTS[${#COUNTS[@]}-1]}
    for page in abstract browse random; do
      for c in 1 16; do
        echo "- $page, concurrency $c: requests/s ×$(ratio "$(res "$hi" "$page" "$c" 4)" "$(res "$lo" "$page" "$c" 4)"), p50 ×$(ratio "$(res "$hi" "$page" "$c" 5)" "$(res "$lo" "$page" "$c" 5)"), p99 ×$(ratio "$(res "$hi" "$page" "$c" 6)" "$(res "$lo" "$page" "$c" 6)") from $(fmt_int "$lo") to $(fmt_int "$hi") records."
      done
    done
    echo "- server memory (anonymous RSS after the runs): $(info "$lo" arkiv_rss_mb) MB at $(fmt_int "$lo") records, $(info "$hi" arkiv_rss_mb) MB at $(fmt_int "$hi"); repository on disk: $(info "$lo" db_mb) MB and $(info "$hi" db_mb) MB."
  else
    echo "- (one record count in this run: no growth to report)"
  fi
} >"$growth"

UNDER_LOAD=$(awk -F'\t' '$8 == 1 {x = 1} END {print x + 0}' "$RESULTS")
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
ram=$(awk '/^MemTotal:/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)
section="$WORK/section.md"
{
  echo "$SECTION"
  echo
  echo "Requests/s and latency of the public site's pages, beside a bare axum handler"
  echo "that returns a fixed page of the abstract page's size (the *ceiling*,"
  echo "\`crates/arkiv-web/examples/ceiling.rs\`: same tokio runtime defaults, same axum,"
  echo "no store, no template, no middleware). Reproduce with:"
  echo
  echo "    scripts/bench-pages.sh ${COUNTS[*]}"
  echo
  echo "- Machine: $(nproc) cores ($cpu), $ram RAM; $(rustc --version); $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "- Load: wrk 4.1 on the same machine (it shares the cores with the server),"
  echo "  \`-t1 -c1\` and \`-t2 -c16\`, $DURATION per row after a warm-up; 127.0.0.1; wrk sends no"
  echo "  \`Accept-Encoding\`, so neither server compresses, and no \`If-None-Match\`, so every"
  echo "  answer is a full 200."
  for n in "${COUNTS[@]}"; do
    echo "- Dataset $(fmt_int "$n"): \`arkiv generate --count $n --seed 1\` into a fresh SQLite repository"
    echo "  ($(info "$n" db_mb) MB on disk, no PDFs). Abstract page \`$(info "$n" abstract_url)\`: $(info "$n" abstract_bytes) bytes."
    echo "  Browse page \`$(info "$n" browse_url)\` (the largest year view: $(info "$n" browse_total) records, first page of 50):"
    echo "  $(info "$n" browse_bytes) bytes. Server memory after the runs (anonymous RSS): arkiv $(info "$n" arkiv_rss_mb) MB, ceiling $(info "$n" ceiling_rss_mb) MB."
  done
  echo "- \"abstract, random id\": each request asks for a different record, uniformly from 1..N"
  echo "  (a wrk Lua script), so the store reads are not always the same pages; page sizes vary."
  echo
  cat "$table"
  echo
  if [ "$UNDER_LOAD" = 1 ]; then
    echo "† measured while another cargo/rustc/import process was running on this machine."
    echo
  fi
  echo "Targets (abstract page at half the ceiling's throughput or better, p99 under 5 ms at 1,000,000 records):"
  echo
  cat "$verdicts"
  echo
  echo "How cost grows:"
  echo
  cat "$growth"
  echo
} >"$section"

echo
cat "$table"
echo
cat "$verdicts"
echo
cat "$growth"

# Replace our section of BENCHMARKS.md (or add it), leaving the rest as it is.
# Read the file right before writing it: others edit their own sections.
file=${BENCH_MD:-BENCHMARKS.md}
if [ -f "$file" ]; then
  awk -v newfile="$section" -v head="$SECTION" '
    function emit(  line) { while ((getline line < newfile) > 0) print line; close(newfile) }
    /^## / { if (skip) skip = 0; if ($0 == head) { emit(); done = 1; skip = 1; next } }
    !skip { print }
    END { if (!done) { print ""; emit() } }
  ' "$file" >"$WORK/benchmarks.md"
  cat "$WORK/benchmarks.md" >"$file"
else
  { echo "# Benchmarks"; echo; cat "$section"; } >"$file"
fi
say "wrote the \"Pages (public site)\" section of $file"
