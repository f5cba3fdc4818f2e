# shellcheck shell=bash
# Sourced by the install-*.sh scripts that take a tool from PyPI: a pinned install into a venv in
# a cache outside the clone (keyed by the pins, so a fresh CI clone reuses it). The caller sets
# `tag` (the log prefix), `purpose` (what needs the tool, for the error) and `venv_name`, then
# calls require_python_venv and install_into_venv (and installed_version to check a venv).
cache_root=${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-asc-credential}
venv="$cache_root/$venv_name"
bin_dir="$venv/bin"

log() { echo "[$tag] $*" >&2; }

# installed_version DIST: the version of DIST in the venv, or nothing (no venv, or not installed).
installed_version() {
  "$bin_dir/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

# python3 with venv and ensurepip, or exit 1 with the fix.
require_python_venv() {
  if ! command -v python3 >/dev/null 2>&1; then
    log "FAIL: python3 is needed for $purpose and is not on PATH."
    log "fix: install Python >= 3.9 with venv support (Debian/Ubuntu: apt-get install python3 python3-venv) and run again."
    exit 1
  fi
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    log "FAIL: python3 ($(python3 --version 2>&1)) lacks the venv/ensurepip modules needed to create the venv for $purpose."
    log "fix: Debian/Ubuntu: apt-get install python3-venv (or python3.X-venv for your version); then run again."
    exit 1
  fi
}

# install_into_venv HINT REQUIREMENT...: a fresh venv holding exactly these pins, or exit 1 with
# the fix (HINT names the `pip index versions` query for other pins).
install_into_venv() {
  local hint=$1
  shift
  log "installing $* into $venv (first run only)"
  rm -rf "$venv"
  mkdir -p "$cache_root"
  python3 -m venv "$venv"
  "$bin_dir/python" -m pip install --disable-pip-version-check --quiet "$@" >&2 || {
    rm -rf "$venv"
    log "FAIL: pip could not install $* from PyPI."
    log "fix: check network access to PyPI (or a PIP_INDEX_URL mirror), or pin other versions in scripts/tool-versions.env ($hint)."
    exit 1
  }
}
