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
