#!/usr/bin/env bash
# Serves an existing database and measures the given paths with wrk at 10 connections (5 s each,
# after a 2 s warm-up), /health/live first as the ceiling. The path "POST" stands for new weekly pain
# scores of random patients (bench/soak.lua, all writes). Settings pass through the environment, so
# the same build can be measured with and without one (PatientList__CachedLines=0, for example).
# GROW=150s first adds that long of POSTs to the database (to measure a patient with a longer history).
# Usage: DB=/tmp/outcomes.db PATIENTS=200 [GROW=150s] bash bench/endpoints.sh PATH...
#   e.g. DB=/tmp/x.db bash bench/endpoints.sh "/api/v1/patients/summaries?limit=50" "/api/v1/patients/100/trend?measure=pain_nrs" POST
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need wrk wrk

db=${DB:?the database to serve}
patients=${PATIENTS:-200}
port=5306
server=""
trap 'kill $server 2>/dev/null || true' EXIT

build_service
admin=$(token admin)
answered=$(score_time)
serve "$port" "$db"
echo "machine: $(nproc) cores; $(date -u +%F); commit $(git rev-parse --short HEAD); $db"

post() { wrk -t2 -c10 -d"$1" --latency -H "Authorization: Bearer $admin" -s bench/soak.lua "http://127.0.0.1:$port" -- "$patients" 100 "$answered"; }
if [ -n "${GROW:-}" ]; then
  echo "grown by $(post "$GROW" | awk '/requests in/ {print $1}') POSTs"
fi

for path in /health/live "$@"; do
  if [ "$path" = POST ]; then
    post 2s >/dev/null
    out=$(post 5s)
  else
    wrk -t2 -c10 -d2s -H "Authorization: Bearer $admin" "http://127.0.0.1:$port$path" >/dev/null
    out=$(wrk -t2 -c10 -d5s --latency -H "Authorization: Bearer $admin" "http://127.0.0.1:$port$path")
  fi
  printf '%-60s c=10 %10s req/s  p50 %-9s p99 %-9s %s\n' "$path" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" "$(echo "$out" | awk '/Non-2xx/ {print "non-2xx: " $NF}')"
done
echo "service peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status")"
