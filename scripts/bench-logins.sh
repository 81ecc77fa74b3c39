#!/usr/bin/env bash
# Pages beside a login flood: wrk at concurrency 8 for BENCH_DURATION (30s)
# on a cached abstract page, first alone, then while 64 clients log in as
# fast as they can (scripts/login_flood.py, the right password each time,
# so that every login is checked: argon2id, 19 MiB, two passes). Password
# hashing runs on a bounded blocking pool (half the cores), so the pages
# should keep most of their speed; before it did, 64 parallel logins took
# an unrelated page from 2 ms to seconds.
#
#   scripts/bench-logins.sh
#
# Then times 200 password-reset requests for a known and for an unknown
# address: the answers must not tell the two apart.
#
# Prints a Markdown table and writes it into the "Pages beside a login
# flood" section of BENCHMARKS.md (other sections are left alone).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/wrk-figures.sh

DURATION=${BENCH_DURATION:-30}
USERS=64
PASSWORD="a bench login passphrase"
ARKIV=target/release/arkiv
SECTION="## Pages beside a login flood"
say() { echo "== $*" >&2; }

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --locked >&2
WORK=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

say "a repository with the seed record and $USERS users"
"$ARKIV" init "$WORK/repo" >/dev/null
# The flood's users come from addresses of their own, reported as by a
# reverse proxy on 127.0.0.1: 64 people, not one address failing at 64.
sed -i 's/^trusted_proxies = \[\]/trusted_proxies = ["127.0.0.1"]/' "$WORK/repo/arkiv.toml"
grep -q '^trusted_proxies = \["127.0.0.1"\]' "$WORK/repo/arkiv.toml"
"$ARKIV" --repo "$WORK/repo" import eprints-xml data/seed/seed.xml >/dev/null
for i in $(seq 0 $((USERS - 1))); do
  echo "$PASSWORD" | ARKIV_LOG=error "$ARKIV" --repo "$WORK/repo" user add "user$i@example.org" --name "User $i" --role editor --password-stdin >/dev/null
done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT/1/"
ARKIV_LOG=warn "$ARKIV" --repo "$WORK/repo" serve --listen "127.0.0.1:$PORT" 2>>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
curl -s -o /dev/null "$URL"
wrk -t2 -c8 -d5s "$URL" >/dev/null # warm-up

row() {
  local name=$1 out=$2 logins=$3
  local rps p50 p99 bad
  read -r rps p50 p99 bad < <(wrk_figures "$out")
  echo "| $name | $rps | $p50 | $p99 | $bad | $logins |"
}

say "wrk -c8 for ${DURATION}s, alone"
wrk -t2 -c8 -d"${DURATION}s" --latency "$URL" > "$WORK/alone.txt"
say "wrk -c8 for ${DURATION}s beside $USERS clients logging in"
python3 scripts/login_flood.py 127.0.0.1 "$PORT" "$USERS" "$PASSWORD" "$DURATION" > "$WORK/flood.txt" &
FLOOD=$!
sleep 1
wrk -t2 -c8 -d"$((DURATION - 2))s" --latency "$URL" > "$WORK/beside.txt"
wait "$FLOOD"
read -r logins ok per_second _ < "$WORK/flood.txt"
say "password-reset answers, a known and an unknown address, 200 each"
read -r known_p50 known_p99 < <(python3 scripts/login_flood.py --forgot 127.0.0.1 "$PORT" user0@example.org 200)
read -r unknown_p50 unknown_p99 < <(python3 scripts/login_flood.py --forgot 127.0.0.1 "$PORT" nobody@example.org 200)
rss=$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")

cores=$(nproc)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
table=$(
  echo "$SECTION"
  echo
  echo "\`scripts/bench-logins.sh\`, $(date -u +%Y-%m-%d), $cpu, $cores cores, release build. wrk -t2 -c8 for ${DURATION}s on a cached abstract page (\`/1/\`), alone and beside $USERS clients (\`scripts/login_flood.py\`) each logging in with the right password as fast as the server answers, from an address of its own (X-Forwarded-For from a trusted proxy; every login passes the rate limits: two atomic claims before the check, a forget and a refund after): $logins logins, $ok of them let in, $per_second logins/s. Password hashing runs on $((cores / 2 > 0 ? cores / 2 : 1)) blocking thread(s) (half the cores); the logins beyond wait their turn. Server RSS after the flood: $rss MB."
  echo
  echo "| run | pages/s | median ms | p99 ms | errors | logins |"
  echo "|---|---|---|---|---|---|"
  row "alone" "$WORK/alone.txt" "-"
  row "beside the login flood" "$WORK/beside.txt" "$logins"
  echo
  echo "\`/password/forgot\`, 200 requests in a row per address, the answer's time: a known address $known_p50 ms median, $known_p99 ms p99; an unknown address $unknown_p50 ms median, $unknown_p99 ms p99. The lookup and the mail run after the answer; what differs is the known address's work in the background sharing the cores with the next request."
)
echo "$table"
python3 - "$SECTION" "$table" <<'PY'
import re, sys
section, table = sys.argv[1], sys.argv[2]
path = "BENCHMARKS.md"
text = open(path).read()
pattern = re.compile(re.escape(section) + r"\n.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda m: table + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + table + "\n"
open(path, "w").write(text)
PY
