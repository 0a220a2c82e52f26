#!/usr/bin/env bash
# HTTP load with wrk on a demo database (default 1,000 patients): start-up time to ready, then, at
# 1, 10 and 64 connections in one run: /health/live (the ceiling), POST of new weekly pain scores
# (each request a new submission), one patient's trend and outcomes, a practitioner's patient-list
# summaries, and a whole-cohort query. Client and service share the machine's cores.
# Each endpoint is warmed up first (WARMUP, default 5s, not reported).
# Usage: bash bench/http-load.sh [patients]
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need wrk wrk
need sqlite3 sqlite3

patients=${1:-1000}
port=5304
duration=${DURATION:-10s}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

build_service
db="$work/outcomes.db"
Database__SqlitePath="$db" dotnet run -c Release --no-build --project src/Outcomes.Api -- demo-data --patients "$patients" >/dev/null
# The patient with the most weekly pain scores (about five years of them), read by an admin; the
# POSTs go to a patient of another site, so that the tens of thousands of scores they add do not
# land in the summaries page or in the patient read.
busiest=$(sqlite3 "$db" "SELECT patient_id FROM observation WHERE kind = 'painScore' GROUP BY patient_id ORDER BY COUNT(*) DESC LIMIT 1")
site=$(sqlite3 "$db" "SELECT site_id FROM patient WHERE id = $busiest")
patient=$(sqlite3 "$db" "SELECT id FROM patient WHERE site_id <> $site ORDER BY id LIMIT 1")
token=$(token patient --claim "patient_id=$patient")
admin=$(token admin)
answered=$(score_time)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F); commit $(git rev-parse --short HEAD); $patients patients"

start=$(date +%s%N)
ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Database__SqlitePath="$db" \
  Logging__LogLevel__Default=Warning RateLimiting__PermitLimit=1000000 \
  bash -c 'cd src/Outcomes.Api && exec dotnet bin/Release/net10.0/Outcomes.Api.dll' >"$work/server.log" 2>&1 &
server=$!
wait_ready "$port" 1500 0.02 || true
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "the service did not start:"; cat "$work/server.log"; exit 1; }
echo "start-up to /health/ready on an existing database: $(( ($(date +%s%N) - start) / 1000000 )) ms"

report() {
  printf '%-58s c=%-3s %10s req/s  p50 %-9s p99 %-9s %s\n' "$1" "$2" \
    "$(echo "$3" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$3" | awk '$1 == "50%" {print $2}')" "$(echo "$3" | awk '$1 == "99%" {print $2}')" \
    "$(echo "$3" | awk '/Non-2xx/ {print "non-2xx: " $NF}')"
}
# Warm-up, not reported: each endpoint for WARMUP (default 5s) at 10 connections, so that the
# figures measure the compiled code, not the just-in-time compiler's tiers.
warmup=${WARMUP:-5s}
wrk -t2 -c10 -d"$warmup" "http://127.0.0.1:$port/health/live" >/dev/null
wrk -t2 -c10 -d"$warmup" -H "Authorization: Bearer $token" -s bench/post-pain-score.lua \
  "http://127.0.0.1:$port/api/v1/patients/$patient/pain-scores" -- "$answered" >/dev/null
for path in "/api/v1/patients/$busiest/trend?measure=pain_nrs" "/api/v1/patients/$busiest/outcomes" \
            "/api/v1/patients/summaries?siteId=$site&limit=50" "/api/v1/cohorts/outcomes"; do
  wrk -t2 -c10 -d"$warmup" -H "Authorization: Bearer $admin" "http://127.0.0.1:$port$path" >/dev/null
done
before=$(sqlite3 "$db" "SELECT COUNT(*) FROM observation")

for c in 1 10 64; do
  threads=$([ "$c" -eq 1 ] && echo 1 || echo 2)
  report "/health/live" "$c" "$(wrk -t"$threads" -c"$c" -d"$duration" --latency "http://127.0.0.1:$port/health/live")"
  report "POST pain-scores" "$c" "$(wrk -t"$threads" -c"$c" -d"$duration" --latency -H "Authorization: Bearer $token" \
    -s bench/post-pain-score.lua "http://127.0.0.1:$port/api/v1/patients/$patient/pain-scores" -- "$answered")"
  for path in "/api/v1/patients/$busiest/trend?measure=pain_nrs" \
              "/api/v1/patients/$busiest/outcomes" \
              "/api/v1/patients/summaries?siteId=$site&limit=50" \
              "/api/v1/cohorts/outcomes"; do
    report "GET ${path/$busiest/{busiest\}}" "$c" \
      "$(wrk -t"$threads" -c"$c" -d"$duration" --latency -H "Authorization: Bearer $admin" "http://127.0.0.1:$port$path")"
  done
done
echo "pain scores stored during the run: $(( $(sqlite3 "$db" "SELECT COUNT(*) FROM observation") - before ))"
