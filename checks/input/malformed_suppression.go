package input

import (
	"github.com/nvlint/nvlint/rules"
)

// MalformedSuppression reports nvlint: comments nvlint cannot honour.
// The engine reports it (rules.RunWith); its Check does nothing.
var MalformedSuppression rules.Rule = malformedSuppression{}

type malformedSuppression struct{}

func (malformedSuppression) Meta() *rules.Meta { return &malformedSuppressionMeta }

var malformedSuppressionMeta = rules.Meta{
	ID: rules.MalformedSuppressionID, Name: "malformed-suppression", Severity: rules.Error,
	Title: "a suppression comment cannot be honoured",
	Doc: rules.Doc{
		Why: "A suppression must name known rules and say why: `# nvlint:ignore RULE reason`. One without a reason, naming an unknown rule, " +
			"or an nvlint:ignore-file below the first line of configuration suppresses nothing, so the finding it was meant for is still reported.",
		Example: "token = \"...\"  # nvlint:ignore NV301",
		Fix:     "Write the rule's ID or name and a reason: `# nvlint:ignore NV301 dev cluster, token is a throwaway`; put nvlint:ignore-file in the file's leading comments.",
	},
}

func (malformedSuppression) Check(*rules.Pass) {}
