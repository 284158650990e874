#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is present (Debian's chromium package), for the tests that
# look at pages in a real browser. Prints the browser binary's path.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

find_chromium() { command -v chromium || { [[ -x /usr/bin/chromium ]] && echo /usr/bin/chromium; } || true; }

if [[ -z "$(find_chromium)" ]]; then
  apt_install Chromium "$GHOST_HA_CACHE/apt-chromium.log" chromium
fi
chromium="$(find_chromium)"
[[ -n "$chromium" ]] || die "chromium is still missing after installing it; see $GHOST_HA_CACHE/apt-chromium.log"
echo "$chromium"
