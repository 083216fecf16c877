package crash

import (
	"fmt"
	"sync/atomic"
)

// A panic on a worker goroutine ends the process: no recover up the
// caller's stack can see it. Relay carries a pool's first panic to the
// goroutine that waits for the pool, which panics again with it, so the
// caller's own recovery (a rule's, a reader's) reports it as a bug with
// the worker's stack, not the waiter's.

// Relayed is a worker's panic panicked again by Relay.Repanic.
type Relayed struct {
	Value  any
	Report Report
}

func (r Relayed) String() string { return fmt.Sprint(r.Value) }

// Relay keeps the first panic of a pool's workers.
type Relay struct{ first atomic.Pointer[Relayed] }

// Catch recovers a worker's panic; defer it at the top of each worker.
// A worker that panicked stops; the others go on to the end of their
// work, which the waiter discards.
func (r *Relay) Catch() {
	v := recover()
	if v == nil {
		return
	}
	p, ok := v.(Relayed)
	if !ok {
		// A pool inside a worker has relayed it already, from where it
		// happened.
		p = Relayed{Value: v, Report: Capture()}
	}
	r.first.CompareAndSwap(nil, &p)
}

// Panicked reports whether a worker has panicked, so that the others can
// stop early.
func (r *Relay) Panicked() bool {
	return r.first.Load() != nil
}

// Repanic panics with the first worker's panic, if any. Call it after
// the workers are done.
func (r *Relay) Repanic() {
	if p := r.first.Load(); p != nil {
		panic(*p)
	}
}

// Of describes a recovered value: the worker's report for a relayed
// panic, the current stack's otherwise. Call it where Capture would be
// called.
func Of(v any) (any, Report) {
	if p, ok := v.(Relayed); ok {
		return p.Value, p.Report
	}
	return v, Capture()
}
