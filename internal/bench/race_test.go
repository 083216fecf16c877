//go:build race

package bench

// raceEnabled: the cost tests count allocations, which the race
// detector's instrumentation changes, and take minutes under it; they
// say nothing about data races, so they skip.
const raceEnabled = true
