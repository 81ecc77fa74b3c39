#!/usr/bin/env bash
# Files on S3 against files in a directory (issue 31): a 100 MB file stored
# and served through HTTP by `arkiv serve`, once with `storage.files` a local
# directory and once on S3 (SeaweedFS on 127.0.0.1, scripts/seaweedfs.sh),
# both served through the server and, on S3, by presigned redirect.
#
#   scripts/bench-files.sh [MB] [RUNS]     (default: 100 5)
#
# Each run uploads different bytes (its first bytes changed) through the
# REST API (`POST /api/records/{id}/documents`, the body streamed by curl
# -T), then downloads the file anonymously with curl; times are curl's
# time_total. Reported: median, min and max per step, and the server's
# peak resident memory (VmHWM) after all runs. Prints a section in the
# form of BENCHMARKS.md's "Files on S3", which keeps the history by build
# (add the rows to keep there by hand). Data lives under bench-out/ and is
# deleted at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MB=${1:-100}
RUNS=${2:-5}
ARKIV=${ARKIV:-target/release/arkiv}
OUT=bench-out
SECTION="## Files on S3"
PORT=${BENCH_PORT:-18481}
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/files-run.XXXXXX")
WORK=$(cd "$WORK" && pwd)
SERVER=
cleanup() {
  if [[ -n $SERVER ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "== $*" >&2; }

[[ -x $ARKIV ]] || { say "building $ARKIV"; cargo build --release --locked -p arkiv; }
S3_URL=$(scripts/seaweedfs.sh | tail -n1)
S3_ENDPOINT="http://${S3_URL#*@}"
S3_KEY=$(echo "${S3_URL#http://}" | cut -d@ -f1 | cut -d: -f1)
S3_SECRET=$(echo "${S3_URL#http://}" | cut -d@ -f1 | cut -d: -f2)
WEED=${ARKIV_S3_VENV:-target/seaweed-venv}/bin/weed
MASTER_PORT=${ARKIV_S3_MASTER_PORT:-19333}

say "making a $MB MB file"
head -c "$((MB * 1024 * 1024))" /dev/urandom >"$WORK/paper.pdf"
printf '%%PDF-1.4\n' | dd of="$WORK/paper.pdf" conv=notrunc status=none

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
stats() { # a column of seconds -> "median (min-max) s, MB/s at the median"
  local f=$1 med min max
  med=$(median <"$f"); min=$(sort -n "$f" | head -1); max=$(sort -n "$f" | tail -1)
  awk -v med="$med" -v min="$min" -v max="$max" -v mb="$MB" \
    'BEGIN {printf "%.2f s (%.2f–%.2f) | %.0f", med, min, max, mb / med}'
}

# One backend: init, configure, serve, upload RUNS times, download RUNS
# times (and by presigned redirect on S3). Writes rows into $WORK/rows.
bench() {
  local name=$1 files=$2 presign=$3 repo="$WORK/repo-$1"
  say "$name: init"
  "$ARKIV" init "$repo" >/dev/null
  python3 - "$repo/arkiv.toml" "$files" "$S3_ENDPOINT" "$S3_KEY" "$S3_SECRET" "$presign" "$PORT" <<'EOF'
import re, sys
path, files, endpoint, key, secret, presign, port = sys.argv[1:]
t = open(path).read()
t = re.sub(r'(?m)^files = ".*"$', f'files = "{files}"', t, count=1)
t = re.sub(r'(?m)^endpoint = ".*"$', f'endpoint = "{endpoint}"', t, count=1)
t = re.sub(r'(?m)^allow_http = .*$', 'allow_http = true', t, count=1)
t = re.sub(r'(?m)^access_key_id = ".*"$', f'access_key_id = "{key}"', t, count=1)
t = re.sub(r'(?m)^secret_access_key = ".*"$', f'secret_access_key = "{secret}"', t, count=1)
t = re.sub(r'(?m)^presign_downloads = .*$', f'presign_downloads = {presign}', t, count=1)
t = re.sub(r'(?m)^listen = ".*"$', f'listen = "127.0.0.1:{port}"', t, count=1)
t = re.sub(r'(?m)^max_file_bytes = .*$', 'max_file_bytes = 4294967296', t, count=1)
t = re.sub(r'(?m)^draft_quota_mb = .*$', 'draft_quota_mb = 0', t, count=1)
open(path, "w").write(t)
EOF
  echo "a correct horse battery" | "$ARKIV" --repo "$repo" user add admin@example.org --name Admin --role admin --password-stdin >/dev/null 2>&1
  local token
  token=$("$ARKIV" --repo "$repo" user token admin@example.org --name bench --scopes read,deposit,edit,admin 2>/dev/null | tail -n1)
  ARKIV_LOG=warn "$ARKIV" --repo "$repo" serve >"$WORK/serve-$name.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
  local base="http://127.0.0.1:$PORT" auth="Authorization: Bearer $token"
  : >"$WORK/up-$name"; : >"$WORK/down-$name"; : >"$WORK/redirect-$name"
  local ids=()
  for run in $(seq "$RUNS"); do
    # Different bytes each run: no upload finds its bytes stored already.
    printf '%08d' "$run" | dd of="$WORK/paper.pdf" bs=1 seek=9 conv=notrunc status=none
    local id etag
    id=$(curl -sf -D "$WORK/h" -H "$auth" -H 'content-type: application/json' \
      -d '{"item_type": "other", "fields": {"title": "A large paper", "creators": "Bench, Mark", "date": "2026"}}' \
      "$base/api/records" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    etag=$(awk 'tolower($1) == "etag:" {print $2}' "$WORK/h" | tr -d '\r')
    curl -sf -o /dev/null -D "$WORK/h" -w '%{time_total}\n' -H "$auth" -H "if-match: $etag" \
      -H 'content-type: application/pdf' -X POST \
      -T "$WORK/paper.pdf" "$base/api/records/$id/documents?filename=paper.pdf" >>"$WORK/up-$name"
    etag=$(awk 'tolower($1) == "etag:" {print $2}' "$WORK/h" | tr -d '\r')
    curl -sf -o /dev/null -D "$WORK/h" -H "$auth" -H "if-match: $etag" -X POST "$base/api/records/$id/submit"
    etag=$(awk 'tolower($1) == "etag:" {print $2}' "$WORK/h" | tr -d '\r')
    curl -sf -o /dev/null -H "$auth" -H "if-match: $etag" -X POST "$base/api/records/$id/accept"
    ids+=("$id")
  done
  for id in "${ids[@]}"; do
    if [[ $presign == true ]]; then
      curl -sfL -o /dev/null -w '%{time_total}\n' "$base/$id/1/paper.pdf" >>"$WORK/redirect-$name"
    else
      curl -sf -o /dev/null -w '%{time_total}\n' "$base/$id/1/paper.pdf" >>"$WORK/down-$name"
    fi
  done
  local hwm
  hwm=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  local label="local directory"
  [[ $files == s3://* ]] && label="S3 (SeaweedFS)"
  [[ $presign == true ]] && label="S3 (SeaweedFS), presign_downloads"
  [[ -s $WORK/up-$name ]] && echo "| $label | upload (REST API, streamed) | $(stats "$WORK/up-$name") | $hwm |" >>"$WORK/rows"
  [[ -s $WORK/down-$name ]] && echo "| $label | download through the server | $(stats "$WORK/down-$name") | |" >>"$WORK/rows"
  [[ -s $WORK/redirect-$name ]] && echo "| $label | download by presigned redirect (curl -L) | $(stats "$WORK/redirect-$name") | |" >>"$WORK/rows"
  return 0
}

: >"$WORK/rows"
bench local files false
bucket="arkiv-bench-$$"
echo "s3.bucket.create -name $bucket" | "$WEED" shell -master="127.0.0.1:$MASTER_PORT" >/dev/null 2>&1
bench s3 "s3://$bucket/repo" false
bench s3-presigned "s3://$bucket/repo2" true
echo "s3.bucket.delete -name $bucket" | "$WEED" shell -master="127.0.0.1:$MASTER_PORT" >/dev/null 2>&1 || true
cat "$WORK/rows"

machine="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM; $(rustc --version); $(date -u '+%Y-%m-%d %H:%M UTC')"
section="$SECTION

A $MB MB file stored and served through HTTP, files in a local directory
against files on S3. Reproduce with:

    scripts/bench-files.sh $MB $RUNS

- Machine: $machine. Shared with other builds while it ran: figures are
  indicative, the ratios more than the absolutes.
- S3: SeaweedFS $("$WEED" version 2>/dev/null | awk '{print $3}') (\`weed server -s3\`, one process, data on the same disk) on
  127.0.0.1, started by \`scripts/seaweedfs.sh\`; the default timeouts.
- Upload: \`POST /api/records/{id}/documents\` with the body streamed by \`curl -T\`
  (the server hashes it while it writes it to \`staging/\`, a multipart upload on S3,
  then moves it under its SHA-256: a rename locally, a copy and a delete on S3);
  each run different bytes. Download: \`GET /{id}/1/paper.pdf\` anonymously with
  curl, through the server (locally in 256 KiB reads, from S3 as one streamed
  ranged GET), or on S3 with
  \`presign_downloads = true\`, the 307 and then the bytes straight from the store
  (\`curl -L\`). $RUNS runs each; median, min–max, MB/s at the median.
- Peak memory: the server's VmHWM after all the runs of that row's server
  (the upload row's server also served the downloads below it).
- Binary: \`$ARKIV\`$([[ $ARKIV == *debug* ]] && echo " (the dev profile: Arkiv's crates unoptimised, dependencies at opt-level 1; a release build was not possible in the time this ran)").

| files | step | time, median (min–max) | MB/s | server peak RSS (MB) |
|---|---|---:|---:|---:|
$(cat "$WORK/rows")
"
echo "$section"
say "BENCHMARKS.md's \"Files on S3\" section keeps the history by build: add the rows you want to keep there by hand"
