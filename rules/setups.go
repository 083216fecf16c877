package rules

import (
	"runtime"
	"slices"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/internal/crash"
	"github.com/nvlint/nvlint/world"
)

// Setup is one independent integration of a run that lints several (a
// monorepo's prod/ and staging/): its own world, in which only its own
// objects satisfy each other. Worlds may share files and objects, which
// were parsed once; rules only read them.
type Setup struct {
	Name  string
	World *world.World
}

// SetupSpec declares a setup: its name, and which files are its.
type SetupSpec struct {
	Name string
	Has  func(*world.File) bool
	// Prepare, when set, readies the setup's world in place of
	// SplitSetups' prepare (the setup's own hints).
	Prepare func(*world.World)
}

// OtherSetup names the setup of the files outside every declared one.
// The parentheses keep it apart from any declared name.
const OtherSetup = "(other files)"

// SplitSetups splits a loaded world into its setups' worlds. A setup
// none of whose files were loaded is left out; the files of no setup
// form one more, OtherSetup. The worlds share the files and objects of
// w, parsed once. prepare, when set, is called on each world in turn
// before any is run (it may settle names on shared objects).
func SplitSetups(w *world.World, specs []SetupSpec, prepare func(*world.World)) []Setup {
	var out []Setup
	var prep []func(*world.World)
	inSome := map[*world.File]bool{}
	for _, s := range specs {
		sub := w.Subset(s.Has)
		if len(sub.Files) == 0 {
			continue
		}
		for _, f := range sub.Files {
			inSome[f] = true
		}
		out = append(out, Setup{Name: s.Name, World: sub})
		if s.Prepare != nil {
			prep = append(prep, s.Prepare)
		} else {
			prep = append(prep, prepare)
		}
	}
	if rest := w.Subset(func(f *world.File) bool { return !inSome[f] }); len(rest.Files) > 0 {
		out = append(out, Setup{Name: OtherSetup, World: rest})
		prep = append(prep, prepare)
	}
	for i, s := range out {
		if prep[i] != nil {
			prep[i](s.World)
		}
	}
	return out
}

// RunSetups runs the catalog over each setup's world, as RunWith does
// over one, and merges the results: every finding and skip names its
// setup, so a problem in a file two setups share is reported once per
// setup that finds it. Setups run a few at a time, each with its rules
// in parallel; a setup's derived facts are dropped when it is done, so
// memory grows with the setups running, not with all of them.
//
// A suppression in a shared file (or an ignore block) is unused only
// when it is unused in every setup that could have used it: one setup's
// finding it accepts is enough to keep it.
func RunSetups(setups []Setup, all []Rule, s Settings) Result {
	results := make([]Result, len(setups))
	var wg sync.WaitGroup
	// A rule's panic is its finding; a panic outside the rules (a bug in
	// the run itself) reaches the caller, not the end of the process.
	var relay crash.Relay
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))
	for i, st := range setups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer relay.Catch()
			results[i] = RunWith(st.World, all, s)
		}()
	}
	wg.Wait()
	relay.Repanic()
	if len(setups) > 1 {
		dropUsedElsewhere(setups, results, s.Ignores)
	}

	out := Result{Ran: map[string]bool{}}
	for i, r := range results {
		name := setups[i].Name
		out.Setups = append(out.Setups, name)
		for _, f := range r.Findings {
			f.Setup = name
			out.Findings = append(out.Findings, f)
		}
		for _, sk := range r.Skipped {
			sk.Setup = name
			out.Skipped = append(out.Skipped, sk)
		}
		for _, sp := range r.Suppressed {
			sp.Finding.Setup = name
			out.Suppressed = append(out.Suppressed, sp)
		}
		for id := range r.Ran {
			out.Ran[id] = true
		}
	}
	out.Findings = SortFindings(out.Findings)
	slices.SortStableFunc(out.Skipped, compareSkips)
	return out
}

// suppressionKey identifies an unused-suppression finding across setups.
type suppressionKey struct {
	rng hcl.Range
	msg string
}

// dropUsedElsewhere removes the unused-suppression findings of a setup
// that another setup, which saw the same suppression, does not share.
func dropUsedElsewhere(setups []Setup, results []Result, ignores []Ignore) {
	reported := make([]map[suppressionKey]bool, len(results))
	for i, r := range results {
		reported[i] = map[suppressionKey]bool{}
		for _, f := range r.Findings {
			if f.Rule != nil && f.Rule.ID == UnusedSuppressionID {
				reported[i][suppressionKey{f.Range, f.Message}] = true
			}
		}
	}
	files := make([]map[string]bool, len(setups))
	for i, st := range setups {
		files[i] = map[string]bool{}
		for _, f := range st.World.Files {
			files[i][f.Path] = true
		}
	}
	// saw reports whether setup j could have used the suppression f is
	// about: it linted the file, or the ignore block was in its scope.
	saw := func(j int, f Finding) bool {
		for k := range ignores {
			if ig := &ignores[k]; ig.Range == f.Range {
				return results[j].Ran[ig.Rule] && ig.inScope(setups[j].World)
			}
		}
		return files[j][f.Range.Filename]
	}
	for i := range results {
		kept := results[i].Findings[:0]
		for _, f := range results[i].Findings {
			if f.Rule != nil && f.Rule.ID == UnusedSuppressionID {
				k := suppressionKey{f.Range, f.Message}
				used := false
				for j := range results {
					if j != i && !reported[j][k] && saw(j, f) {
						used = true
						break
					}
				}
				if used {
					continue
				}
			}
			kept = append(kept, f)
		}
		results[i].Findings = kept
	}
}
