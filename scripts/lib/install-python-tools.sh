#!/usr/bin/env bash
# Creates (once per requirements file content) a Python venv with moto_server, cfn-lint and checkov.
# Prints the venv's bin directory.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

requirements="$REPO_ROOT/scripts/requirements-dev.txt"
venv="$GHOST_HA_CACHE/venv/$(hash_files "$requirements")"
if [[ ! -f "$venv/.installed" ]]; then
  command -v python3 >/dev/null || die "python3 is not installed. Install Python 3.10 or newer (e.g. 'apt-get install python3 python3-venv') and run again."
  python3 -c 'import venv' 2>/dev/null || die "Python's venv module is missing. Install it (e.g. 'apt-get install python3-venv') and run again."
  log "Creating the Python tools venv (moto, cfn-lint, checkov) in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  run_with_progress "pip install of moto, cfn-lint and checkov" "$GHOST_HA_CACHE/venv-install.log" \
    "$venv/bin/pip" install --quiet -r "$requirements"
  touch "$venv/.installed"
fi
echo "$venv/bin"
