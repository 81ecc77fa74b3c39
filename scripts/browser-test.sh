#!/usr/bin/env bash
# Browser test of the public site: Debian's headless Chromium, driven by
# playwright-core, with axe-core, against a freshly made `arkiv demo`.
#
#   bash scripts/browser-test.sh
#
# Idempotent: installs only what is missing (Debian's chromium, Node.js if
# absent, tests/browser/node_modules from package-lock.json), builds the
# binary (a no-op when it is up to date), starts `arkiv demo --count 200` on a
# free loopback port in a temporary directory, runs tests/browser/site.test.mjs
# with node's test runner and stops the server however the script ends.
# Screenshots land in tests/browser/screenshots/.
#
# Environment:
#   ARKIV_BIN          use this binary instead of building target/debug/arkiv
#   CARGO_TARGET_DIR   honoured when building
#   ARKIV_DEMO_COUNT   generated records (default 200)
#   ARKIV_WAIT_SECS    how long to wait for the server to answer (default 120)
#
# The last line printed is "N passed, M failed"; the exit code is non-zero on
# any failure, including a failure to set up.

set -euo pipefail

START_DIR="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TESTS="$ROOT/tests/browser"
COUNT="${ARKIV_DEMO_COUNT:-200}"
WAIT_SECS="${ARKIV_WAIT_SECS:-120}"

say() { echo "browser-test: $*" >&2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/arkiv-browser.XXXXXX")"
SERVER_PID=""
TESTS_RAN=0

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  if [[ $rc -ne 0 && $TESTS_RAN -eq 0 ]]; then
    say "failed before the tests ran"
    echo "0 passed, 1 failed"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $*"; return 1
  fi
}

# --- Chromium (Debian's; Playwright's own browser download is not used) ---
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  say "installing Debian's chromium"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation
fi
export CHROMIUM

# --- Node.js 20 or later (playwright-core needs it) ---
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing Debian's nodejs and npm"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if (( NODE_MAJOR < 20 )); then
  say "node $(node --version) is too old: playwright-core needs node 20 or later"
  exit 1
fi

# --- tests/browser/node_modules, exactly as package-lock.json pins it ---
cd "$TESTS"
if [[ -f node_modules/.package-lock.json && node_modules/.package-lock.json -nt package-lock.json ]] \
   && npm ls --silent >/dev/null 2>&1; then
  say "node_modules is up to date"
elif [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

# --- the binary ---
if [[ -n "${ARKIV_BIN:-}" ]]; then
  BIN="$ARKIV_BIN"
  [[ "$BIN" == /* ]] || BIN="$START_DIR/$BIN"
else
  cd "$ROOT"
  cargo build --bin arkiv
  TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
  BIN="$TARGET_DIR/debug/arkiv"
fi
[[ -x "$BIN" ]] || { say "no binary at $BIN"; exit 1; }

# --- the demo server, on a free loopback port ---
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

LOG="$WORK/server.log"
started=0
for attempt in 1 2 3; do
  PORT="$(free_port)"
  say "starting $BIN demo --count $COUNT on 127.0.0.1:$PORT (attempt $attempt)"
  "$BIN" demo --dir "$WORK/repo" --listen "127.0.0.1:$PORT" --count "$COUNT" >"$LOG" 2>&1 &
  SERVER_PID=$!
  deadline=$((SECONDS + WAIT_SECS))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
         "http://127.0.0.1:$PORT/" 2>/dev/null; then
      started=1; break
    fi
    sleep 0.5
  done
  (( started )) && break
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    say "the server did not answer within ${WAIT_SECS}s; its log:"
    cat "$LOG" >&2
    exit 1
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  say "the server exited early; its log:"
  cat "$LOG" >&2
  # Most likely the port was taken between choosing and binding: try another.
done
(( started )) || { say "could not start the demo server"; exit 1; }
grep -m1 'Arkiv is serving' "$LOG" >&2 || true

# An editor for the deposit test (the demo's database is SQLite: a second
# writer waits for the server's transactions).
export ARKIV_EDITOR_EMAIL="editor@example.org"
export ARKIV_EDITOR_PASSWORD="browser-test editor passphrase"
echo "$ARKIV_EDITOR_PASSWORD" | "$BIN" --repo "$WORK/repo" user add "$ARKIV_EDITOR_EMAIL" --name "Demo Editor" --role editor --password-stdin >&2
# The admin reads the outbox on /admin: without SMTP, that is where a new
# account's confirmation link waits.
export ARKIV_ADMIN_EMAIL="admin@example.org"
export ARKIV_ADMIN_PASSWORD="browser-test admin passphrase"
echo "$ARKIV_ADMIN_PASSWORD" | "$BIN" --repo "$WORK/repo" user add "$ARKIV_ADMIN_EMAIL" --name "Demo Admin" --role admin --password-stdin >&2

# --- the test ---
cd "$TESTS"
mkdir -p screenshots
TAP="$WORK/results.tap"
TESTS_RAN=1
set +e
ARKIV_URL="http://127.0.0.1:$PORT/" node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$TAP" \
  site.test.mjs
rc=$?
set -e

count() { { grep -E "^# $1 [0-9]+$" "$TAP" 2>/dev/null || true; } | tail -1 | awk '{print $3}'; }
passed="$(count pass)"; failed="$(count fail)"; cancelled="$(count cancelled)"; skipped="$(count skipped)"
passed="${passed:-0}"; failed=$(( ${failed:-0} + ${cancelled:-0} )); skipped="${skipped:-0}"
if (( rc != 0 && failed == 0 )); then failed=1; fi   # the runner itself failed
say "screenshots in $TESTS/screenshots/"
if (( skipped > 0 )); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
(( failed == 0 && rc == 0 ))
