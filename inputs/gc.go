package inputs

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Loading makes garbage many times the size of what it keeps (the HCL
// parser's tokens and syntax trees, the template parser's trees), while
// the heap it keeps is small and grows as files load. At the default
// GOGC=100 the collector runs each time the heap doubles, marking that
// growing heap over and over: a sixth of the CPU of a large run. While
// loading, nvlint instead lets the heap grow to a fixed budget before
// collecting (loadGCPercent up to loadHeapBudget), and keeps the budget
// at least loadHeapRatio times what loading keeps, so a very large input
// is collected as often as the default would, never more. The user's
// GOGC or GOMEMLIMIT, when set, is left alone.
const (
	loadGCPercent  = 400
	loadHeapBudget = 192 << 20
	loadHeapRatio  = 2
)

// gcTuner is the collector setting of one Load; only one Load at a time
// tunes (concurrent loads run with whatever is set).
type gcTuner struct {
	prevPercent int
	prevLimit   int64
	limit       int64
	sample      []metrics.Sample
}

var gcTuning sync.Mutex

// tuneGC starts tuning for a load; nil when it does not (the user set
// GOGC or GOMEMLIMIT, or another load is tuning).
func tuneGC() *gcTuner {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || !gcTuning.TryLock() {
		return nil
	}
	t := &gcTuner{limit: loadHeapBudget, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.prevLimit = debug.SetMemoryLimit(t.limit)
	t.prevPercent = debug.SetGCPercent(loadGCPercent)
	return t
}

// check raises the budget when what the load keeps has grown past a
// loadHeapRatio-th of it. Call it now and then while loading.
func (t *gcTuner) check() {
	if t == nil {
		return
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := t.sample[0].Value.Uint64()
	if live > math.MaxInt64/loadHeapRatio {
		return
	}
	if want := int64(live) * loadHeapRatio; want > t.limit {
		t.limit = want
		debug.SetMemoryLimit(want)
	}
}

// stop restores the collector settings.
func (t *gcTuner) stop() {
	if t == nil {
		return
	}
	debug.SetGCPercent(t.prevPercent)
	debug.SetMemoryLimit(t.prevLimit)
	gcTuning.Unlock()
}
