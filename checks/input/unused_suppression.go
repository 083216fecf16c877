package input

import (
	"github.com/nvlint/nvlint/rules"
)

// UnusedSuppression reports nvlint:ignore comments and ignore blocks of
// .nvlint.hcl that accept no finding. The engine reports it once every
// other rule has run (rules.RunWith); its Check does nothing.
var UnusedSuppression rules.Rule = unusedSuppression{}

type unusedSuppression struct{}

func (unusedSuppression) Meta() *rules.Meta { return &unusedSuppressionMeta }

var unusedSuppressionMeta = rules.Meta{
	ID: rules.UnusedSuppressionID, Name: "unused-suppression", Severity: rules.Warning,
	Title: "a suppression accepts no finding",
	Doc: rules.Doc{
		Why: "A suppression outlives the problem it accepted: the file was fixed, the rule changed, or the comment sits on the wrong line. " +
			"Left in place it silently hides the next, different problem of that rule on that line. A suppression for a rule that did not run " +
			"(disabled, or missing an input it needs) is not reported.",
		Example: "# nvlint:ignore NV303 migrating to workload identity in Q3\nenabled = true",
		Fix:     "Remove the comment (nvlint lint --fix does) or the ignore block, or move it to the line of the finding it was meant for.",
	},
}

func (unusedSuppression) Check(*rules.Pass) {}
