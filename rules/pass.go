package rules

import (
	"fmt"

	"github.com/nvlint/nvlint/world"
)

// Pass is everything a rule sees during one run: the world and the means
// to report.
type Pass struct {
	World *world.World
	Rule  *Meta

	report    func(Finding)
	undecided func(string)
}

// Report records a finding. Its severity is the rule's, unless the rule
// set one for this finding (a deprecation that is an error on the
// targeted release, say).
func (p *Pass) Report(f Finding) {
	f.Rule = p.Rule
	if f.Severity == 0 {
		f.Severity = p.Rule.Severity
	}
	if f.RestsOnGuess() {
		// What rests on a guess is not certain to break, and nvlint does
		// not edit files for it.
		f.Severity = min(f.Severity, Warning)
		for i := range f.Fixes {
			f.Fixes[i].Edits = nil
		}
	}
	forTerraform(p.World, &f)
	p.report(f)
}

// CannotDecide records that the rule could not check something for lack of
// input, so that --verbose can say why a rule stayed silent. A rule calls
// it instead of guessing.
func (p *Pass) CannotDecide(format string, args ...any) {
	p.undecided(fmt.Sprintf(format, args...))
}
