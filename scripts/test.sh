#!/usr/bin/env bash
# Arkiv's whole test suite: the command README.md names and .ci/run calls.
#
# Installs and starts what the tests need on 127.0.0.1 (PostgreSQL through
# scripts/postgres.sh; xmllint, bibtex, biber and the Python clients through
# scripts/tools.sh; Chromium and the npm packages of the browser test
# through scripts/browser-test.sh). Checks formatting (cargo fmt), lints
# (clippy, warnings are errors) and the feature builds Cargo.toml promises,
# then runs every Rust test of the workspace against SQLite and
# PostgreSQL, and the file-store tests against a local directory and S3
# (SeaweedFS through scripts/seaweedfs.sh), three nodes behind HAProxy
# (Debian's, installed here), then the browser test.
#
# The tests read ../shared (the corpus and schemas) when it is there; without
# it they say so and skip, except under CI=true, where they fail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -d ../shared ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: ../shared is missing; CI needs it beside the project" >&2
    exit 1
  fi
  echo "note: ../shared is absent: the tests that read it will skip" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed (https://rustup.rs)" >&2
  exit 1
fi

echo "== Formatting, lints and the builds Cargo.toml promises"
for tool in fmt clippy; do
  if ! cargo "$tool" --version >/dev/null 2>&1; then
    component=$([ "$tool" = fmt ] && echo rustfmt || echo clippy)
    rustup component add "$component" || { echo "error: cargo $tool is missing and rustup cannot add $component" >&2; exit 1; }
  fi
done
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# A build without mimalloc, for platforms where its C code does not build,
# and without S3 support (cargo feature s3): both are default features.
cargo check --locked --no-default-features
# The search crate without PDF text extraction (pdf-extract, lopdf).
cargo check --locked -p arkiv-search --no-default-features --all-targets

echo "== PostgreSQL for the store tests"
ARKIV_TEST_POSTGRES_URL=$(scripts/postgres.sh | tail -n1)
export ARKIV_TEST_POSTGRES_URL
# One trap for both servers (a second `trap ... EXIT` would replace the
# first); stopping one that never started is harmless.
trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true; scripts/seaweedfs.sh stop >/dev/null 2>&1 || true' EXIT

echo "== SeaweedFS (S3) for the file-store tests"
ARKIV_TEST_S3_URL=$(scripts/seaweedfs.sh | tail -n1)
export ARKIV_TEST_S3_URL

echo "== HAProxy (Debian's) for the multi-node test"
if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    # Only the binary is wanted: no service is started (a policy-rc.d of
    # our own, unless the machine has one).
    own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy >/dev/null; }
    [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
  else
    echo "note: no haproxy and no root apt-get: the multi-node test will skip (fail under CI=true)" >&2
  fi
fi

echo "== Third-party checkers (xmllint, bibtex, biber, Python clients)"
ARKIV_PYTHON=$(scripts/tools.sh | tail -n1)
export ARKIV_PYTHON

echo "== Rust tests (SQLite and PostgreSQL, local files and S3)"
cargo test --workspace --locked

echo "== Browser test (headless Chromium, axe-core)"
scripts/browser-test.sh
