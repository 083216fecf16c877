package rules

import (
	"fmt"
	"slices"

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
	f.Fixes = dropFileless(f.Fixes)
	withQuotedNames(p.World, &f)
	forTerraform(p.World, &f)
	guessedInCommands(p.World, &f)
	forCluster(p.World, &f)
	p.report(f)
}

// dropFileless removes the edits that name no file: a fix builder given
// a live object (which has none) makes them, and there is nothing to
// apply them to. The fix stays, with its commands, or as advice.
func dropFileless(fixes []Fix) []Fix {
	for i, fx := range fixes {
		if !slices.ContainsFunc(fx.Edits, func(e TextEdit) bool { return e.Range.Filename == "" }) {
			continue
		}
		var kept []TextEdit
		for _, e := range fx.Edits {
			if e.Range.Filename != "" {
				kept = append(kept, e)
			}
		}
		fixes[i].Edits = kept
	}
	return fixes
}

// CannotDecide records that the rule could not check something for lack of
// input, so that --verbose can say why a rule stayed silent. A rule calls
// it instead of guessing.
func (p *Pass) CannotDecide(format string, args ...any) {
	p.undecided(fmt.Sprintf(format, args...))
}
