#!/usr/bin/env bash
# Provides the consumers tier's real tools and prints the venv's bin directory (holding
# `app-store-connect` and a `python` that imports `jwt` and `cryptography`) as the last line of
# its output.
#
# codemagic-cli-tools, PyJWT and cryptography are installed from PyPI at the versions pinned in
# tool-versions.env into one venv in a cache outside the clone, keyed by all three versions, so a
# fresh CI clone reuses an earlier install and the clone never holds a venv. Idempotent. Fails
# loudly with the fix, never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tool-versions.env
. "$here/tool-versions.env"

for pin in CODEMAGIC_CLI_TOOLS_VERSION PYJWT_VERSION CRYPTOGRAPHY_VERSION; do
  if [ -z "${!pin:-}" ]; then
    echo "[install-consumers] FAIL: scripts/tool-versions.env has no $pin line." >&2
    echo "[install-consumers] fix: add $pin=<version> to scripts/tool-versions.env." >&2
    exit 1
  fi
done

tag=install-consumers
purpose="codemagic-cli-tools and PyJWT (the consumers tier's real tools)"
venv_name="consumers-venv-codemagic-$CODEMAGIC_CLI_TOOLS_VERSION-pyjwt-$PYJWT_VERSION-cryptography-$CRYPTOGRAPHY_VERSION"
# shellcheck source=python-venv.sh
. "$here/python-venv.sh"
requirements=("codemagic-cli-tools==$CODEMAGIC_CLI_TOOLS_VERSION" "PyJWT==$PYJWT_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION")

# "name==version" of the three distributions as installed, one per line.
installed_versions() {
  "$bin_dir/python" - <<'PY' 2>/dev/null || true
import importlib.metadata as m
for name in ("codemagic-cli-tools", "PyJWT", "cryptography"):
    print(f"{name}=={m.version(name)}")
PY
}
wanted_versions() { printf '%s\n' "${requirements[@]}"; }

# A venv is only "cached" when all three are at their pins AND what the tests use imports: the
# `app-store-connect` entry point, codemagic's JWT code, PyJWT with cryptography's EC backend.
# A half-finished earlier install is redone.
usable() {
  [ -x "$bin_dir/app-store-connect" ] && [ -x "$bin_dir/python" ] &&
    [ "$(installed_versions)" = "$(wanted_versions)" ] &&
    "$bin_dir/python" -c 'import jwt, jwt.algorithms, cryptography.hazmat.primitives.asymmetric.ec, codemagic.apple.app_store_connect' >/dev/null 2>&1 &&
    "$bin_dir/python" -c 'import jwt.algorithms as a; assert a.has_crypto' >/dev/null 2>&1
}

if usable; then
  log "cached: ${requirements[*]} in $venv"
  echo "$bin_dir"
  exit 0
fi

require_python_venv
install_into_venv "pip index versions codemagic-cli-tools / PyJWT / cryptography" "${requirements[@]}"
if ! usable; then
  found=$(installed_versions | tr '\n' ' ')
  rm -rf "$venv"
  log "FAIL: after installing, the venv does not hold ${requirements[*]} in working order (found: ${found:-nothing}; app-store-connect, jwt with cryptography and codemagic's JWT module must import)."
  log "fix: a pin in scripts/tool-versions.env may conflict with another's requirements (pip check in a fresh venv shows which); pin compatible versions and run scripts/install-consumers.sh again."
  exit 1
fi
log "installed ${requirements[*]}"
echo "$bin_dir"
