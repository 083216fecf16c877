package world

import (
	"sync"
	"sync/atomic"
)

// Derived facts that several rules need (the accessor the policies name,
// the objects by name, the token each workload gets) are worked out once
// per run instead of once per rule and workload: on a large setup the
// joins are otherwise quadratic. The cache lives only while a run holds
// it (Memoize), so code that builds or changes a world, and callers
// outside a run, always see fresh answers.

// A DerivedKey names one derived fact. Declare one per fact as a package
// variable: var key = world.NewDerivedKey("what").
type DerivedKey struct{ name string }

// NewDerivedKey makes a key; name is for debugging.
func NewDerivedKey(name string) *DerivedKey { return &DerivedKey{name: name} }

// memo holds the derived facts of one world while runs hold it.
type memo struct {
	mu      sync.Mutex
	holders int
	facts   map[any]*fact
}

type fact struct {
	mu   sync.Mutex
	done atomic.Bool // set once v is
	v    any
}

// get computes the fact once; a computation that panics is not cached.
// Once computed, the fact is read without a lock: the pools that decide
// every workload ask for some facts once per read.
func (e *fact) get(w *World, f func(*World) any) any {
	if e.done.Load() {
		return e.v
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.done.Load() {
		e.v = f(w)
		e.done.Store(true)
	}
	return e.v
}

// Memoize caches derived facts of w until the returned release is
// called; calls nest and may overlap (concurrent runs over one world).
// The world must not change while the cache is held.
func (w *World) Memoize() (release func()) {
	m := w.memoState()
	m.mu.Lock()
	m.holders++
	if m.facts == nil {
		m.facts = map[any]*fact{}
	}
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.holders--; m.holders == 0 {
				m.facts = nil
			}
		})
	}
}

var memoInit sync.Mutex

func (w *World) memoState() *memo {
	if m := w.memo.Load(); m != nil {
		return m
	}
	memoInit.Lock()
	defer memoInit.Unlock()
	if m := w.memo.Load(); m != nil {
		return m
	}
	m := &memo{}
	w.memo.Store(m)
	return m
}

// Memoized reports whether a run holds the cache, so that Derived keeps
// what it works out.
func (w *World) Memoized() bool {
	m := w.memo.Load()
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.facts != nil
}

// Derived returns the fact key (a comparable value, usually a
// *DerivedKey) of w computed by f: once per Memoize, every time outside
// one. f must be a pure function of w.
func Derived[T any](w *World, key any, f func(*World) T) T {
	m := w.memo.Load()
	if m == nil {
		return f(w)
	}
	m.mu.Lock()
	if m.facts == nil {
		m.mu.Unlock()
		return f(w)
	}
	e := m.facts[key]
	if e == nil {
		e = &fact{}
		m.facts[key] = e
	}
	m.mu.Unlock()
	v, _ := e.get(w, func(w *World) any { return f(w) }).(T)
	return v
}

// memoPtr is the lazily created cache of a world.
type memoPtr = atomic.Pointer[memo]
