#!/usr/bin/env bash
# build-servers.sh: build the real Vault and Nomad binaries that nvlint's live
# mode (`doctor`) and the internal/realserver tests run against.
#
# Usage: bash scripts/build-servers.sh [vault] [nomad] [nomad-1.11] [nomad-legacy] [all]
#
#   vault         Vault  v1.21.4  -> $CACHE/vault-1.21.4/vault
#   nomad         Nomad  v1.10.5  -> $CACHE/nomad-1.10.5/nomad   (workload identity)
#   nomad-1.11    Nomad  v1.11.3  -> $CACHE/nomad-1.11.3/nomad   (workload identity, secret blocks)
#   nomad-legacy  Nomad  v1.9.7   -> $CACHE/nomad-1.9.7/nomad    (legacy token flow)
#   all           all four (the default)
#
# CACHE is ${NVLINT_SERVERS_CACHE:-$HOME/.cache/nvlint/servers}. A binary that
# is already there is not rebuilt, so a rerun is a fast no-op. Delete a
# version directory to force its rebuild.
#
# Vault and Nomad are built from their modules on the Go module proxy (the only
# network reachable here; Debian has no package for them). Their go.mod files
# carry replace directives pointing at in-tree directories that the module zips
# don't contain, so `go install MODULE@VERSION` refuses them. Instead each
# module's source is copied into a scratch directory inside the cache, the
# in-tree replaces are dropped, published api/sdk versions are required, a
# handful of call sites are adapted with sed, and the binary is built with
# -mod=mod. Nothing is written to the repository's working tree. The details
# are in the comments of each build step below.
#
# One builder at a time: an flock on $CACHE/.lock. Each binary is built into a
# scratch directory and renamed into place, so readers never see a partial
# file. A failed build prints the tail of its log and exits non-zero.
set -euo pipefail

VAULT_VERSION=1.21.4
VAULT_SDK=v0.21.0
VAULT_API=v1.22.0
NOMAD_VERSION=1.10.5
NOMAD_API=v0.0.0-20250909143645-a3b86c697f38 # v1.10.5 tag commit
# 1.11.3 is the newest Nomad CE release the module proxy serves (the 2.x tags
# are not fetchable as a module). The api pseudo-version of its tag commit is
# not served; this later commit's api differs from it by one struct field that
# the agent does not use.
NOMAD_111_VERSION=1.11.3
NOMAD_111_API=v0.0.0-20260324203407-b27b0c2e019a
NOMAD_LEGACY_VERSION=1.9.7
NOMAD_LEGACY_API=v0.0.0-20241111163541-d92bf1014886 # v1.9.3 tag commit; v1.9.7's is not served
# Build tags as in each version's GNUmakefile. 1.10 switched to
# hashicorp/go-metrics (tag hashicorpmetrics); 1.9.x still uses armon/go-metrics
# and fails with that tag ("cannot use conf.MetricLabels ... as
# []"github.com/hashicorp/go-metrics/compat".Label" in hashicorp/serf).
NOMAD_TAGS=hashicorpmetrics
NOMAD_111_TAGS=hashicorpmetrics
NOMAD_LEGACY_TAGS=

CACHE="${NVLINT_SERVERS_CACHE:-$HOME/.cache/nvlint/servers}"

usage() {
	sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
	echo "build-servers.sh: ERROR: $*" >&2
	exit 1
}

bin_path() {
	case "$1" in
	vault) echo "$CACHE/vault-$VAULT_VERSION/vault" ;;
	nomad) echo "$CACHE/nomad-$NOMAD_VERSION/nomad" ;;
	nomad-1.11) echo "$CACHE/nomad-$NOMAD_111_VERSION/nomad" ;;
	nomad-legacy) echo "$CACHE/nomad-$NOMAD_LEGACY_VERSION/nomad" ;;
	*) die "unknown target $1" ;;
	esac
}

# ---- arguments --------------------------------------------------------------
targets=()
for a in "$@"; do
	case "$a" in
	-h | --help | help)
		usage
		exit 0
		;;
	all) targets+=(vault nomad nomad-1.11 nomad-legacy) ;;
	vault | nomad | nomad-1.11 | nomad-legacy) targets+=("$a") ;;
	*)
		usage >&2
		die "unknown argument '$a' (want vault, nomad, nomad-1.11, nomad-legacy or all)"
		;;
	esac
done
if [ "${#targets[@]}" -eq 0 ]; then
	targets=(vault nomad nomad-1.11 nomad-legacy)
fi
# de-duplicate, keeping order
declare -A seen=()
uniq=()
for t in "${targets[@]}"; do
	if [ -z "${seen[$t]:-}" ]; then
		seen[$t]=1
		uniq+=("$t")
	fi
done
targets=("${uniq[@]}")

print_paths() {
	for t in "${targets[@]}"; do
		case "$t" in
		vault) printf 'VAULT_BIN=%s\n' "$(bin_path vault)" ;;
		nomad) printf 'NOMAD_BIN=%s\n' "$(bin_path nomad)" ;;
		nomad-1.11) printf 'NOMAD_1_11_BIN=%s\n' "$(bin_path nomad-1.11)" ;;
		nomad-legacy) printf 'NOMAD_LEGACY_BIN=%s\n' "$(bin_path nomad-legacy)" ;;
		esac
	done
}

missing() {
	local t
	for t in "${targets[@]}"; do
		[ -x "$(bin_path "$t")" ] || echo "$t"
	done
}

# ---- fast path: everything already built, no lock, no go ----------------------
if [ -z "$(missing)" ]; then
	print_paths
	exit 0
fi

command -v go >/dev/null || die "go is not on PATH"
command -v flock >/dev/null || die "flock is not on PATH (Debian package util-linux)"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	echo "build-servers.sh: another build holds $CACHE/.lock; waiting..." >&2
	flock 9
fi

# We hold the lock: any scratch directory left behind is from a killed build.
rm -rf "$CACHE"/.work.* 2>/dev/null || true
mkdir -p "$CACHE/logs"

WORK="$(mktemp -d "$CACHE/.work.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# A throwaway module, so `go mod download` below never resolves against some
# enclosing module (e.g. if NVLINT_SERVERS_CACHE points inside a repository).
printf 'module nvlint.invalid/scratch\n\ngo 1.21\n' >"$WORK/go.mod"

# Go environment for the builds: keep the user's module/build caches and proxy,
# but nothing that could make the builds look at another module or workspace.
export GOWORK=off
export GOTOOLCHAIN=local
export GOFLAGS=-buildvcs=false # -mod=mod is passed to `go build` explicitly

# module_dir MODULE VERSION: the module's source directory in the module cache.
module_dir() {
	local json dir
	json="$(cd "$WORK" && go mod download -json "$1@$2")" || {
		echo "$json" >&2
		return 1
	}
	dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
	[ -n "$dir" ] && [ -d "$dir" ] || {
		echo "go mod download gave no Dir for $1@$2:" >&2
		echo "$json" >&2
		return 1
	}
	echo "$dir"
}

# copy_module MODULE VERSION DEST: writable copy of the module source.
copy_module() {
	local dir
	dir="$(module_dir "$1" "$2")"
	cp -R "$dir" "$3"
	chmod -R u+w "$3"
}

# edit FILE SED-EXPR CHECK-REGEX: apply a one-line source adaptation and verify
# it took (a silent no-op sed would otherwise turn into a confusing compile error).
edit() {
	local file="$1" expr="$2" check="$3"
	[ -f "$file" ] || {
		echo "source adaptation: $file does not exist" >&2
		return 1
	}
	sed -i -e "$expr" "$file"
	grep -q -e "$check" "$file" || {
		echo "source adaptation did not apply to $file: sed '$expr'" >&2
		return 1
	}
}

build_vault() {
	local out="$1" src="$WORK/vault-src"
	echo "== copying github.com/hashicorp/vault@v$VAULT_VERSION"
	copy_module github.com/hashicorp/vault "v$VAULT_VERSION" "$src"
	cd "$src"
	echo "== dropping in-tree replaces, requiring sdk $VAULT_SDK and api $VAULT_API"
	go mod edit \
		-dropreplace=github.com/hashicorp/vault/api \
		-dropreplace=github.com/hashicorp/vault/api/auth/approle \
		-dropreplace=github.com/hashicorp/vault/api/auth/kubernetes \
		-dropreplace=github.com/hashicorp/vault/api/auth/userpass \
		-dropreplace=github.com/hashicorp/vault/sdk \
		-require="github.com/hashicorp/vault/sdk@$VAULT_SDK" \
		-require="github.com/hashicorp/vault/api@$VAULT_API"
	if grep -n '=> \./' go.mod; then
		echo "vault go.mod still has in-tree replaces (above)" >&2
		return 1
	fi
	echo "== adapting three call sites to sdk $VAULT_SDK"
	# RestorePolicy now returns only an error; the restored name is keyName.
	edit builtin/logical/transit/path_restore.go \
		's/restoredKeyName, err := b\.lm\.RestorePolicy(/restoredKeyName, err := keyName, b.lm.RestorePolicy(/' \
		'restoredKeyName, err := keyName, b\.lm\.RestorePolicy('
	# ActivationFunc takes an extra string argument.
	edit vault/identity_store.go \
		's/ActivationFunc: iStore\.activateDeduplication,/ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },/' \
		'return iStore\.activateDeduplication(ctx, req) }'
	edit vault/logical_system_activation_flags.go \
		's/b\.idStoreBackend\.ActivationFunc(ctx, nil)/b.idStoreBackend.ActivationFunc(ctx, nil, "")/' \
		'ActivationFunc(ctx, nil, "")'
	echo "== go build (tags minimal, CGO_ENABLED=0)"
	CGO_ENABLED=0 go build -mod=mod -trimpath -tags minimal -ldflags "-s -w" -o "$out" .
}

# build_nomad VERSION API-VERSION TAGS OUT
build_nomad() {
	local version="$1" api="$2" tags="$3" out="$4" src="$WORK/nomad-$1-src" cgo=0
	echo "== copying github.com/hashicorp/nomad@v$version"
	copy_module github.com/hashicorp/nomad "v$version" "$src"
	cd "$src"
	echo "== dropping the in-tree api replace, requiring nomad/api@$api"
	go mod edit \
		-dropreplace=github.com/hashicorp/nomad/api \
		-require="github.com/hashicorp/nomad/api@$api"
	if grep -n '=> \./' go.mod; then
		echo "nomad go.mod still has in-tree replaces (above)" >&2
		return 1
	fi
	if [ "$version" = "$NOMAD_LEGACY_VERSION" ]; then
		echo "== adapting command/operator_root_keyring_remove.go to the v1.9.3 api (drop Force: force,)"
		grep -q '^[[:space:]]*Force:[[:space:]]*force,[[:space:]]*$' command/operator_root_keyring_remove.go || {
			echo "expected 'Force: force,' in command/operator_root_keyring_remove.go" >&2
			return 1
		}
		sed -i '/^[[:space:]]*Force:[[:space:]]*force,[[:space:]]*$/d' command/operator_root_keyring_remove.go
	fi
	if command -v "${CC:-gcc}" >/dev/null 2>&1; then cgo=1; fi
	echo "== go build (tags '$tags', CGO_ENABLED=$cgo)"
	CGO_ENABLED=$cgo go build -mod=mod -trimpath -tags "$tags" -ldflags "-s -w" -o "$out" .
}

# build TARGET: build one target into the scratch dir, smoke-test it, rename
# it into the cache.
build() {
	local t="$1" final tmpout log start rc
	final="$(bin_path "$t")"
	if [ -x "$final" ]; then
		echo "== $t: already built: $final"
		return 0
	fi
	tmpout="$WORK/out-$t/$(basename "$final")"
	mkdir -p "$(dirname "$tmpout")"
	log="$CACHE/logs/$t.log"
	echo "== $t: building (log: $log)"
	start=$SECONDS
	set +e
	(
		set -euo pipefail
		case "$t" in
		vault) build_vault "$tmpout" ;;
		nomad) build_nomad "$NOMAD_VERSION" "$NOMAD_API" "$NOMAD_TAGS" "$tmpout" ;;
		nomad-1.11) build_nomad "$NOMAD_111_VERSION" "$NOMAD_111_API" "$NOMAD_111_TAGS" "$tmpout" ;;
		nomad-legacy) build_nomad "$NOMAD_LEGACY_VERSION" "$NOMAD_LEGACY_API" "$NOMAD_LEGACY_TAGS" "$tmpout" ;;
		esac
		echo "== smoke test: $(basename "$tmpout") version"
		"$tmpout" version
	) >"$log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ] || [ ! -x "$tmpout" ]; then
		{
			echo
			echo "############################################################"
			echo "## build-servers.sh: BUILD FAILED: $t (exit $rc) after $((SECONDS - start))s"
			echo "## full log: $log ; last 60 lines:"
			echo "############################################################"
			tail -n 60 "$log"
			echo "############################################################"
		} >&2
		exit 1
	fi
	mkdir -p "$(dirname "$final")"
	# Same filesystem (scratch dir is inside the cache): the rename is atomic.
	mv -f "$tmpout" "$final"
	rm -rf "$WORK"/*-src "$WORK/out-$t"
	echo "== $t: built in $((SECONDS - start))s: $final ($(du -h "$final" | cut -f1)); $(grep -m1 -E '^(Vault|Nomad) v' "$log" || true)"
}

for t in "${targets[@]}"; do
	build "$t"
done

print_paths
