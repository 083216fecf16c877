package crash

import (
	"strings"
	"sync"
	"testing"
)

func explode() { panic("boom") }

// TestRelay: the first worker's panic reaches the waiter with the
// worker's stack; the other workers stop early.
func TestRelay(t *testing.T) {
	var relay Relay
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			defer relay.Catch()
			if i == 2 {
				explode()
			}
		})
	}
	wg.Wait()
	if !relay.Panicked() {
		t.Fatal("the panic was not caught")
	}
	defer func() {
		v, rep := Of(recover())
		if v != "boom" {
			t.Errorf("value %v, want boom", v)
		}
		if !strings.Contains(rep.Where, "crash.explode") || !strings.Contains(rep.Where, "internal/crash/relay_test.go:") {
			t.Errorf("where %q, want the worker's frame", rep.Where)
		}
	}()
	relay.Repanic()
	t.Fatal("Repanic did not panic")
}

func TestRelayQuiet(t *testing.T) {
	var relay Relay
	func() { defer relay.Catch() }()
	if relay.Panicked() {
		t.Fatal("no panic, but Panicked")
	}
	relay.Repanic() // must not panic
}

// TestRelayNested: a pool whose workers wait for another pool keeps the
// inner worker's report.
func TestRelayNested(t *testing.T) {
	var outer Relay
	func() {
		defer outer.Catch()
		var inner Relay
		func() {
			defer inner.Catch()
			explode()
		}()
		inner.Repanic()
	}()
	defer func() {
		_, rep := Of(recover())
		if !strings.Contains(rep.Where, "crash.explode") {
			t.Errorf("where %q, want the inner worker's frame", rep.Where)
		}
	}()
	outer.Repanic()
}
