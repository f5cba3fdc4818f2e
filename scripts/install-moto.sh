#!/usr/bin/env bash
# Provides moto (the AWS API emulator) for the runtime tier and prints the venv's bin directory
# (holding `moto_server`) as the last line of its output.
#
# moto[server] is installed from PyPI at the version pinned in tool-versions.env into a venv
# in a cache outside the clone, keyed by version, so a fresh CI clone reuses an earlier install
# and the clone never holds a venv. Idempotent. Fails loudly with the fix, never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tool-versions.env
. "$here/tool-versions.env"

tag=install-moto
purpose="moto (the AWS emulator for the runtime tests)"
venv_name="moto-venv-$MOTO_VERSION"
# shellcheck source=python-venv.sh
. "$here/python-venv.sh"

# A venv is only "cached" when moto is at the pinned version AND the server extra imports
# (flask is what `moto_server` needs); a half-finished earlier install is redone.
if [ -x "$bin_dir/moto_server" ] && [ "$(installed_version moto)" = "$MOTO_VERSION" ] &&
  "$bin_dir/python" -c 'import flask, moto.server' >/dev/null 2>&1; then
  log "cached: moto $MOTO_VERSION in $venv"
  echo "$bin_dir"
  exit 0
fi

require_python_venv
install_into_venv "pip index versions moto" "moto[server]==$MOTO_VERSION"
if [ "$(installed_version moto)" != "$MOTO_VERSION" ] || [ ! -x "$bin_dir/moto_server" ]; then
  log "FAIL: the venv at $venv has no moto_server at version $MOTO_VERSION after installing."
  log "fix: remove $venv and run scripts/install-moto.sh again."
  exit 1
fi
log "installed moto $MOTO_VERSION"
echo "$bin_dir"
