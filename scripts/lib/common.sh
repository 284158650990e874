# Shared helpers for the project's shell scripts. Source it; do not run it.
# shellcheck shell=bash

# Everything installed for the project outside the repository lives here, keyed by version,
# so a fresh clone reuses what an earlier run installed.
GHOST_HA_CACHE="${GHOST_HA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ghost-ha}"
export GHOST_HA_CACHE

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

# One pinned version from versions.json, the single place the Ghost and Node versions are written:
#   ghost               the Ghost release tested, run by `npm run local` and deployed by default
#   ghostCompatibility  the older Ghost major the Ghost-facing tests run against too
#   node                the Node.js the services, Lambdas, tests and benchmarks run on
#   nodeForGhost        the Node.js the test bed runs Ghost on (both Ghost releases' engines accept it)
pinned_version() {
  node -p 'require(process.argv[1])[process.argv[2]] ?? process.exit(1)' "$REPO_ROOT/versions.json" "$1" 2>/dev/null ||
    die "versions.json has no \"$1\" (or is not valid JSON)"
}

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# Runs a long command with its output in a log file, printing a heartbeat so a user can see it is
# alive. On failure it shows the log's tail and says where the whole log is.
run_with_progress() {
  local label="$1" logfile="$2"
  shift 2
  local started=$SECONDS
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null && printf '    %s … %ss\n' "$label" "$((SECONDS - started))" >&2
  done
  if ! wait "$pid"; then
    tail -n 30 "$logfile" >&2
    die "$label failed after $((SECONDS - started))s; full log: $logfile"
  fi
  log "$label done in $((SECONDS - started))s"
}

# Installs Debian packages (`apt-get update`, then `apt-get install` without recommends), with the
# output in a log file. Only root on a system with apt-get can: anyone else is told the command to
# run and the script stops. Callers check first whether what they need is there already.
#   apt_install <what, for messages> <log file> <package>...
apt_install() {
  local what="$1" logfile="$2"
  shift 2
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    die "$what is not installed. Install it with 'sudo apt-get install $*' (or your distribution's package) and run again."
  fi
  log "Installing $what from Debian's packages"
  local -x DEBIAN_FRONTEND=noninteractive
  run_with_progress "apt-get install $*" "$logfile" \
    bash -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"' apt_install "$@"
}

# sha256 of the given files' contents, short: a cache key that changes when they do.
hash_files() {
  cat "$@" | sha256sum | cut -c1-16
}
