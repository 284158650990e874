#!/usr/bin/env bash
# Installs everything the project needs, idempotently: npm dependencies, the Python tools venv,
# MariaDB's server binaries and the pinned Ghost. Safe to run any number of times.
# Exports GHOST_HA_PY_BIN for the caller when sourced.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v node >/dev/null || die "Node.js is not installed. Install Node.js 20 or newer with npm (e.g. 'apt-get install nodejs npm') and run again."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "Node.js $(node --version) is too old; this project needs Node.js 20 or newer."

cd "$REPO_ROOT"
lock_hash="$(hash_files package-lock.json)"
if [[ "$(cat node_modules/.ghost-ha-lock 2>/dev/null)" != "$lock_hash" ]]; then
  # Not `npm ci`: it insists on every platform's optional binaries (Biome's, esbuild's) being in the
  # lock file, and a registry mirror may not carry them all. This installs what the lock file pins.
  log "Installing npm dependencies"
  run_with_progress "npm install" "$GHOST_HA_CACHE/npm-install.log" npm install --no-audit --no-fund --no-save
  echo "$lock_hash" >node_modules/.ghost-ha-lock
fi

GHOST_HA_PY_BIN="$(bash scripts/lib/install-python-tools.sh)"
export GHOST_HA_PY_BIN
bash scripts/lib/install-mariadb.sh >/dev/null
bash scripts/lib/install-ghost.sh "${GHOST_VERSION:-5.130.6}" >/dev/null
