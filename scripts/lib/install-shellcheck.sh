#!/usr/bin/env bash
# Makes sure shellcheck is present (Debian's shellcheck package), for the test command's check of
# the shell scripts. Prints the shellcheck binary's path.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! command -v shellcheck >/dev/null; then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    die "shellcheck is not installed. Install it with 'sudo apt-get install shellcheck' (or your distribution's package) and run again."
  fi
  log "Installing shellcheck from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  run_with_progress "apt-get install shellcheck" "$GHOST_HA_CACHE/apt-shellcheck.log" \
    bash -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends shellcheck'
fi
command -v shellcheck || die "shellcheck is still missing after installing it; see $GHOST_HA_CACHE/apt-shellcheck.log"
