// Package realserver starts real Vault and Nomad dev servers for tests.
//
// The binaries are not downloaded here: `bash scripts/build-servers.sh`
// builds them from the Go module proxy into a per-user cache
// (${NVLINT_SERVERS_CACHE:-$HOME/.cache/nvlint/servers}), and this package
// only looks them up. Tests that call StartVault or StartNomad fail (they do
// not skip) when the binaries are missing: CI builds them first.
//
// Every process binds 127.0.0.1 only, on free ports picked per start, keeps
// its state in the test's temp dir, runs without AWS_CA_BUNDLE and the
// VAULT_*, NOMAD_* and CONSUL_* variables of the test environment, and is
// stopped by PID in t.Cleanup. Its log is written to a file in the test's
// temp dir and printed when the test fails.
package realserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Versions of the binaries scripts/build-servers.sh builds. Keep in sync.
const (
	VaultVersion = "1.21.4"
	// NomadVersion is the default Nomad: workload identity only.
	NomadVersion = "1.10.5"
	// Nomad111Version adds task secret blocks and extra claims.
	Nomad111Version = "1.11.3"
	// NomadLegacyVersion still has the legacy Vault token flow.
	NomadLegacyVersion = "1.9.7"
)

// NomadWorkloadIdentityVersions are the Nomad versions the
// workload-identity tests run against, oldest first.
var NomadWorkloadIdentityVersions = []string{NomadVersion, Nomad111Version}

// nomadTargets maps each Nomad version the build script builds to its
// target name there.
var nomadTargets = map[string]string{
	NomadVersion:       "nomad",
	Nomad111Version:    "nomad-1.11",
	NomadLegacyVersion: "nomad-legacy",
}

// BuildCommand is what a developer runs (from the repository root) to build
// the binaries into the cache.
const BuildCommand = "bash scripts/build-servers.sh"

// CacheEnv overrides the cache directory, as it does for the build script.
const CacheEnv = "NVLINT_SERVERS_CACHE"

// CacheDir is the directory the build script writes the binaries to:
// $NVLINT_SERVERS_CACHE if set, else $HOME/.cache/nvlint/servers.
func CacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("realserver: cannot find the servers cache: %s is unset and %w", CacheEnv, err)
	}
	return filepath.Join(home, ".cache", "nvlint", "servers"), nil
}

// VaultBin returns the path of the cached vault 1.21.4 binary.
func VaultBin() (string, error) {
	return cachedBin("vault", "vault-"+VaultVersion, "vault", "Vault "+VaultVersion)
}

// NomadBin returns the path of the cached nomad 1.10.5 binary (workload
// identity flow).
func NomadBin() (string, error) { return NomadBinVersion(NomadVersion) }

// NomadLegacyBin returns the path of the cached nomad 1.9.7 binary (legacy
// Vault token flow).
func NomadLegacyBin() (string, error) { return NomadBinVersion(NomadLegacyVersion) }

// NomadBinVersion returns the path of the cached nomad binary of a version
// the build script builds.
func NomadBinVersion(version string) (string, error) {
	target, ok := nomadTargets[version]
	if !ok {
		return "", fmt.Errorf("realserver: no Nomad %s: the build script builds %s, %s and %s", version, NomadLegacyVersion, NomadVersion, Nomad111Version)
	}
	return cachedBin(target, "nomad-"+version, "nomad", "Nomad "+version)
}

func cachedBin(target, dir, name, what string) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(cache, dir, name)
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("realserver: %s binary not found at %s; build it from the repository root with `%s` (or `%s %s`; ~10 min on first run, %s overrides the cache dir)",
			what, p, BuildCommand, BuildCommand, target, CacheEnv)
	case err != nil:
		return "", fmt.Errorf("realserver: %s binary: %w; rebuild it with `%s %s`", what, err, BuildCommand, target)
	case fi.IsDir() || fi.Mode().Perm()&0o111 == 0:
		return "", fmt.Errorf("realserver: %s at %s is not an executable file; remove it and run `%s %s`", what, p, BuildCommand, target)
	}
	return p, nil
}
