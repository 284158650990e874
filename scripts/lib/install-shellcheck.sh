#!/usr/bin/env bash
# Makes sure shellcheck is present (Debian's shellcheck package), for the test command's check of
# the shell scripts. Prints the shellcheck binary's path.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! command -v shellcheck >/dev/null; then
  apt_install shellcheck "$GHOST_HA_CACHE/apt-shellcheck.log" shellcheck
fi
command -v shellcheck || die "shellcheck is still missing after installing it; see $GHOST_HA_CACHE/apt-shellcheck.log"
