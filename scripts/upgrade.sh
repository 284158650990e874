#!/usr/bin/env bash
# Upgrades Ghost through the project. `plan` prints the steps and what each costs (writers'
# downtime, readers on the mirror) and changes nothing; `preflight` checks the upgrade (supported
# path, the image's Node.js against the target's engines, the theme through gscan) and exits 0 on
# go, 1 on no-go; `apply` upgrades on AWS after a rehearsal's go for the same image, and rolls back
# on any failure; `rollback` returns to a backup point apply took. Run with --help for the options.
#
# Example: scripts/upgrade.sh plan --from 5.130.6 --to 6.66.0 [--report rehearsal.json]
#          scripts/upgrade.sh preflight --from 5.130.6 --to 6.66.0 --theme ./casper --image-node 22.23.2
#          GHOST_ADMIN_API_KEY=… scripts/upgrade.sh apply --from 5.130.6 --to 6.66.0 \
#            --image ghost:6.66.0@sha256:… --report s3://BUCKET/upgrade-reports/… --url https://blog.example.com \
#            --region eu-west-1 --cluster-id … --file-system-id fs-… --report-bucket BUCKET
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# File options are read after the cd below: made absolute against the caller's directory first.
args=()
while (($# > 0)); do
  case "$1" in
  --report)
    [[ $# -ge 2 ]] || die "$1 needs a value. Run scripts/upgrade.sh --help."
    if [[ "$2" == s3://* ]]; then args+=("$1" "$2"); else args+=("$1" "$(realpath -m -- "$2")"); fi
    shift 2 ;;
  --theme | --versions-file | --target-package)
    [[ $# -ge 2 ]] || die "$1 needs a value. Run scripts/upgrade.sh --help."
    args+=("$1" "$(realpath -m -- "$2")"); shift 2 ;;
  *) args+=("$1"); shift ;;
  esac
done
cd "$REPO_ROOT"
[[ -d node_modules ]] || die "Dependencies are not installed: run 'npm ci' in $REPO_ROOT first."
exec node --conditions=source --import tsx infra/src/upgrade/main.ts "${args[@]}"
