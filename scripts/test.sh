#!/usr/bin/env bash
# The whole test suite: installs what it needs, then lint, type-check, shell and template checks,
# every test on the pinned Ghost ("ghost" in versions.json), and the Ghost-facing tests (tag `ghost`)
# again on the compatibility release ("ghostCompatibility"). Everything runs under the project's Node
# ("node"). Extra arguments go to both Vitest runs (e.g. a file filter).
# Every process of the run gets a temporary directory of its own as TMPDIR; whatever is left in it
# at the end is a test that did not clean up, and fails the run.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
mkdir -p "$GHOST_HA_CACHE"
started=$SECONDS

# shellcheck source=scripts/lib/bootstrap.sh
source "$REPO_ROOT/scripts/lib/bootstrap.sh"
ghost_version="${GHOST_VERSION:-$(pinned_version ghost)}"
compatibility_version="$(pinned_version ghostCompatibility)"
bash scripts/lib/install-ghost.sh "$compatibility_version" >/dev/null
shellcheck="$(bash scripts/lib/install-shellcheck.sh)"
# The browser tests drive Debian's Chromium (headless).
bash scripts/lib/install-chromium.sh >/dev/null
cd "$REPO_ROOT"
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"
log "Node.js $(node --version) runs the checks and tests (Ghost runs on Node.js $(pinned_version nodeForGhost))"

log "Lint and format check (Biome)"
biome check .

log "Type-check (tsc, tests included)"
tsc -p tsconfig.json

log "Shell scripts (shellcheck)"
git ls-files -z -- '*.sh' .ci/run | xargs -0 "$shellcheck" -x

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

run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/ghost-ha-test-run.XXXXXX")"
# Node's module compile cache (npm turns it on) belongs with the other installed tools, not in the
# run's temp dir; tsx keeps its cache in tsx-<uid> there, which only it writes.
export NODE_COMPILE_CACHE="$GHOST_HA_CACHE/node-compile-cache"
tool_caches=("tsx-$(id -u)")
mkdir -p .test-results
rm -f .test-results/vitest-*.json
status=0
set +e
log "Tests: every project on Ghost $ghost_version, MariaDB and moto"
TMPDIR="$run_tmp" GHOST_VERSION="$ghost_version" vitest run --reporter=default --reporter=json \
  --outputFile.json=.test-results/vitest-ghost-"$ghost_version".json "$@" || status=1
if [[ "$compatibility_version" != "$ghost_version" ]]; then
  log "Tests: the Ghost-facing ones (tag ghost) again on Ghost $compatibility_version"
  TMPDIR="$run_tmp" GHOST_VERSION="$compatibility_version" vitest run --project integration --tags-filter=ghost --passWithNoTests \
    --reporter=default --reporter=json --outputFile.json=.test-results/vitest-ghost-"$compatibility_version".json \
    "$@" || status=1
fi
set -e

mapfile -t leftovers < <(find "$run_tmp" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -vxF "${tool_caches[@]/#/-e}" | sort)
if ((${#leftovers[@]} > 0)); then
  warn "the tests left ${#leftovers[@]} entries in the temporary directory (each test must remove what it creates): ${leftovers[*]}"
  status=1
fi
rm -rf "$run_tmp"
node scripts/lib/summarize-vitest.mjs .test-results/vitest-*.json
log "Test command finished in $((SECONDS - started))s"
exit "$status"
