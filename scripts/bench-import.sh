#!/usr/bin/env bash
# The import benchmark: generated records (no PDFs: the metadata path)
# imported from EPrints XML into a fresh repository, on SQLite and on
# PostgreSQL, with wall time, records/s, peak RSS and database size.
#
#   scripts/bench-import.sh [COUNTS...]        (default: 10000 100000)
#
# For each count it generates `bench-out/gen-N.xml` once (`arkiv generate
# --count N --seed 1`, reused when present), then for each backend runs
# `arkiv init` and `arkiv import eprints-xml` under /usr/bin/time (BENCH_RUNS
# runs, 3 by default for counts up to 10,000, else 1; the median is
# reported). PostgreSQL comes from scripts/postgres.sh; set
# BENCH_BACKENDS="sqlite" to skip it. BENCH_FORMAT=ris, bibtex or csljson
# imports the same records in that format instead (`bench-out/gen-N.ris`,
# `.bib`, `.json`, made once by importing the XML into a scratch repository
# and `arkiv export FORMAT`, untimed). Crossref and DataCite JSON have no
# export to make them from, and are not benchmarked. Prints a
# Markdown table; the
# "Import (record store)" section of BENCHMARKS.md keeps the history by
# build, so add the rows you want to keep there by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10000 100000)
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
FORMAT=${BENCH_FORMAT:-eprints-xml}
case "$FORMAT" in
  eprints-xml) ;;
  ris) EXT=ris ;;
  bibtex) EXT=bib ;;
  csljson) EXT=json ;;
  *) echo "BENCH_FORMAT is eprints-xml, ris, bibtex or csljson" >&2; exit 1 ;;
esac
OUT=bench-out
say() { echo "bench-import: $*" >&2; }

cargo build --release --locked >&2
ARKIV=${CARGO_TARGET_DIR:-target}/release/arkiv
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/import-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PG_URL=""
if [[ " $BACKENDS " == *" postgres "* ]]; then
  PG_URL=$(scripts/postgres.sh | tail -n1)
fi
build=$(git rev-parse --short HEAD)

echo "| build | backend | records | runs | wall time | records/s | peak RSS | database | bytes/record |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for n in "${COUNTS[@]}"; do
  xml="$OUT/gen-$n.xml"
  if [ ! -s "$xml" ]; then
    say "generating $n records"
    "$ARKIV" generate --count "$n" --seed 1 -o "$xml.part" >&2
    mv "$xml.part" "$xml"
  fi
  input=$xml
  if [ "$FORMAT" != eprints-xml ]; then
    input="$OUT/gen-$n.$EXT"
    if [ ! -s "$input" ]; then
      say "writing $n records as $FORMAT"
      scratch="$WORK/scratch-$n"
      "$ARKIV" init "$scratch" >/dev/null
      "$ARKIV" --repo "$scratch" import eprints-xml "$xml" >/dev/null 2>&1
      "$ARKIV" --repo "$scratch" export "$FORMAT" -o "$input.part" >/dev/null
      mv "$input.part" "$input"
      rm -rf "$scratch"
    fi
  fi
  runs=${BENCH_RUNS:-$([ "$n" -le 10000 ] && echo 3 || echo 1)}
  for backend in $BACKENDS; do
    results="$WORK/results-$backend-$n"
    : >"$results"
    for run in $(seq "$runs"); do
      repo="$WORK/repo-$backend-$n-$run"
      db=""
      if [ "$backend" = postgres ]; then
        db="bench_import_${n}_${run}_$$"
        psql "$PG_URL" -qc "CREATE DATABASE $db" >&2
        "$ARKIV" init "$repo" --database "${PG_URL%/*}/$db" >/dev/null
      else
        "$ARKIV" init "$repo" >/dev/null
      fi
      /usr/bin/time -f "%e %M" -o "$WORK/time" "$ARKIV" --repo "$repo" import "$FORMAT" "$input" >/dev/null 2>"$WORK/err" \
        || { cat "$WORK/err" >&2; exit 1; }
      read -r secs kb <"$WORK/time"
      if [ "$backend" = postgres ]; then
        bytes=$(psql "$PG_URL" -tAc "SELECT pg_database_size('$db')")
        psql "$PG_URL" -qc "DROP DATABASE $db" >&2
      else
        # The import leaves its last writes in SQLite's log (arkiv.db-wal),
        # which the server folds in later; fold it now (not timed) so the
        # size is what the repository keeps, when the sqlite3 tool is here.
        if command -v sqlite3 >/dev/null; then
          sqlite3 "$repo/arkiv.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
        fi
        bytes=$(du -cb "$repo"/arkiv.db* 2>/dev/null | awk 'END {print $1}')
      fi
      echo "$secs $kb $bytes" >>"$results"
      rm -rf "$repo"
    done
    sort -n "$results" | awk -v n="$n" -v runs="$runs" -v backend="$backend" -v build="$build" -v format="$FORMAT" '
      { s[NR] = $1; k[NR] = $2; b[NR] = $3 }
      END {
        m = int((NR + 1) / 2)
        name = (backend == "postgres") ? "PostgreSQL" : "SQLite"
        printf "| `%s`%s | %s | %\047d | %d%s | %.2f s | %\047d | %d MB | %.1f MB | %\047d |\n",
          build, (format == "eprints-xml" ? "" : " " format), name, n, runs, (runs > 1 ? " (median)" : ""), s[m], n / s[m], k[m] / 1024, b[m] / 1e6, b[m] / n
      }'
  done
done
