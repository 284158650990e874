#!/usr/bin/env bash
# Makes sure MariaDB's server binaries are present (Debian's mariadb-server). The test bed runs its
# own server with its own data directory and port; the system service is never started or touched.
# Prints the directory holding mariadbd.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

find_mariadbd() { command -v mariadbd || { [[ -x /usr/sbin/mariadbd ]] && echo /usr/sbin/mariadbd; } || true; }

if [[ -z "$(find_mariadbd)" ]]; then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    die "MariaDB server is not installed. Install it with 'sudo apt-get install mariadb-server' (or your distribution's package) and run again."
  fi
  log "Installing MariaDB server from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  run_with_progress "apt-get install mariadb-server" "$GHOST_HA_CACHE/apt-mariadb.log" \
    bash -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends mariadb-server'
fi
mariadbd="$(find_mariadbd)"
[[ -n "$mariadbd" ]] || die "mariadbd is still missing after installing mariadb-server; see $GHOST_HA_CACHE/apt-mariadb.log"
command -v mariadb-install-db >/dev/null || die "mariadb-install-db is missing; reinstall mariadb-server."
dirname "$mariadbd"
