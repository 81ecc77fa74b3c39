#!/usr/bin/env bash
# The search benchmark: Arkiv's Tantivy index beside SQLite FTS5 (the floor
# to beat) on the same generated records in the same process
# (crates/arkiv-search/examples/bench_search.rs says exactly what is
# measured and how the 1,000-query mix is made).
#
#   scripts/bench-search.sh [COUNTS...]        (default: 100000 1000000)
#
# Builds the example in release mode, runs it once per count, prints a
# Markdown table and writes it into the "Search" section of BENCHMARKS.md
# (other sections are left alone). Like bench-pages.sh it waits (at most
# BENCH_QUIET_MAX seconds, 1200 by default) while cargo, rustc or an import
# runs, and marks rows measured under such load.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(100000 1000000)
QUIET_MAX=${BENCH_QUIET_MAX:-1200}
SECTION="## Search"
say() { echo "bench-search: $*" >&2; }

cargo build --release --locked -p arkiv-search --example bench_search >&2
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_search

busy() { pgrep -x 'cargo|rustc' >/dev/null 2>&1 || pgrep -f 'arkiv .*import' >/dev/null 2>&1; }
wait_quiet() {
  local waited=0
  while busy && [ "$waited" -lt "$QUIET_MAX" ]; do
    [ "$waited" -eq 0 ] && say "waiting for a quiet machine"
    sleep 15
    waited=$((waited + 15))
  done
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rows="$WORK/rows.md"
: >"$rows"
for n in "${COUNTS[@]}"; do
  wait_quiet
  loaded=""
  busy && loaded=" †"
  say "$n records"
  # The index is kept for a second run that only searches it: the memory
  # a process serving that index uses (see bench_search.rs).
  BENCH_SEARCH_INDEX="$WORK/index-$n" /usr/bin/time -v "$BIN" "$n" >"$WORK/out.json" 2>"$WORK/time.txt"
  rss_mb=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$WORK/time.txt")
  say "$n records: searching the kept index in a new process"
  BENCH_SEARCH_INDEX="$WORK/index-$n" "$BIN" "$n" --no-fts5 >"$WORK/serve.json"
  rm -rf "$WORK/index-$n"
  python3 - "$WORK/out.json" "$rss_mb" "$loaded" "$WORK/serve.json" >>"$rows" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); rss = sys.argv[2]; mark = sys.argv[3]
serve = json.load(open(sys.argv[4]))
n = d["records"]
def row(name, e, mem):
    l = e["latency"]
    per = " / ".join(f'{l[k]["p99_ms"]:.1f}' for k in ("word", "phrase", "fielded", "faceted", "deep"))
    print(f'| {n:,}{mark} | {name} | {e["records_per_sec"]:,.0f} | {e["index_bytes"] / 1e6:,.1f} MB '
          f'({e["index_bytes"] / n:,.0f} B/record) | {l["all"]["p50_ms"]:.2f} | {l["all"]["p99_ms"]:.2f} | {per} | {mem} |')
t = d["tantivy"]
row("Arkiv (Tantivy)", t, f'{t["peak_rss_kib"] / 1024:,.0f} MB; searching: {serve["search_anon_kib"] / 1024:,.0f} MB '
    f'+ {serve["mapped_kib"] / 1024:,.0f} MB mapped')
row("SQLite FTS5", d["fts5"], f'{rss} MB (both)')
EOF
done

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
ram=$(awk '/^MemTotal:/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)
section="$WORK/section.md"
{
  echo "$SECTION"
  echo
  echo "\`scripts/bench-search.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($cpu), $ram RAM; $(rustc --version))."
  echo "Generated records (seed 1, metadata only), indexed in one process; then 1,000 fixed queries, one at a time,"
  echo "with every facet counted for Arkiv (type, year, subject, creator, series, language, full text) and"
  echo "type, year and series counted by GROUP BY for FTS5. Latencies in ms; the per-kind column gives p99 for"
  echo "one word / phrase / fielded / faceted / deep page (page 101)."
  echo
  echo "| records | engine | indexing (records/s) | index size | p50 | p99 | p99 by kind | peak memory |"
  echo "|---|---|---|---|---|---|---|---|"
  cat "$rows"
  echo
  if grep -q '†' "$rows"; then
    echo "† measured while another cargo/rustc/import process was running on this machine."
    echo
  fi
  echo "Targets: indexing ≥ 20,000 records/s for metadata; p99 < 20 ms at 1,000,000 records with facets."
  echo "Cost growth: a query's cost grows with the number of matching records, not with the repository:"
  echo "one pass without scores sets a bit per match; block-max WAND scores only the blocks that can reach"
  echo "the page; facets with few values cost a popcount per value, the others one array read per match"
  echo "(or per non-match, when those are fewer). A deep page costs about what the first does (search-after"
  echo "cursor), where FTS5's OFFSET re-ranks every earlier hit."
  echo "Peak memory is the benchmark process, which holds every generated record; \"searching\" is what serving"
  echo "the queries added: allocated memory (facet arrays, caches) and the index's pages mapped (RssFile)."
  echo
} >"$section"
cat "$section"

file=${BENCH_MD:-BENCHMARKS.md}
awk -v newfile="$section" -v head="$SECTION" '
  function emit(  line) { while ((getline line < newfile) > 0) print line; close(newfile) }
  /^## / { if (skip) skip = 0; if ($0 == head) { emit(); done = 1; skip = 1; next } }
  !skip { print }
  END { if (!done) { print ""; emit() } }
' "$file" >"$WORK/benchmarks.md"
cat "$WORK/benchmarks.md" >"$file"
say "wrote the \"Search\" section of $file"
