#!/usr/bin/env bash
# The service's CPU time per request (perf stat -e task-clock on its process) for the patient list, one
# patient's trend and outcomes, new weekly pain scores and the soak's half-writes mix, at 10 connections:
# each measured over 8 s of wrk after 8 s of the same load. CPU per request compares builds and settings
# on this shared machine, where requests/s move with the neighbours' load. Settings pass through the
# environment (Database__SqliteIdleConnections=0, for example), so one build can be measured both ways.
# Usage: DB=/tmp/outcomes.db [PATIENTS=1000] [PATIENT=526] bash bench/cpu.sh   (the database is written to)
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need wrk wrk
need perf linux-perf

db=${DB:?the database to serve}
patients=${PATIENTS:-1000}
patient=${PATIENT:-526}
port=5309
work=$(mktemp -d)
server=""
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

build_service
admin=$(token admin)
answered=$(score_time)
serve "$port" "$db"
echo "machine: $(nproc) cores; $(date -u +%F); commit $(git rev-parse --short HEAD); $db"

measure() {
  local name=$1
  shift
  wrk -t2 -c10 -d8s -H "Authorization: Bearer $admin" "$@" >/dev/null
  perf stat -e task-clock -x, -o "$work/cpu.stat" -p "$server" -- sleep 8 &
  local out
  out=$(wrk -t2 -c10 -d8s -H "Authorization: Bearer $admin" "$@")
  wait $!
  local requests ms
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  ms=$(awk -F, '/task-clock/ {print $1}' "$work/cpu.stat")
  printf '%-10s %8.0f us CPU/request  %10s req/s\n' "$name" "$(echo "$ms * 1000 / $requests" | bc -l)" \
    "$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
}
url="http://127.0.0.1:$port"
measure list "$url/api/v1/patients/summaries?limit=50"
measure trend "$url/api/v1/patients/$patient/trend?measure=pain_nrs"
measure outcomes "$url/api/v1/patients/$patient/outcomes"
measure post -s bench/soak.lua "$url" -- "$patients" 100 "$answered"
measure mix -s bench/soak.lua "$url" -- "$patients" 50 "$answered"
