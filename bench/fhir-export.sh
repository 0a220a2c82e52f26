#!/usr/bin/env bash
# FHIR Bulk Data export of an N-patient demo database (default 1,000): the admin's full export and the
# auditor's de-identified one, each from kick-off to manifest, with the files' sizes and counts and the
# service's peak memory (VmHWM) before and after.
# Usage: bash bench/fhir-export.sh [patients]     (BENCH_WORK=dir reuses the generated database)
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need bc bc

patients=${1:-1000}
port=5304
work=${BENCH_WORK:-$(mktemp -d)}
trap 'kill "$server" 2>/dev/null || true' EXIT

build_service
admin=$(token admin)
auditor=$(token auditor)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F); commit $(git rev-parse --short HEAD)"

db="$work/outcomes-$patients.db"
if [ ! -f "$db" ]; then
  Database__SqlitePath="$db" dotnet run -c Release --no-build --project src/Outcomes.Api -- demo-data --patients "$patients" >/dev/null
fi
Database__SqlitePath="$db" dotnet run -c Release --no-build --project src/Outcomes.Api -- migrate >/dev/null
echo "database: $patients patients, $(du -h "$db" | cut -f1)"

ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Database__SqlitePath="$db" \
  Fhir__ExportDirectory="$work/exports" Logging__LogLevel__Default=Warning Cohorts__Series__RefreshSeconds=0 \
  dotnet run -c Release --no-build --no-launch-profile --project src/Outcomes.Api >/dev/null 2>&1 &
server=$!
wait_ready "$port" || true
pid=$(pgrep -P "$server" -f Outcomes.Api | head -1)   # the service, a child of dotnet run
echo "service memory before: VmRSS $(awk '/VmRSS/ {print $2, $3}' /proc/"$pid"/status)"

export_once() { # export_once NAME TOKEN
  local name=$1 token=$2 start status manifest seconds
  start=$(date +%s.%N)
  status=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $token" -H "Prefer: respond-async" -H "Accept: application/fhir+json" \
    "http://127.0.0.1:$port/fhir/\$export" | awk 'tolower($1) == "content-location:" {print $2}' | tr -d '\r')
  while :; do
    manifest=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $token" "$status")
    [ "$(tail -1 <<<"$manifest")" = 200 ] && break
    sleep 0.2
  done
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  printf '%s export: %.1f s from kick-off to manifest\n' "$name" "$seconds"
  local dir="$work/exports/${status##*/}"
  for f in "$dir"/*.ndjson; do
    printf '  %-28s %9d resources %8s\n' "$(basename "$f")" "$(wc -l <"$f")" "$(du -h "$f" | cut -f1)"
  done
}

export_once admin "$admin"
export_once "auditor (de-identified)" "$auditor"
echo "service peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/"$pid"/status); VmRSS now $(awk '/VmRSS/ {print $2, $3}' /proc/"$pid"/status)"
