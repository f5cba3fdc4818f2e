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

cache_root=${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-asc-credential}
venv="$cache_root/moto-venv-$MOTO_VERSION"
bin_dir="$venv/bin"

log() { echo "[install-moto] $*" >&2; }

installed_version() {
  "$bin_dir/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true
}

# A venv is only "cached" when moto is at the pinned version AND the server extra imports
# (flask is what `moto_server` needs); a half-finished earlier install is redone.
if [ -x "$bin_dir/moto_server" ] && [ "$(installed_version)" = "$MOTO_VERSION" ] &&
  "$bin_dir/python" -c 'import flask, moto.server' >/dev/null 2>&1; then
  log "cached: moto $MOTO_VERSION in $venv"
  echo "$bin_dir"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  log "FAIL: python3 is needed to run moto (the AWS emulator for the runtime tests) and is not on PATH."
  log "fix: install Python >= 3.9 with venv support (Debian/Ubuntu: apt-get install python3 python3-venv) and run again."
  exit 1
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  log "FAIL: python3 ($(python3 --version 2>&1)) lacks the venv/ensurepip modules needed to create the moto venv."
  log "fix: Debian/Ubuntu: apt-get install python3-venv (or python3.X-venv for your version); then run again."
  exit 1
fi

log "installing moto[server]==$MOTO_VERSION into $venv (first run only)"
rm -rf "$venv"
mkdir -p "$cache_root"
python3 -m venv "$venv"
"$bin_dir/python" -m pip install --disable-pip-version-check --quiet "moto[server]==$MOTO_VERSION" >&2 || {
  rm -rf "$venv"
  log "FAIL: pip could not install moto[server]==$MOTO_VERSION from PyPI."
  log "fix: check network access to PyPI (or a PIP_INDEX_URL mirror), or pin another version in scripts/tool-versions.env (pip index versions moto)."
  exit 1
}
if [ "$(installed_version)" != "$MOTO_VERSION" ] || [ ! -x "$bin_dir/moto_server" ]; then
  log "FAIL: the venv at $venv has no moto_server at version $MOTO_VERSION after installing."
  log "fix: remove $venv and run scripts/install-moto.sh again."
  exit 1
fi
log "installed moto $MOTO_VERSION"
echo "$bin_dir"
