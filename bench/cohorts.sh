#!/usr/bin/env bash
# Times cohort queries (GET /api/v1/cohorts/...) and one patient's trend and outcomes on demo
# databases of the given sizes (default 1,000 and 10,000 patients; 100,000 takes about 15 minutes
# to generate and 9 GB of disk), and records the service's peak memory, which must stay bounded:
# the cohort is streamed.
# Usage: bash bench/cohorts.sh [patients...]
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need wrk wrk

sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
port=5302
work=${BENCH_WORK:-$(mktemp -d)}
trap 'kill "$server" 2>/dev/null || true' EXIT

build_service
token=$(token auditor)
admin=$(token admin)
median5() { # median, min and max of 5 timed calls after a warm-up: median5 TOKEN PATH
  curl -s -o /dev/null -H "Authorization: Bearer $1" "http://127.0.0.1:$port$2"
  local times
  times=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $1" "http://127.0.0.1:$port$2"; done | sort -n)
  printf '%-70s median %7.1f ms  (min %7.1f, max %7.1f)\n' "$2" \
    "$(echo "$times" | sed -n 3p | awk '{print $1*1000}')" "$(echo "$times" | head -1 | awk '{print $1*1000}')" "$(echo "$times" | tail -1 | awk '{print $1*1000}')"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F); commit $(git rev-parse --short HEAD)"

for n in "${sizes[@]}"; do
  db="$work/outcomes-$n.db"
  if [ ! -f "$db" ]; then
    start=$(date +%s.%N)
    Database__SqlitePath="$db" dotnet run -c Release --no-build --project src/Outcomes.Api -- demo-data --patients "$n" >/dev/null
    echo "== $n patients: generated in $(echo "$(date +%s.%N) - $start" | bc)s, $(du -h "$db" | cut -f1)"
  else
    echo "== $n patients: reusing $db ($(du -h "$db" | cut -f1))"
  fi
  echo "   pain scores: $(sqlite3 "$db" "SELECT COUNT(*) FROM observation WHERE kind = 'painScore'"), cycles: $(sqlite3 "$db" "SELECT COUNT(*) FROM treatment_session")"

  ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Database__SqlitePath="$db" \
    Logging__LogLevel__Default=Warning RateLimiting__PermitLimit=1000000 Cohorts__PseudonymSecret=bench-secret-bench-secret-bench-secret-01 \
    dotnet run -c Release --no-build --no-launch-profile --project src/Outcomes.Api >/dev/null 2>&1 &
  server=$!
  wait_ready "$port" || true
  pid=$(pgrep -P "$server" -f Outcomes.Api | head -1)   # the service, a child of dotnet run
  stale=$(sqlite3 "$db" "SELECT COUNT(*) FROM series_stale")
  first=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/cohorts/outcomes")
  printf '%-70s %6.0f ms (first call; rebuilt the series of %s stale patients)\n' "/api/v1/cohorts/outcomes" "$(echo "$first" | awk '{print $1*1000}')" "$stale"

  for path in "/api/v1/cohorts/outcomes" \
              "/api/v1/cohorts/outcomes?condition=neckShoulderPain&guidance=emg" \
              "/api/v1/cohorts/compare?by=guidance&a=emg&b=palpation" \
              "/api/v1/cohorts/duration" \
              "/api/v1/cohorts/over-time"; do
    median5 "$token" "$path"
  done
  # One patient's reads, for the same sizes: the patient with the most weekly pain scores.
  busiest=$(sqlite3 "$db" "SELECT patient_id FROM observation WHERE kind = 'painScore' AND patient_id <= 1000 GROUP BY patient_id ORDER BY COUNT(*) DESC LIMIT 1")
  median5 "$admin" "/api/v1/patients/$busiest/trend?measure=pain_nrs"
  median5 "$admin" "/api/v1/patients/$busiest/outcomes"
  start=$(date +%s.%N)
  rows=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/cohorts/export.csv?salt=bench-salt-0123456789" | wc -l)
  printf '%-70s %6.0f ms for %s rows\n' "/api/v1/cohorts/export.csv" "$(echo "($(date +%s.%N) - $start) * 1000" | bc)" "$rows"
  echo "   service peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/"$pid"/status)"
  kill "$server"; wait "$server" 2>/dev/null || true
done
