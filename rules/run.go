package rules

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/nvlint/nvlint/internal/crash"
	"github.com/nvlint/nvlint/world"
)

// Result is the outcome of running a catalog over a world.
type Result struct {
	Findings []Finding
	// Skipped lists rules that did not run because an input they need is
	// absent, and rules that ran but could not decide something.
	Skipped []Skip
	// Suppressed are the findings an nvlint:ignore comment or an ignore
	// block of .nvlint.hcl accepted, with the reason given.
	Suppressed []Suppressed
	// Ran holds the IDs of the rules that ran: enabled, with every input
	// they need present.
	Ran map[string]bool
	// Setups names the setups RunSetups ran, in order; nil for one world.
	Setups []string
}

// Skip says why a rule was silent.
type Skip struct {
	Rule   *Meta
	Reason string
	// Setup is the setup the rule was silent in, as Finding.Setup.
	Setup string
}

// Run runs every rule over w and applies the nvlint:ignore comments of
// its files: RunWith with default settings. Rules run concurrently; a
// rule that panics becomes a finding instead of taking the run down.
// Findings come back sorted and de-duplicated.
func Run(w *world.World, all []Rule) Result {
	return RunWith(w, all, Settings{})
}

// LiveSkipReason is why a Live rule did not run.
const LiveSkipReason = "needs running clusters (nvlint doctor, or lint --snapshot)"

// run runs the rules, without suppressions or overrides.
func run(w *world.World, all []Rule) Result {
	// Facts several rules derive (a workload's token, objects by name)
	// are worked out once for the whole run.
	defer w.Memoize()()
	present := presentKinds(w)
	var (
		mu  sync.Mutex
		res = Result{Ran: map[string]bool{}}
		wg  sync.WaitGroup
		sem = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for _, r := range all {
		m := r.Meta()
		if missing := missingNeeds(m, present); len(missing) > 0 {
			mu.Lock()
			res.Skipped = append(res.Skipped, Skip{Rule: m, Reason: "needs " + joinKinds(missing)})
			mu.Unlock()
			continue
		}
		if m.Live && w.Live == nil {
			mu.Lock()
			res.Skipped = append(res.Skipped, Skip{Rule: m, Reason: LiveSkipReason})
			mu.Unlock()
			continue
		}
		res.Ran[m.ID] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var found []Finding
			var notes []Skip
			p := &Pass{
				World:     w,
				Rule:      m,
				report:    func(f Finding) { found = append(found, f) },
				undecided: func(s string) { notes = append(notes, Skip{Rule: m, Reason: s}) },
			}
			func() {
				defer func() {
					if v := recover(); v != nil {
						v, c := crash.Of(v)
						found = append(found, Finding{
							Rule: m, Severity: Error,
							Message:  fmt.Sprintf("rule %s crashed: %v (this is a bug in nvlint; please report it with the stack --verbose prints)", m.Name, v),
							Evidence: []string{"at " + c.Where},
							Trace:    c.Stack,
						})
					}
				}()
				r.Check(p)
			}()
			mu.Lock()
			res.Findings = append(res.Findings, found...)
			res.Skipped = append(res.Skipped, notes...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Findings = SortFindings(res.Findings)
	slices.SortStableFunc(res.Skipped, compareSkips)
	res.Skipped = slices.CompactFunc(res.Skipped, func(a, b Skip) bool { return compareSkips(a, b) == 0 })
	return res
}

// SortFindings orders findings by setup, file, position, rule and
// message, and drops exact duplicates.
func SortFindings(fs []Finding) []Finding {
	slices.SortStableFunc(fs, compareFindings)
	return slices.CompactFunc(fs, func(a, b Finding) bool { return compareFindings(a, b) == 0 })
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Setup, b.Setup),
		cmp.Compare(a.Range.Filename, b.Range.Filename),
		cmp.Compare(a.Range.Start.Line, b.Range.Start.Line),
		cmp.Compare(a.Range.Start.Column, b.Range.Start.Column),
		cmp.Compare(a.Range.End.Line, b.Range.End.Line),
		cmp.Compare(a.Range.End.Column, b.Range.End.Column),
		cmp.Compare(a.Object.Kind, b.Object.Kind),
		cmp.Compare(a.Object.Name, b.Object.Name),
		cmp.Compare(a.Rule.ID, b.Rule.ID),
		cmp.Compare(a.Message, b.Message),
	)
}

func compareSkips(a, b Skip) int {
	return cmp.Or(cmp.Compare(a.Setup, b.Setup), cmp.Compare(a.Rule.ID, b.Rule.ID), cmp.Compare(a.Reason, b.Reason))
}

func presentKinds(w *world.World) map[world.Kind]bool {
	return map[world.Kind]bool{
		world.KindJobspec:       len(w.Jobs) > 0,
		world.KindAgentConfig:   len(w.Agents) > 0,
		world.KindPolicy:        len(w.PolicyTexts()) > 0,
		world.KindTokenRole:     len(w.TokenRoles) > 0,
		world.KindJWTAuthConfig: len(w.JWTConfigs) > 0,
		world.KindJWTRole:       len(w.JWTRoles) > 0 || w.JWTRolesListed(),
	}
}

func missingNeeds(m *Meta, present map[world.Kind]bool) []world.Kind {
	var missing []world.Kind
	for _, k := range m.Needs {
		if !present[k] {
			missing = append(missing, k)
		}
	}
	return missing
}

func joinKinds(ks []world.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = k.Noun()
	}
	return strings.Join(s, " and ")
}
