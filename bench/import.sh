#!/usr/bin/env bash
# Bulk import: POSTs an NDJSON file of N new pain scores (default 1,000,000) to
# /api/v1/imports/observations on a copy of a 10,000-patient demo database, and reports records per
# second and the service's peak memory. The floor to compare with: sqlite3's own .import of the
# same rows (as CSV) into a copy of the same database, then INSERT ... SELECT into the observation
# table, with the same indexes and trigger, in one transaction. Then the first cohort query after the
# import, which rebuilds the series of the patients the import made stale.
# Usage: bash bench/import.sh [records]     (BENCH_WORK=dir reuses the generated database)
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
need sqlite3 sqlite3
need bc bc
need gawk gawk

records=${1:-1000000}
port=5303
work=${BENCH_WORK:-$(mktemp -d)}
trap 'kill "$server" 2>/dev/null || true' EXIT

build_service
token=$(token admin)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%F); commit $(git rev-parse --short HEAD)"

source_db="$work/outcomes-10000.db"
if [ ! -f "$source_db" ]; then
  Database__SqlitePath="$source_db" dotnet run -c Release --no-build --project src/Outcomes.Api -- demo-data --patients 10000 >/dev/null
fi
# Bring the source up to the current migrations, then copy it for each importer.
Database__SqlitePath="$source_db" dotnet run -c Release --no-build --project src/Outcomes.Api -- migrate >/dev/null
sqlite3 "$source_db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cp "$source_db" "$work/import-service.db"
cp "$source_db" "$work/import-sqlite3.db"

# Daily "current" pain scores from each patient's enrolment on, spread over the patients enrolled
# at least 200 days ago; the same rows as NDJSON (for the service) and CSV (for sqlite3).
sqlite3 -separator ' ' "$source_db" "SELECT id, enrolled_on FROM patient WHERE enrolled_on <= date('now', '-200 days') ORDER BY id" > "$work/patients.txt"
gawk -v n="$records" -v nd="$work/import.ndjson" -v csv="$work/import.csv" '
  { id[NR] = $1; split($2, d, "-"); start[NR] = mktime(d[1] " " d[2] " " d[3] " 12 00 00", 1) }
  END {
    per = int((n + NR - 1) / NR)
    print "patient_id,kind,code,value,qualifier,answered_at,answered_offset_min,received_at,submission_id,payload_hash,recorded_by,recorded_role" > csv
    for (i = 0; i < n; i++) {
      p = int(i / per) + 1; day = i % per
      at = strftime("%Y-%m-%dT%H:%M:%SZ", start[p] + (day + 1) * 86400, 1)
      sid = sprintf("%08x-0000-4000-8000-%012x", 7, i)
      score = (i * 7) % 11
      printf "{\"type\":\"painScore\",\"patientId\":%d,\"submissionId\":\"%s\",\"answeredAt\":\"%s\",\"score\":%d,\"recall\":\"current\"}\n", id[p], sid, at, score > nd
      printf "%d,painScore,pain_nrs,%d,current,%s,0,%s,%s,%064d,bench,admin\n", id[p], score, at, at, sid, i > csv
    }
  }' "$work/patients.txt"
echo "file: $records records, $(du -h "$work/import.ndjson" | cut -f1) NDJSON"

ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Database__SqlitePath="$work/import-service.db" \
  Logging__LogLevel__Default=Warning RateLimiting__PermitLimit=1000000 Cohorts__Series__RefreshSeconds=0 \
  dotnet run -c Release --no-build --no-launch-profile --project src/Outcomes.Api >/dev/null 2>&1 &
server=$!
wait_ready "$port" || true
pid=$(pgrep -P "$server" -f Outcomes.Api | head -1)   # the service, a child of dotnet run

start=$(date +%s.%N)
report=$(curl -s -H "Authorization: Bearer $token" -H "Content-Type: application/x-ndjson" --data-binary @"$work/import.ndjson" \
  "http://127.0.0.1:$port/api/v1/imports/observations")
seconds=$(echo "$(date +%s.%N) - $start" | bc)
echo "service import: $(echo "$report" | head -c 200)"
printf 'service import: %.1f s, %.0f records/s; service peak memory (VmHWM) %s\n' "$seconds" "$(echo "$records / $seconds" | bc -l)" \
  "$(awk '/VmHWM/ {print $2, $3}' /proc/"$pid"/status)"
# The first cohort query after the import: it brings the imported patients' stored series up to date first.
stale=$(sqlite3 "$work/import-service.db" "SELECT COUNT(*) FROM series_stale")
tails=$(sqlite3 "$work/import-service.db" "SELECT COUNT(*) FROM measure_series_tail")
auditor=$(token auditor)
first=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $auditor" "http://127.0.0.1:$port/api/v1/cohorts/outcomes")
second=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $auditor" "http://127.0.0.1:$port/api/v1/cohorts/outcomes")
printf 'first cohort query after the import: %.2f s (rebuilt %s stale patients, folded %s tails); the next: %.2f s\n' "$first" "$stale" "$tails" "$second"
kill "$server"; wait "$server" 2>/dev/null || true

start=$(date +%s.%N)
sqlite3 "$work/import-sqlite3.db" <<SQL
BEGIN;
CREATE TEMP TABLE staging (patient_id INTEGER, kind TEXT, code TEXT, value NUMERIC, qualifier TEXT, answered_at TEXT,
  answered_offset_min INTEGER, received_at TEXT, submission_id TEXT, payload_hash TEXT, recorded_by TEXT, recorded_role TEXT);
.import --csv --skip 1 $work/import.csv staging
INSERT INTO observation (patient_id, kind, code, value, qualifier, answered_at, answered_offset_min, received_at, submission_id,
  payload_hash, recorded_by, recorded_role) SELECT * FROM staging;
COMMIT;
SQL
seconds=$(echo "$(date +%s.%N) - $start" | bc)
printf 'sqlite3 .import + INSERT SELECT (floor): %.1f s, %.0f records/s\n' "$seconds" "$(echo "$records / $seconds" | bc -l)"
