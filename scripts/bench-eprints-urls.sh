#!/usr/bin/env bash
# EPrints' addresses (issue 24): what a redirect from an old EPrints address
# costs, beside the abstract page it leads to. Each is a lookup, not a
# render: a path parse, at most one record read, and for an EPrints
# document or file id one indexed row.
#
#   scripts/bench-eprints-urls.sh [COUNT]      (default 100000)
#
# Makes a repository of COUNT generated records plus one record imported
# from EPrints XML with EPrints document and file ids and a derived
# thumbnail, serves it on 127.0.0.1 and loads each address with wrk at
# -c1 and -c16 for BENCH_DURATION (10s). wrk follows no redirect: a row
# measures the 301 itself. Prints a Markdown table and writes it into the
# "EPrints addresses" section of BENCHMARKS.md (other sections are left
# alone).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/wrk-figures.sh

COUNT=${1:-100000}
DURATION=${BENCH_DURATION:-10s}
ARKIV=target/release/arkiv
SECTION="## EPrints addresses"
say() { echo "== $*" >&2; }

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --locked >&2
WORK=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

say "a repository of $COUNT generated records and one EPrints record with ids"
"$ARKIV" init "$WORK/repo" >/dev/null
start=$(date +%s)
ARKIV_LOG=error "$ARKIV" --repo "$WORK/repo" generate --count "$COUNT" --seed 1 >/dev/null
say "generated in $(( $(date +%s) - start )) s"
cat >"$WORK/old.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<eprints xmlns="http://eprints.org/ep2/data/2.0">
  <eprint>
    <eprint_status>archive</eprint_status>
    <type>policy_paper</type>
    <title>Energy security on the Caspian shelf</title>
    <creators><item><name><family>Nowak</family><given>Anna</given></name></item></creators>
    <date>2014</date>
    <documents>
      <document>
        <docid>9001</docid><pos>1</pos><format>application/pdf</format><security>public</security><main>paper.pdf</main>
        <files><file><fileid>7001</fileid><filename>paper.pdf</filename><mime_type>application/pdf</mime_type>
          <data encoding="base64">JVBERi0xLjQgcGFwZXI=</data></file></files>
      </document>
      <document>
        <docid>9002</docid><pos>2</pos><format>image/png</format><security>public</security><main>preview.png</main>
        <relation>
          <item><type>http://eprints.org/relation/isVolatileVersionOf</type><uri>/id/document/9001</uri></item>
          <item><type>http://eprints.org/relation/issmallThumbnailVersionOf</type><uri>/id/document/9001</uri></item>
        </relation>
        <files><file><fileid>7002</fileid><filename>preview.png</filename><mime_type>image/png</mime_type>
          <data encoding="base64">iVBORw0KGgo=</data></file></files>
      </document>
    </documents>
  </eprint>
</eprints>
XML
"$ARKIV" --repo "$WORK/repo" import eprints-xml "$WORK/old.xml" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ARKIV_LOG=warn "$ARKIV" --repo "$WORK/repo" serve --listen "127.0.0.1:$PORT" 2>>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 1 600); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done
T=$(curl -s -o /dev/null -w '%{redirect_url}' "$BASE/id/document/9001" | sed -E 's|.*/([0-9]+)/1/paper.pdf|\1|')
MID=$((COUNT / 2))
# The server indexes the generated records at start: wait until it is idle.
for _ in $(seq 1 900); do
  a=$(awk '{print $14 + $15}' "/proc/$SERVER/stat"); sleep 2; b=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  [ $((b - a)) -lt 20 ] && break
done

row() {
  local name=$1 path=$2 conns=$3 threads=1 out="$WORK/wrk.txt"
  [ "$conns" -gt 1 ] && threads=2
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$path")
  wrk -t"$threads" -c"$conns" -d"$DURATION" --latency "$BASE$path" >"$out"
  local rps p50 p99 _
  read -r rps p50 p99 _ < <(wrk_figures "$out")
  echo "| $name | \`$path\` | $status | $conns | $rps | $p50 | $p99 |"
}

say "measuring (wrk, $DURATION per row)"
ROWS=$(
  for c in 1 16; do
    row "abstract page (for comparison)" "/$MID/" "$c"
    row "long document address" "/id/eprint/$T/1/paper.pdf" "$c"
    row "thumbnail tail" "/id/eprint/$T/1.hassmallThumbnailVersion/paper.pdf" "$c"
    row "EPrints document id" "/id/document/9001" "$c"
    row "EPrints file id" "/id/file/7001" "$c"
    row "record export" "/cgi/export/eprint/$MID/BibTeX/repo-eprint-$MID.bib" "$c"
    row "creator view value" "/view/creators/Nowak=3AAnna=3A=3A.html" "$c"
    row "simple search" "/cgi/search/simple?q=energy" "$c"
  done
)
rss=$(awk '/^RssAnon:/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
table=$(
  echo "$SECTION"
  echo
  echo "\`scripts/bench-eprints-urls.sh $COUNT\`, $(date -u +%Y-%m-%d), $cpu, $(nproc) cores, release build, SQLite. A repository of $COUNT generated records and one imported EPrints record with document and file ids and a thumbnail. wrk on the same machine, $DURATION per row; wrk follows no redirect, so a 301 row measures the redirect itself, a lookup: a path parse, at most one record read, and for an EPrints id one primary-key row of \`eprints_ids\`. None grows with the number of records. Server anonymous RSS after the runs: $rss MB."
  echo
  echo "| address | path | status | connections | requests/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|---|---|---|"
  echo "$ROWS"
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
