#!/usr/bin/env bash
# Idle sockets beside real load: wrk at concurrency 64 for BENCH_DURATION
# (60s) on a cached abstract page, first alone, then with 1,000 idle sockets
# held open beside it (scripts/idle_sockets.py, which reopens any the server
# closes, as a hostile client would), then once more with the connection
# cap set just under what the two need (max_connections 1000), so that every
# socket reopened makes the server close the idlest one for the whole run.
# Otherwise the server runs with its defaults (max_connections 4096, header
# timeout 15 s, idle timeout 30 s).
#
#   scripts/bench-idle.sh            (uses bench-out/pages-repo-100000;
#                                     scripts/bench-pages.sh 100000 makes it)
#
# Prints a Markdown table and writes it into the "Idle sockets beside load"
# section of BENCHMARKS.md (other sections are left alone).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/wrk-figures.sh

DURATION=${BENCH_DURATION:-60s}
IDLE=${BENCH_IDLE_SOCKETS:-1000}
REPO=bench-out/pages-repo-100000
ARKIV=target/release/arkiv
SECTION="## Idle sockets beside load"
say() { echo "== $*" >&2; }

[ -f "$REPO/.bench-complete" ] || { echo "error: $REPO is missing: run scripts/bench-pages.sh 100000 first" >&2; exit 1; }
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --locked >&2
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The holder and wrk need descriptors too.
ulimit -n "$(ulimit -H -n)"
CONFIG="$REPO/arkiv.toml"
cp "$CONFIG" "$WORK/arkiv.toml.orig"
restore_config() { cp "$WORK/arkiv.toml.orig" "$CONFIG"; }
trap 'restore_config; cleanup' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT/50000/"
SERVER=
start_server() {
  ARKIV_LOG=warn "$ARKIV" --repo "$REPO" serve --listen "127.0.0.1:$PORT" 2>>"$WORK/server.log" &
  SERVER=$!
  PIDS+=("$SERVER")
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  curl -s -o /dev/null "$URL"
  wrk -t2 -c64 -d5s "$URL" >/dev/null # warm-up
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
beside_idle() {
  python3 scripts/idle_sockets.py 127.0.0.1 "$PORT" "$IDLE" > "$WORK/idle-$1.txt" 2>"$WORK/idle-$1.err" &
  local holder=$!
  PIDS+=("$holder")
  for _ in $(seq 1 300); do grep -q "open" "$WORK/idle-$1.err" 2>/dev/null && break; sleep 0.1; done
  wrk -t2 -c64 -d"$DURATION" --latency "$URL" > "$WORK/$1.txt"
  kill -TERM "$holder"; wait "$holder" 2>/dev/null || true
}
start_server

row() {
  local name=$1 out=$2
  local rps p50 p99 bad
  read -r rps p50 p99 bad < <(wrk_figures "$out")
  echo "| $name | $rps | $p50 | $p99 | $bad |"
}

say "wrk -c64 for $DURATION, alone"
wrk -t2 -c64 -d"$DURATION" --latency "$URL" > "$WORK/alone.txt"
say "$IDLE idle sockets, then wrk -c64 for $DURATION beside them"
beside_idle beside
rss=$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")
stop_server
say "the same at max_connections = 1000: the server at its cap all along"
sed -i 's/^\[server\]$/[server]\nmax_connections = 1000/' "$CONFIG"
start_server
beside_idle capped
stop_server
restore_config

TABLE=$(cat <<MD
| run | requests/s | p50 (ms) | p99 (ms) | errors and non-2xx |
|---|---:|---:|---:|---:|
$(row "wrk -c64 alone" "$WORK/alone.txt")
$(row "wrk -c64 beside $IDLE idle sockets" "$WORK/beside.txt")
$(row "the same, max_connections 1000 (at the cap)" "$WORK/capped.txt")
MD
)
SECTION_TEXT=$(cat <<MD
$SECTION

\`scripts/bench-idle.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); build \`$(git rev-parse --short HEAD)\`).
100,000 generated records (seed 1); the cached abstract page \`/50000/\`; wrk 4.1 \`-t2 -c64 -d$DURATION\` on the same
machine as the server; the server with its defaults (max_connections 4096, header timeout 15 s, idle timeout 30 s).
Beside the second and third runs, \`scripts/idle_sockets.py\` held $IDLE connections that send nothing, reopening at
once each one the server closed ($(cat "$WORK/idle-beside.txt") in the second run; $(cat "$WORK/idle-capped.txt")
in the third). In the third, \`max_connections = 1000\` puts the server at its cap for the whole run: every socket
reopened makes it close the idlest one (never one of wrk's, busy all the time), so that run is a connection flood from
a process on the same two cores rather than idle sockets. Server resident memory after the second run: $rss MB.

$TABLE

MD
)
echo "$TABLE"
python3 - "$SECTION" "$SECTION_TEXT" <<'PY'
import sys, re
section, text = sys.argv[1], sys.argv[2]
path = "BENCHMARKS.md"
doc = open(path).read()
start = doc.find(section + "\n")
if start < 0:
    doc = doc.rstrip("\n") + "\n\n" + text + "\n"
else:
    nxt = doc.find("\n## ", start + len(section))
    doc = doc[:start] + text + "\n" + (doc[nxt:] if nxt >= 0 else "")
open(path, "w").write(doc)
PY
say "wrote the \"$SECTION\" section of BENCHMARKS.md"
