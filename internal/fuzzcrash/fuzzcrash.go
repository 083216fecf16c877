// Package fuzzcrash keeps what a fuzz worker prints when it dies.
//
// go test runs fuzz targets in worker processes whose output it
// discards, so a fatal error there (a stack overflow, a concurrent map
// write, running out of memory) shows only as "fuzzing process hung or
// terminated unexpectedly". Importing this package from a fuzz test
// writes each process's crash output to a file in $NVLINT_FUZZ_CRASH_DIR,
// when that is set.
package fuzzcrash

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
)

func init() {
	dir := os.Getenv("NVLINT_FUZZ_CRASH_DIR")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("crash-%d.txt", os.Getpid())))
	if err != nil {
		return
	}
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return
	}
	// The runtime holds its own copy of the descriptor; an empty file is
	// removed by whoever reads the directory.
	_ = f.Close()
}
