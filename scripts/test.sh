#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it. Builds (or reuses from
# $HOME/.cache) the real Vault and Nomad binaries the live tests start, then
# runs every Go test. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-servers.sh
go test -race -timeout 30m "$@" ./...
