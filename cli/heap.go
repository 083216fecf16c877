package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// minHeapCeiling is the least soft memory limit boundHeap sets.
const minHeapCeiling = 448 << 20

// boundHeap sets a soft memory limit for the rules' run over a world
// just collected, and returns what restores the one before.
//
// Go's collector lets the heap grow to twice what is live, and the
// rules' own data about doubles the world while they run: over a fleet
// of 10,000 jobs doctor peaked at over 600 MB resident for under 300 MB
// live. A limit at three times the world (at least minHeapCeiling)
// starts collections sooner instead, and leaves the rules enough room
// that the collector never runs back to back. A GOMEMLIMIT the user sets
// wins.
func boundHeap() (restore func()) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	runtime.GC() // the world, without the collection's garbage
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return func() {}
	}
	limit := max(minHeapCeiling, 3*s[0].Value.Uint64())
	prev := debug.SetMemoryLimit(int64(min(limit, 1<<62)))
	return func() { debug.SetMemoryLimit(prev) }
}
