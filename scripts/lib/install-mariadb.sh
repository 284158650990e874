#!/usr/bin/env bash
# Makes sure MariaDB's server binaries are present (Debian's mariadb-server). The test bed runs its
# own server with its own data directory and port; the system service is never started or touched.
# Prints the directory holding mariadbd.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

find_mariadbd() { command -v mariadbd || { [[ -x /usr/sbin/mariadbd ]] && echo /usr/sbin/mariadbd; } || true; }

if [[ -z "$(find_mariadbd)" ]]; then
  apt_install "MariaDB server" "$GHOST_HA_CACHE/apt-mariadb.log" mariadb-server
fi
mariadbd="$(find_mariadbd)"
[[ -n "$mariadbd" ]] || die "mariadbd is still missing after installing mariadb-server; see $GHOST_HA_CACHE/apt-mariadb.log"
command -v mariadb-install-db >/dev/null || die "mariadb-install-db is missing; reinstall mariadb-server."
dirname "$mariadbd"
