#!/usr/bin/env bash
# Measures one patient's trend, outcomes and chart, and a practitioner's patient-list summaries, over
# HTTP with wrk, on a demo database of $PATIENTS patients (default: 1,000 and 10,000 in turn).
# The service runs a Release build on 127.0.0.1; wrk shares the machine's cores with it.
# Usage: bash bench/patient-outcomes.sh [patients...]
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need wrk wrk
need sqlite3 sqlite3

sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
port=5301
duration=${DURATION:-10s}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

build_service
token=$(token admin)

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F); commit $(git rev-parse --short HEAD)"
for n in "${sizes[@]}"; do
  db="$work/outcomes-$n.db"
  start=$(date +%s.%N)
  Database__SqlitePath="$db" dotnet run -c Release --no-build --project src/Outcomes.Api -- demo-data --patients "$n" >/dev/null
  generated=$(echo "$(date +%s.%N) - $start" | bc)
  # The patient with the most weekly pain scores (about five years of them).
  patient=$(sqlite3 "$db" "SELECT patient_id FROM observation WHERE kind = 'painScore' GROUP BY patient_id ORDER BY COUNT(*) DESC LIMIT 1")
  scores=$(sqlite3 "$db" "SELECT COUNT(*) FROM observation WHERE patient_id = $patient AND kind = 'painScore'")
  site=$(sqlite3 "$db" "SELECT site_id FROM patient WHERE id = $patient")
  echo
  echo "== $n patients: generated in ${generated}s, $(du -h "$db" | cut -f1) database; patient $patient has $scores weekly pain scores"

  ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Database__SqlitePath="$db" \
    Logging__LogLevel__Default=Warning RateLimiting__PermitLimit=1000000 \
    dotnet run -c Release --no-build --no-launch-profile --project src/Outcomes.Api >"$work/server.log" 2>&1 &
  server=$!
  wait_ready "$port" || true

  for path in "/health/live" \
              "/api/v1/patients/$patient/trend?measure=pain_nrs" \
              "/api/v1/patients/$patient/outcomes" \
              "/api/v1/patients/$patient/trend.png" \
              "/api/v1/patients/summaries?siteId=$site&limit=50"; do
    for c in 1 10; do
      result=$(wrk -t1 -c"$c" -d"$duration" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path")
      rps=$(echo "$result" | awk '/Requests\/sec/ {print $2}')
      p50=$(echo "$result" | awk '$1 == "50%" {print $2}')
      p99=$(echo "$result" | awk '$1 == "99%" {print $2}')
      errors=$(echo "$result" | awk '/Non-2xx/ {print $NF}')
      printf '%-60s c=%-3s %10s req/s  p50 %-9s p99 %-9s %s\n' "$path" "$c" "$rps" "$p50" "$p99" "${errors:+non-2xx: $errors}"
    done
  done
  kill "$server"; wait "$server" 2>/dev/null || true
done
