#!/usr/bin/env bash
# Makes a PostgreSQL server available on 127.0.0.1 for Arkiv's tests and
# prints the URL to use on the last line of stdout:
#
#   export ARKIV_TEST_POSTGRES_URL=$(scripts/postgres.sh | tail -n1)
#   cargo test -p arkiv-storage --test store_suite
#
#   scripts/postgres.sh stop      # stops the server
#   scripts/postgres.sh status    # exit 0 if running
#
# Idempotent: the first run installs PostgreSQL if no server binaries can be
# found (Debian, as root: apt-get install postgresql), creates a cluster in
# $ARKIV_PG_DIR (default: target/pgdata under the repository root, or
# /var/tmp/arkiv-pgdata-PORT if the server's user cannot reach that), starts it
# on port $ARKIV_PG_PORT (default 55432) listening on 127.0.0.1 only, and
# creates the role arkiv (password arkiv, CREATEDB so that tests can make a
# database each) and the database arkiv_test. Later runs only check, and start
# the server if it is down.
#
# Durability settings are PostgreSQL's defaults (fsync and synchronous_commit
# on): crash tests rely on a committed transaction surviving a killed server.
#
# Everything but the URL goes to stderr.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${ARKIV_PG_PORT:-55432}
DB_USER=arkiv
DB_PASSWORD=arkiv
DB_NAME=arkiv_test
SUPERUSER=postgres
if [[ -n "${ARKIV_PG_DIR:-}" ]]; then
    PGDIR_EXPLICIT=1
    PGDIR=$ARKIV_PG_DIR
else
    PGDIR_EXPLICIT=0
    PGDIR=$REPO_ROOT/target/pgdata
fi
# Absolute path: pg_ctl runs as another user from another directory.
case "$PGDIR" in /*) ;; *) PGDIR=$PWD/$PGDIR ;; esac

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- Binaries ---------------------------------------------------------------

# The directory holding postgres, initdb and pg_ctl of one installation:
# PATH first (resolving symlinks such as /usr/local/bin/postgres ->
# /usr/lib/postgresql/15/bin/postgres), then Debian's versioned directories,
# newest first.
find_bindir() {
    local p dir
    if p=$(command -v postgres 2>/dev/null) || p=$(command -v initdb 2>/dev/null); then
        dir=$(dirname "$(readlink -f "$p")")
        if [[ -x $dir/postgres && -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
        if [[ -x $dir/postgres && -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

ensure_installed() {
    if BINDIR=$(find_bindir); then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        die "no PostgreSQL server binaries (postgres, initdb, pg_ctl) found in PATH or /usr/lib/postgresql/*/bin; install PostgreSQL or run this script as root"
    fi
    command -v apt-get >/dev/null || die "no PostgreSQL found and no apt-get to install it with"
    log "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y postgresql >&2
    BINDIR=$(find_bindir) || die "PostgreSQL was installed but its binaries cannot be found"
}

# A client tool: from the server's directory if there, else from PATH.
client() {
    if [[ -x $BINDIR/$1 ]]; then echo "$BINDIR/$1"; else command -v "$1" || die "$1 not found"; fi
}

# --- The user the server runs as ---------------------------------------------

# PostgreSQL refuses to run as root. As root, the cluster belongs to the
# `postgres` system user if there is one, else to `arkivpg` (created here).
RUN_USER=
choose_user() {
    if [[ $(id -u) -ne 0 ]]; then
        RUN_USER=$(id -un)
        return
    fi
    if id postgres >/dev/null 2>&1; then
        RUN_USER=postgres
    else
        if ! id arkivpg >/dev/null 2>&1; then
            log "creating system user arkivpg to run PostgreSQL"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin arkivpg
        fi
        RUN_USER=arkivpg
    fi
}

# Runs a command as RUN_USER.
as_user() {
    if [[ $(id -u) -ne 0 ]]; then
        "$@"
    elif command -v runuser >/dev/null; then
        runuser -u "$RUN_USER" -- "$@"
    else
        su -s /bin/sh "$RUN_USER" -c "$(printf '%q ' "$@")"
    fi
}

# --- The cluster -------------------------------------------------------------

prepare_dir() {
    mkdir -p "$PGDIR"
    if [[ $(id -u) -eq 0 ]]; then
        chown "$RUN_USER" "$PGDIR"
    fi
    chmod 700 "$PGDIR"
    if ! as_user test -w "$PGDIR" -a -x "$PGDIR"; then
        if [[ $PGDIR_EXPLICIT -eq 1 ]]; then
            die "$RUN_USER cannot use $PGDIR (a parent directory is not accessible to it); choose another ARKIV_PG_DIR"
        fi
        # E.g. a checkout under /root: the server's user cannot get there.
        rmdir "$PGDIR" 2>/dev/null || true
        PGDIR=/var/tmp/arkiv-pgdata-$PORT
        log "$RUN_USER cannot reach the default data directory; using $PGDIR (set ARKIV_PG_DIR to choose)"
        mkdir -p "$PGDIR"
        [[ $(id -u) -eq 0 ]] && chown "$RUN_USER" "$PGDIR"
        chmod 700 "$PGDIR"
    fi
}

# The unix socket lives in the data directory unless that path is too long
# for a socket address (about 107 bytes).
socket_dir() {
    local s="$PGDIR/.s.PGSQL.$PORT"
    if (( ${#s} < 100 )); then
        echo "$PGDIR"
    else
        local d=/tmp/arkiv-pg-$PORT
        mkdir -p "$d"
        [[ $(id -u) -eq 0 ]] && chown "$RUN_USER" "$d"
        chmod 700 "$d"
        echo "$d"
    fi
}

init_cluster() {
    if [[ -f $PGDIR/PG_VERSION ]]; then
        return
    fi
    if [[ -n $(ls -A "$PGDIR") ]]; then
        die "$PGDIR is not empty and holds no PostgreSQL cluster; remove it or choose another ARKIV_PG_DIR"
    fi
    log "initialising a cluster in $PGDIR"
    # C collation: text orders by bytes, as in SQLite. Local (socket)
    # connections are trusted, TCP ones need a password.
    as_user "$BINDIR/initdb" -D "$PGDIR" -U "$SUPERUSER" --encoding=UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >&2
}

is_running() {
    as_user "$BINDIR/pg_ctl" status -D "$PGDIR" >/dev/null 2>&1
}

start_server() {
    if is_running; then
        log "server already running ($PGDIR)"
        return
    fi
    log "starting the server on 127.0.0.1:$PORT"
    local opts="-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$SOCKDIR"
    if ! as_user "$BINDIR/pg_ctl" start -D "$PGDIR" -l "$PGDIR/server.log" -w -t 60 -o "$opts" >&2; then
        log "the server did not start; end of $PGDIR/server.log:"
        tail -n 30 "$PGDIR/server.log" >&2 || true
        exit 1
    fi
}

# Waits until the server accepts connections. Fails early if it is not
# running at all (a server killed a moment ago can look running until its
# process is gone).
wait_ready() {
    local isready i
    isready=$(client pg_isready)
    for ((i = 0; i < 120; i++)); do
        if "$isready" -q -h 127.0.0.1 -p "$PORT" -d postgres; then
            return 0
        fi
        if ! is_running; then
            return 1
        fi
        sleep 0.5
    done
    die "the server on 127.0.0.1:$PORT is not ready after 60 s; see $PGDIR/server.log"
}

start_and_wait() {
    start_server
    if ! wait_ready; then
        log "the server went away; starting it again"
        start_server
        wait_ready || die "the server on 127.0.0.1:$PORT stopped while starting; see $PGDIR/server.log"
    fi
}

# psql as the superuser over the socket.
psql_super() {
    as_user "$(client psql)" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
}

ensure_role_and_db() {
    if [[ $(psql_super -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'") != 1 ]]; then
        log "creating role $DB_USER"
        psql_super -c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
    else
        psql_super -c "ALTER ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
    fi
    if [[ $(psql_super -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'") != 1 ]]; then
        log "creating database $DB_NAME"
        psql_super -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
    fi
}

# For stop and status: the cluster start put in /var/tmp (see prepare_dir).
use_fallback_dir_if_there() {
    local fallback=/var/tmp/arkiv-pgdata-$PORT
    if [[ $PGDIR_EXPLICIT -eq 0 && ! -f $PGDIR/PG_VERSION && -f $fallback/PG_VERSION ]]; then
        PGDIR=$fallback
    fi
}

# --- Main --------------------------------------------------------------------

cmd=${1:-start}
case "$cmd" in
    start)
        ensure_installed
        choose_user
        prepare_dir
        SOCKDIR=$(socket_dir)
        init_cluster
        start_and_wait
        ensure_role_and_db
        echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
        ;;
    stop)
        BINDIR=$(find_bindir) || die "no PostgreSQL binaries found"
        choose_user
        use_fallback_dir_if_there
        if [[ -f $PGDIR/PG_VERSION ]] && is_running; then
            as_user "$BINDIR/pg_ctl" stop -D "$PGDIR" -m fast -w >&2
            log "stopped"
        else
            log "not running"
        fi
        ;;
    status)
        BINDIR=$(find_bindir) || die "no PostgreSQL binaries found"
        choose_user
        use_fallback_dir_if_there
        if [[ -f $PGDIR/PG_VERSION ]] && is_running; then
            log "running ($PGDIR, port $PORT)"
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
