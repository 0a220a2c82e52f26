# Shared by the bench scripts (sourced from the repository root).

# need COMMAND PACKAGE: installs the Debian package when the command is missing.
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }

# build_service: a Release build of the service, quietly.
build_service() { dotnet build -c Release src/Outcomes.Api -v quiet -nologo >/dev/null; }

# token ROLE [user-jwts options...]: a development bearer token. (`dotnet user-jwts` rewrites
# appsettings.Development.json exactly as it is committed, so the tree stays clean.)
token() {
  local role=$1
  shift
  dotnet user-jwts create --project src/Outcomes.Api --role "$role" "$@" -o token | tail -1
}

# wait_ready PORT [TRIES] [PAUSE]: waits for /health/ready (default 60 tries, 0.5 s apart).
wait_ready() {
  for _ in $(seq 1 "${2:-60}"); do curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null && return 0; sleep "${3:-0.5}"; done
  return 1
}

# score_time: the time to date new scores with: now, taken after the database was written, so that each
# comes after the patient's last value and is appended, as a new weekly score is (an earlier time would
# be out of order and mark the patient for a rebuild on every write).
score_time() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# serve PORT DB [LOG]: starts the Release build on 127.0.0.1:PORT over the SQLite file DB in the background
# (Development environment, for the user-jwts signing keys; warnings only; the rate limit raised so that the
# limiter does not answer in the service's place), sets $server to its process id and waits for /health/ready.
# Settings in the caller's environment pass through.
serve() {
  ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$1" Database__SqlitePath="$2" \
    Logging__LogLevel__Default=Warning RateLimiting__PermitLimit=1000000 \
    bash -c 'cd src/Outcomes.Api && exec dotnet bin/Release/net10.0/Outcomes.Api.dll' >"${3:-/dev/null}" 2>&1 &
  server=$!
  wait_ready "$1" 600 0.1 || { echo "the service did not start"; [ -n "${3:-}" ] && cat "$3"; exit 1; }
}
