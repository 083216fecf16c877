#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it. Builds (or reuses from
# $HOME/.cache) the real Vault and Nomad binaries the live tests start, then
# runs every Go test. Extra arguments go to `go test`.
#
# The race detector needs cgo, and cgo a C compiler: without one (or with
# CGO_ENABLED=0) the tests run without -race, and this says so on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-servers.sh
race=(-race)
cc=$(go env CC)
if [ "$(go env CGO_ENABLED)" != 1 ]; then
	echo "test.sh: cgo is disabled: running the tests without -race (the race detector needs cgo and a C compiler)" >&2
	race=()
elif ! command -v "${cc%% *}" >/dev/null 2>&1; then
	echo "test.sh: no C compiler ($cc not found): running the tests without -race (install gcc or clang for the race detector)" >&2
	race=()
fi
# The example alerting rules are checked with Prometheus's own rule parser
# in a module of their own, whose requirements stay out of nvlint's go.mod.
if [ -d docs/prometheus ]; then
	(cd docs/prometheus && go test "${race[@]}" -timeout 10m "$@" ./...)
fi
go test "${race[@]}" -timeout 30m "$@" ./...
