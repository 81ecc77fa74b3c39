# Reading wrk's report, for the benchmark scripts that load a server with
# wrk (sourced, not run): one parser instead of one per script.
#
#   to_ms 1.20ms          -> 1.20   (us, ms, s and m to milliseconds)
#   wrk_figures FILE      -> "RPS P50_MS P99_MS BAD" of `wrk --latency`'s
#                            output in FILE; BAD counts non-2xx/3xx answers
#                            and socket errors.

to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}

wrk_figures() {
  local out=$1 rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  bad=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
  echo "$rps $p50 $p99 $bad"
}
