#!/usr/bin/env bash
# The backup benchmark: a repository of generated records, each with a small
# PDF, backed up (`arkiv backup`), backed up again into the same directory
# (nothing but the tables is written again), then restored onto SQLite and
# onto PostgreSQL (`arkiv restore`), with wall time, peak RSS and sizes.
#
#   scripts/bench-backup.sh [COUNT]        (default: 100000)
#
# The repository is built once under bench-out/backup-N (reused when
# present: `arkiv generate --count N --pdfs` into it). PostgreSQL comes from
# scripts/postgres.sh; set BENCH_BACKENDS="sqlite" to skip it. Prints a
# Markdown table; BENCHMARKS.md's "Backup and restore" section keeps the
# rows by build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${1:-100000}
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
OUT=bench-out
say() { echo "bench-backup: $*" >&2; }

cargo build --release --locked >&2
ARKIV=${CARGO_TARGET_DIR:-target}/release/arkiv
mkdir -p "$OUT"
REPO="$OUT/backup-$N"
if [ ! -s "$REPO/arkiv.toml" ] || [ ! -e "$REPO/.complete" ]; then
  rm -rf "$REPO"
  say "generating $N records with PDFs"
  "$ARKIV" init "$REPO" >/dev/null
  "$ARKIV" --repo "$REPO" generate --count "$N" --seed 1 --pdfs >/dev/null
  touch "$REPO/.complete"
fi
WORK=$(mktemp -d "$OUT/backup-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PG_URL=""
if [[ " $BACKENDS " == *" postgres "* ]]; then
  PG_URL=$(scripts/postgres.sh | tail -n1)
fi
build=$(git rev-parse --short HEAD)

# Runs a command under /usr/bin/time; prints "seconds peak-MB".
timed() {
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || {
    cat "$WORK/out" "$WORK/err" >&2
    exit 1
  }
  awk '{ printf "%.1f s | %.0f MB", $1, $2 / 1024 }' "$WORK/time"
}
mb() { du -sm "$1" | awk '{ print $1 " MB" }'; }

db_mb=$(du -sm "$REPO/arkiv.db" | awk '{ print $1 }')
files_mb=$(du -sm "$REPO/files" | awk '{ print $1 }')
echo "| build | step | records | wall time | peak RSS | size |"
echo "|---|---|---:|---:|---:|---:|"
echo "| $build | the repository (database, files) | $N | | | ${db_mb} MB, ${files_mb} MB |"
B="$WORK/backup"
first=$(timed "$ARKIV" --repo "$REPO" backup "$B")
echo "| $build | backup, first (tables, files) | $N | $first | $(mb "$B/tables"), $(mb "$B/files") |"
second=$(timed "$ARKIV" --repo "$REPO" backup "$B")
echo "| $build | backup, second into the same directory | $N | $second | $(grep -o '[0-9]* copied' "$WORK/out") |"
for backend in $BACKENDS; do
  to="$WORK/restored-$backend"
  if [ "$backend" = postgres ]; then
    db="bench_restore_${N}_$$"
    psql "$PG_URL" -qc "CREATE DATABASE $db" >&2
    t=$(timed "$ARKIV" restore "$B" --to "$to" --database "${PG_URL%/*}/$db")
    psql "$PG_URL" -qc "DROP DATABASE $db WITH (FORCE)" >&2 || true
  else
    t=$(timed "$ARKIV" restore "$B" --to "$to")
  fi
  echo "| $build | restore onto $backend (checksums, files, tables) | $N | $t | |"
  rm -rf "$to"
done
say "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
