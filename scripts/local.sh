#!/usr/bin/env bash
# Runs the suite locally through the test bed's ECS task model (the app template's task definition)
# with MariaDB and a local AWS stand-in, under the project's Node.js. Installs what it needs first.
# Ctrl-C, SIGTERM, SIGHUP or the end of the process that started it stops everything
# (testbed/src/stopOnExitRequest.ts).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
mkdir -p "$GHOST_HA_CACHE"
# shellcheck source=scripts/lib/bootstrap.sh
source "$REPO_ROOT/scripts/lib/bootstrap.sh"
cd "$REPO_ROOT"
exec node --conditions=source --import tsx testbed/src/cli/local.ts "$@"
