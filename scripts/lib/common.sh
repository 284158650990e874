# Shared helpers for the project's shell scripts. Source it; do not run it.
# shellcheck shell=bash

# Everything installed for the project outside the repository lives here, keyed by version,
# so a fresh clone reuses what an earlier run installed.
GHOST_HA_CACHE="${GHOST_HA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ghost-ha}"
export GHOST_HA_CACHE

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

# The AWS SDK warns on every start that releases after January 2027 need Node 22; the project targets
# Node 20 (the Lambda runtime it deploys to) and says so in its README, so the warning is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

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

# sha256 of the given files' contents, short: a cache key that changes when they do.
hash_files() {
  cat "$@" | sha256sum | cut -c1-16
}
