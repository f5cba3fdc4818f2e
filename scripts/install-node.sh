#!/usr/bin/env bash
# Provides the Node.js binary of one supported line (22 or 24) and prints the directory holding
# `node` as the last line of its output. Used by scripts/test-all.mjs to run every tier on each
# line in tool-versions.env.
#
# The binary comes from the npm registry's `node` package at the pinned version (it installs the
# real node-<os>-<arch> binary), into a cache outside the clone keyed by version, so a fresh CI
# clone reuses it. Fails loudly with the fix, never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tool-versions.env
. "$here/tool-versions.env"

line=${1:?usage: install-node.sh <major line, e.g. 22>}
var="NODE_${line}_VERSION"
version=${!var:-}
log() { echo "[install-node] $*" >&2; }
if [ -z "$version" ]; then
  log "FAIL: no NODE_${line}_VERSION in scripts/tool-versions.env; supported lines: $NODE_LINES."
  exit 1
fi

cache_root=${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-asc-credential}
prefix="$cache_root/node-v$version"
bin_dir="$prefix/node_modules/node/bin"

if [ -x "$bin_dir/node" ] && [ "$("$bin_dir/node" --version 2>/dev/null)" = "v$version" ]; then
  log "cached: node v$version in $prefix"
  echo "$bin_dir"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  log "FAIL: npm is needed to fetch node@$version from the npm registry and is not on PATH."
  log "fix: install Node.js with npm (any version >= 20), then run again."
  exit 1
fi
log "installing node@$version from the npm registry into $prefix (first run only)"
rm -rf "$prefix"
mkdir -p "$prefix"
echo '{"name":"asc-credential-node-tool","private":true}' >"$prefix/package.json"
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "node@$version" >&2 || {
  rm -rf "$prefix"
  log "FAIL: npm could not install node@$version."
  log "fix: check access to the npm registry (npm config get registry), or pin another version in scripts/tool-versions.env (npm view node versions)."
  exit 1
}
if [ "$("$bin_dir/node" --version 2>/dev/null)" != "v$version" ]; then
  rm -rf "$prefix"
  log "FAIL: $bin_dir/node is not v$version after installing node@$version."
  log "fix: the registry's node package may not ship a binary for $(uname -sm); install Node $line yourself and put it first on PATH."
  exit 1
fi
log "installed node v$version"
echo "$bin_dir"
