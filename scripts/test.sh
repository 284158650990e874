#!/usr/bin/env bash
# The whole test suite: installs what it needs, then lint, type-check, template checks and every
# test against the real Ghost, MariaDB and moto. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
mkdir -p "$GHOST_HA_CACHE"
started=$SECONDS

# shellcheck source=scripts/lib/bootstrap.sh
source "$REPO_ROOT/scripts/lib/bootstrap.sh"
cd "$REPO_ROOT"
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"

log "Lint and format check (Biome)"
biome check .

log "Type-check (tsc, tests included)"
tsc -p tsconfig.json

log "Shell scripts (shellcheck)"
if command -v shellcheck >/dev/null; then
  git ls-files -z -- '*.sh' .ci/run | xargs -0 shellcheck -x
else
  warn "shellcheck is not installed; skipping ('apt-get install shellcheck' to enable)"
fi

mapfile -t templates < <(git ls-files -- 'infra/cloudformation/*.yaml' 'infra/cloudformation/*.yml' 'infra/cloudformation/**/*.yaml')
if ((${#templates[@]} > 0)); then
  log "CloudFormation templates: cfn-lint (${#templates[@]} templates)"
  "$GHOST_HA_PY_BIN/cfn-lint" -- "${templates[@]}"
  log "CloudFormation templates: checkov"
  # --skip-download: no network beyond package registries, and the scan needs none.
  "$GHOST_HA_PY_BIN/checkov" --quiet --compact --framework cloudformation --skip-download -d infra/cloudformation
else
  log "CloudFormation templates: none yet under infra/cloudformation"
fi

log "Tests (vitest, against real Ghost $(bash scripts/lib/install-ghost.sh "${GHOST_VERSION:-5.130.6}" | xargs basename), MariaDB and moto)"
mkdir -p .test-results
set +e
vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@"
status=$?
set -e
node scripts/lib/summarize-vitest.mjs .test-results/vitest.json
log "Test command finished in $((SECONDS - started))s"
exit "$status"
