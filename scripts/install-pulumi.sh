#!/usr/bin/env bash
# Provides the Pulumi CLI for the engine tier and the demo, and prints the directory to put on
# PATH as the last line of its output.
#
# The Pulumi release download site is unreachable here, so the CLI is built from the Go module
# proxy (github.com/pulumi/pulumi/pkg/v3) into a cache outside the clone, keyed by version, so
# that a fresh CI clone reuses an earlier build. A `pulumi` already on PATH at the pinned version
# is used as is. Idempotent. Fails loudly, never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tool-versions.env
. "$here/tool-versions.env"

cache_root=${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-asc-credential}
bin_dir="$cache_root/pulumi-v$PULUMI_VERSION/bin"

log() { echo "[install-pulumi] $*" >&2; }

if command -v pulumi >/dev/null 2>&1; then
  have=$(pulumi version 2>/dev/null | sed 's/^v//')
  if [ "$have" = "$PULUMI_VERSION" ]; then
    log "using pulumi $have from PATH"
    dirname "$(command -v pulumi)"
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
  log "building pulumi v$PULUMI_VERSION from the Go module proxy (first run only; ~10-20 min on 2 cores)"
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
echo "$bin_dir"
