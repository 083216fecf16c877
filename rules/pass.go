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

// Report records a finding.
func (p *Pass) Report(f Finding) {
	f.Rule = p.Rule
	f.Severity = p.Rule.Severity
	p.report(f)
}

// CannotDecide records that the rule could not check something for lack of
// input, so that --verbose can say why a rule stayed silent. A rule calls
// it instead of guessing.
func (p *Pass) CannotDecide(format string, args ...any) {
	p.undecided(fmt.Sprintf(format, args...))
}
