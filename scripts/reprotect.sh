#!/usr/bin/env bash
# Re-establishes the content replica (EFS replication from the region Ghost runs in to the other)
# without moving Ghost, e.g. after a disaster failover once the lost region answers again.
# Prints the ordered steps and the exact AWS calls; --apply makes them, verifying each step and
# stopping at the first failure with what to do next. Run with --help for the options.
#
# Example: scripts/reprotect.sh --primary-region eu-west-1 --secondary-region eu-central-1 \
#            --distribution-id E2ABCDEF123456 [--salvaged] [--apply]
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"
[[ -d node_modules ]] || die "Dependencies are not installed: run 'npm ci' in $REPO_ROOT first."
exec node --conditions=source --import tsx infra/src/switch/main.ts reprotect "$@"
