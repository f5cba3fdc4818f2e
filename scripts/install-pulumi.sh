#!/usr/bin/env bash
# Provides the Pulumi CLI for the engine tier and the demo, and prints the directory to put on
# PATH as the last line of its output. That directory also holds `pulumi-resource-pulumi-nodejs`,
# the plugin the engine starts for every `pulumi.dynamic.Resource` (see write_shim below).
#
# The Pulumi release download site is unreachable here, so the CLI is built from the Go module
# proxy (github.com/pulumi/pulumi/pkg/v3) into a cache outside the clone, keyed by version, so
# that a fresh CI clone reuses an earlier build. A `pulumi` already on PATH at the pinned version
# or newer is used as is. Idempotent. Fails loudly, never skips.
#
# Only the CLI is built. The Node language host (pulumi-language-nodejs) and the command provider
# (pulumi-resource-command) are not obtainable here: the Go module proxy refuses both modules. The
# engine tier and `npm run demo` therefore use the Automation API with inline programs (the
# language runtime runs in-process) and do not run @pulumi/command resources.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tool-versions.env
. "$here/tool-versions.env"

cache_root=${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-asc-credential}
bin_dir="$cache_root/pulumi-v$PULUMI_VERSION/bin"

log() { echo "[install-pulumi] $*" >&2; }

# The engine looks for plugins next to the real `pulumi` executable before PATH (PATH works too,
# but then it warns on every run). The dynamic-provider plugin is a shell shim shipped inside the
# @pulumi/pulumi npm package; this is the same shim, written here so that it does not depend on
# where any one clone's node_modules is. Like the original it resolves @pulumi/pulumi from its
# working directory, which the engine sets to the stack's work dir (the Pulumi project).
write_shim() {
  local shim="$1/pulumi-resource-pulumi-nodejs" tmp
  tmp=$(mktemp "$1/.shim.XXXXXX")
  cat >"$tmp" <<'SHIM'
#!/bin/sh
# pulumi-resource-pulumi-nodejs: starts @pulumi/pulumi's dynamic-provider host (written by
# pulumi-asc-credential's scripts/install-pulumi.sh; same behaviour as the shim in @pulumi/pulumi).
script=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || {
  echo "pulumi-resource-pulumi-nodejs: cannot resolve @pulumi/pulumi from $(pwd); install it in the Pulumi project (npm install @pulumi/pulumi)" >&2
  exit 1
}
exec node "$script" "$@"
SHIM
  chmod 755 "$tmp"
  if [ -f "$shim" ] && cmp -s "$tmp" "$shim"; then rm -f "$tmp"; else mv -f "$tmp" "$shim"; fi
}

# "Recent enough" = at least the pinned version (the @pulumi/pulumi SDK is pinned to the same release).
if command -v pulumi >/dev/null 2>&1; then
  have=$(pulumi version 2>/dev/null | sed 's/^v//')
  if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$PULUMI_VERSION" "$have" | sort -V | head -n1)" = "$PULUMI_VERSION" ]; then
    real=$(readlink -f "$(command -v pulumi)")
    if [ -x "$(dirname "$real")/pulumi-resource-pulumi-nodejs" ]; then
      log "using pulumi $have from PATH ($real)"
      dirname "$real"
      exit 0
    fi
    # Its directory may not be writable: copy it into the cache next to a shim instead.
    own="$cache_root/pulumi-v$have/bin"
    mkdir -p "$own"
    if [ ! -x "$own/pulumi" ] || ! cmp -s "$real" "$own/pulumi"; then cp -f "$real" "$own/pulumi"; fi
    write_shim "$own"
    log "using pulumi $have from PATH, copied to $own next to the dynamic-provider shim"
    echo "$own"
    exit 0
  fi
fi

if [ -x "$bin_dir/pulumi" ] && [ "$("$bin_dir/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
  log "cached: $bin_dir/pulumi"
else
  if ! command -v go >/dev/null 2>&1; then
    log "FAIL: Go is needed to build the Pulumi CLI $PULUMI_VERSION from the Go module proxy and is not on PATH."
    log "fix: install Go >= 1.26 (apt-get install golang-go, or the distribution's Go) and run again."
    exit 1
  fi
  work="$cache_root/build-pulumi-v$PULUMI_VERSION"
  rm -rf "$work" && mkdir -p "$work" "$bin_dir"
  # pkg/v3's own go.mod has replace directives, so `go install pkg@version` is refused; a wrapper
  # module that requires pkg and sdk at one version builds the same main package without them.
  cat >"$work/go.mod" <<GOMOD
module asc-credential-tools/pulumi

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION
)
GOMOD
  cat >"$work/tools.go" <<'GOSRC'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GOSRC
  log "building pulumi v$PULUMI_VERSION from the Go module proxy (first run only; ~3-20 min depending on the machine)"
  (
    cd "$work"
    # pkg's go.mod replaces clipboard with a fork; mirror that so the wrapper resolves the same code.
    go mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
    GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
    GOFLAGS=-mod=mod go build -trimpath -o "$bin_dir/pulumi" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  ) || {
    log "FAIL: building the Pulumi CLI v$PULUMI_VERSION failed (see the Go output above)."
    log "fix: check that the Go module proxy is reachable (go env GOPROXY) and Go is >= 1.26, then run again."
    exit 1
  }
  "$bin_dir/pulumi" version >/dev/null
  log "built $bin_dir/pulumi"
fi
write_shim "$bin_dir"
echo "$bin_dir"
