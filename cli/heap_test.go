package cli

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestBoundHeap checks that doctor's memory limit is set for the rules
// and taken back after, and that a GOMEMLIMIT the user sets wins.
func TestBoundHeap(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // restored after the test
	os.Unsetenv("GOMEMLIMIT")
	before := debug.SetMemoryLimit(-1)
	restore := boundHeap()
	if got := debug.SetMemoryLimit(-1); got < minHeapCeiling || got == before {
		t.Errorf("limit while the rules run = %d, want at least %d", got, minHeapCeiling)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after = %d, want %d as before", got, before)
	}

	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = boundHeap()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set, the limit changed to %d", got)
	}
	restore()
}
