#!/usr/bin/env bash
# The mixed soak of issue #19: CONNECTIONS clients (default 10) for MINUTES minutes (default 30), WRITES
# percent of the requests new weekly pain scores (default 50), the rest reads of one patient's trend or
# outcomes or the patient list, on a demo database of PATIENTS patients (default 200). Meanwhile a
# cohort query runs every 5 seconds. Per minute: requests/s, p50 and p99 (wrk, one run per minute),
# the cohort query's p99 and the service's resident memory (largest sample, every 5 s); and
# /health/live's requests/s once before, as the ceiling.
# FROM=path starts from a copy of that database (a grown one, to see the end of a long run in a short
# one) instead of new demo data; PATIENTS must then be its number of patients.
# COHORT_SECONDS=0 leaves the cohort query out (memory is still sampled every 5 s), to tell its share.
# After each minute, 3 s of /health/live alone give that minute's ceiling, and "share now" is the minute's
# requests/s as a share of it: this machine's ceiling moves (18,000-57,000/s within one day), so a slower
# minute is the service's only when its share falls too. "CPU ms/req" is the service's CPU time (user +
# system, from /proc) over the minute divided by its requests, and "steal" the share of the machine's CPU
# time its host took for others in that minute (/proc/stat): a cost that grows with the data shows in the
# first, a busy host in the second. CPU time still grows when the host is slow (caches shared with
# its other guests), and this machine has no hardware counters to count the work itself; so, when
# `dotnet-counters` is installed (`dotnet tool install -g dotnet-counters`), the bytes the service
# allocated on its managed heap, a request, are printed for each minute after the run ("KB/req"): a
# figure that follows the work done and not the machine's speed.
# Usage: MINUTES=30 WRITES=50 PATIENTS=200 [FROM=grown.db] [COHORT_SECONDS=5] bash bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need wrk wrk
need sqlite3 sqlite3

minutes=${MINUTES:-30}
writes=${WRITES:-50}
patients=${PATIENTS:-200}
connections=${CONNECTIONS:-10}
cohort_seconds=${COHORT_SECONDS:-5}
port=5305
work=$(mktemp -d)
server=""; cohorts=""; counters=""
trap 'kill $server $cohorts $counters 2>/dev/null || true; rm -rf "$work"' EXIT

build_service
db="$work/outcomes.db"
if [ -n "${FROM:-}" ]; then
  sqlite3 "$FROM" ".backup '$db'"
else
  Database__SqlitePath="$db" dotnet run -c Release --no-build --project src/Outcomes.Api -- demo-data --patients "$patients" >/dev/null
fi
admin=$(token admin)
answered=$(score_time)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F); commit $(git rev-parse --short HEAD)"
echo "$patients patients${FROM:+ (from $FROM, $(sqlite3 "$db" "SELECT COUNT(*) FROM observation") observations)}, $connections connections, $writes% writes, $minutes minutes, cohort query every ${cohort_seconds}s (0: none)"

serve "$port" "$db" "$work/server.log"

ceiling=$(wrk -t2 -c"$connections" -d10s "http://127.0.0.1:$port/health/live" | awk '/Requests\/sec/ {print $2}')
echo "ceiling: /health/live $ceiling req/s at c=$connections"

# The cohort query every COHORT_SECONDS, its latency in ms with the minute it belongs to; the memory beside
# it (every 5 s without the query).
(
  start=$(date +%s)
  while true; do
    t=""
    if [ "$cohort_seconds" != 0 ]; then
      t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/api/v1/cohorts/outcomes")
    fi
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0)
    echo "$(( ($(date +%s) - start) / 60 + 1 )) $([ -n "$t" ] && awk -v t="$t" 'BEGIN {printf "%.0f", t * 1000}' || echo -) $rss"
    sleep "$([ "$cohort_seconds" != 0 ] && echo "$cohort_seconds" || echo 5)"
  done
) >"$work/cohorts.txt" &
cohorts=$!

# The managed heap's allocations, one figure a second (everything the service does: the load, the cohort
# query, its own timers), written to the file when the service stops.
counters_tool=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
if [ -x "$counters_tool" ]; then
  "$counters_tool" collect -p "$server" --refresh-interval 1 --format csv -o "$work/allocated.csv" \
    --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' >"$work/counters.log" 2>&1 &
  counters=$!
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
machine_ticks() { awk '/^cpu / {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
printf '%-7s %10s %8s %9s %9s %11s %9s %9s %9s %10s %6s %s\n' minute "req/s" share "p50" "p99" "cohort p99" "RSS MB" ceiling "share now" "CPU ms/req" steal non-2xx
for minute in $(seq 1 "$minutes"); do
  cpu0=$(cpu_ticks); read -r steal0 total0 < <(machine_ticks); from=$(date +%s)
  out=$(wrk -t2 -c"$connections" -d60s --latency -H "Authorization: Bearer $admin" -s bench/soak.lua \
    "http://127.0.0.1:$port" -- "$patients" "$writes" "$answered")
  cpu1=$(cpu_ticks); read -r steal1 total1 < <(machine_ticks)
  to=$(date +%s)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  cohort=$(awk -v m="$minute" '$1 == m {print $2}' "$work/cohorts.txt" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int(NR*0.99 + 0.999)] ; else print "-"}')
  rss=$(awk -v m="$minute" '$1 == m {print $3}' "$work/cohorts.txt" | sort -n | tail -1)
  now=$(wrk -t2 -c"$connections" -d3s "http://127.0.0.1:$port/health/live" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$minute $from $to $requests" >>"$work/minutes.txt"
  printf '%-7s %10s %7.2f%% %9s %9s %8s ms %9s %9s %8.2f%% %10.3f %5.1f%% %s\n' "$minute" "$rps" "$(echo "$rps * 100 / $ceiling" | bc -l)" \
    "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
    "${cohort:--}" "$(( ${rss:-0} / 1024 ))" "$now" "$(echo "$rps * 100 / $now" | bc -l)" \
    "$(echo "($cpu1 - $cpu0) * 1000 / $(getconf CLK_TCK) / $requests" | bc -l)" \
    "$(echo "($steal1 - $steal0) * 100 / ($total1 - $total0)" | bc -l)" "$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
done
echo "observations at the end: $(sqlite3 "$db" "SELECT COUNT(*) FROM observation")"

if [ -n "$counters" ]; then
  # Stop the service so that dotnet-counters writes its file; then each minute's allocations over its requests.
  kill "$server"
  for _ in $(seq 30); do kill -0 "$counters" 2>/dev/null || break; sleep 1; done
  if [ -s "$work/allocated.csv" ]; then
    # Each line as "epoch-seconds bytes": one date process converts every timestamp.
    tail -n +2 "$work/allocated.csv" | cut -d, -f1 | date -f - +%s \
      | paste -d' ' - <(tail -n +2 "$work/allocated.csv" | cut -d, -f5) >"$work/allocated.txt"
    # A minute with more than 3 of its seconds unreported is shown as "-" (one run's minutes 25-27 came out empty).
    printf '%-7s %s\n' minute "allocated KB/req"
    while read -r minute from to requests; do
      awk -v from="$from" -v to="$to" -v n="$requests" -v m="$minute" \
        '$1 > from && $1 <= to {sum += $2; k++} END {if (k >= to - from - 3) printf "%-7s %16.1f\n", m, sum / n / 1024; else printf "%-7s %16s\n", m, "- (" k + 0 " of " to - from " s)"}' "$work/allocated.txt"
    done <"$work/minutes.txt"
  else
    echo "(dotnet-counters wrote no figures: $(tail -1 "$work/counters.log"))"
  fi
fi
