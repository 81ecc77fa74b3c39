#!/usr/bin/env bash
# The multi-node benchmark (issue 32): an abstract page, a search page and
# the first OAI-PMH ListRecords page, loaded with wrk (-t2 -c16,
# BENCH_DURATION each, 10s by default) straight at one node, through
# HAProxy in front of that one node, and through HAProxy in front of three
# nodes, over one PostgreSQL database and one S3 bucket.
#
#   scripts/bench-cluster.sh [RECORDS]        (default 10000)
#
# Every process (wrk, HAProxy, the nodes, PostgreSQL) shares this machine's
# cores: the figures show what the balancer's hop costs, not how Arkiv
# scales across machines. PostgreSQL comes from scripts/postgres.sh, the
# bucket from scripts/seaweedfs.sh (their ports from the same variables),
# HAProxy and wrk from Debian (installed if missing, as root). Prints a
# Markdown table; BENCHMARKS.md's "Several nodes" section keeps the rows.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${1:-10000}
DURATION=${BENCH_DURATION:-10s}
OUT=bench-out
ARKIV=${CARGO_TARGET_DIR:-target}/release/arkiv
say() { echo "bench-cluster: $*" >&2; }

for tool in haproxy wrk; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "installing $tool"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$tool" >/dev/null
  fi
done
cargo build --release --locked >&2
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/cluster-run.XXXXXX")
PG_URL=$(scripts/postgres.sh | tail -n1)
S3_URL=$(scripts/seaweedfs.sh | tail -n1)
DB="bench_cluster_$$"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

psql "$PG_URL" -qc "CREATE DATABASE $DB" >&2
creds=${S3_URL#*://}
creds=${creds%@*}
LB_PORT=$(free_port)
cat >"$WORK/arkiv.toml" <<EOF
[repository]
name = "Cluster benchmark"
base_url = "http://127.0.0.1:$LB_PORT"
[storage]
database = "${PG_URL%/*}/$DB"
files = "s3://bench-cluster-$$/site"
[s3]
endpoint = "http://${S3_URL##*@}"
allow_http = true
access_key_id = "${creds%%:*}"
secret_access_key = "${creds#*:}"
[server]
trusted_proxies = ["127.0.0.1"]
EOF
for i in 1 2 3; do
  mkdir -p "$WORK/node$i"
  cp "$WORK/arkiv.toml" "$WORK/node$i/arkiv.toml"
done

xml="$OUT/gen-$N.xml"
if [ ! -s "$xml" ]; then
  say "generating $N records"
  "$ARKIV" generate --count "$N" --seed 1 -o "$xml.part" >&2
  mv "$xml.part" "$xml"
fi
say "importing $N records into PostgreSQL"
"$ARKIV" --repo "$WORK/node1" import eprints-xml "$xml" >/dev/null 2>&1

NODE_PORTS=()
for i in 1 2 3; do
  port=$(free_port)
  NODE_PORTS+=("$port")
  ARKIV_LOG=error "$ARKIV" --repo "$WORK/node$i" serve --listen "127.0.0.1:$port" 2>/dev/null &
  PIDS+=($!)
done
for port in "${NODE_PORTS[@]}"; do
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" = 200 ] && break
    sleep 0.5
  done
done
# The search index of each node caught up with all N records.
for port in "${NODE_PORTS[@]}"; do
  for _ in $(seq 600); do
    docs=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^arkiv_search_index_documents /{print $2}')
    [ "${docs:-0}" -ge "$N" ] && break
    sleep 0.5
  done
done

balancer() { # port, node ports...
  local port=$1 cfg="$WORK/haproxy-$1.cfg" i=0
  shift
  {
    printf 'global\n    maxconn 4096\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n'
    printf '    timeout server 30s\n    retries 2\n    option redispatch\n    retry-on conn-failure empty-response\n'
    printf 'frontend site\n    bind 127.0.0.1:%s\n    unique-id-format %%{+X}o\\ %%ci:%%cp_%%fi:%%fp_%%Ts_%%rt:%%pid\n' "$port"
    printf '    http-request set-header X-Request-Id %%[unique-id]\n    option forwardfor\n    default_backend nodes\n'
    printf 'backend nodes\n    balance roundrobin\n    http-request disable-l7-retry if !METH_GET\n    option httpchk GET /ready\n    http-check expect status 200\n'
    printf '    default-server inter 2s fall 2 rise 1\n'
    for p in "$@"; do
      i=$((i + 1))
      printf '    server node%s 127.0.0.1:%s check\n' "$i" "$p"
    done
  } >"$cfg"
  haproxy -db -f "$cfg" >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
    sleep 0.1
  done
  sleep 1
}
LB1=$(free_port)
balancer "$LB1" "${NODE_PORTS[0]}"
balancer "$LB_PORT" "${NODE_PORTS[@]}"

ms() { # wrk's latency (2.31ms, 812.00us, 1.02s) in milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
ID=$((N / 2))
PATHS=("/id/eprint/$ID/" "/search?q=energy" "/oai2?verb=ListRecords&metadataPrefix=oai_dc")
build=$(git rev-parse --short HEAD)
echo "| build | records | setup | page | requests/s | p50 | p99 |"
echo "|---|---:|---|---|---:|---:|---:|"
for setup in "one node, no balancer:${NODE_PORTS[0]}" "HAProxy, one node:$LB1" "HAProxy, three nodes:$LB_PORT"; do
  name=${setup%:*}
  port=${setup##*:}
  for path in "${PATHS[@]}"; do
    url="http://127.0.0.1:$port$path"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
    [ "$code" = 200 ] || { say "$url answers $code"; exit 1; }
    out=$(wrk -t2 -c16 -d"$DURATION" --latency "$url")
    rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    [ -z "$errors" ] || say "$name $path: $errors"
    printf '| `%s` | %s | %s | `%s` | %s | %s ms | %s ms |\n' "$build" "$N" "$name" "$path" \
      "$rps" "$(ms "$p50")" "$(ms "$p99")"
  done
done
