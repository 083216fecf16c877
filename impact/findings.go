package impact

import (
	"github.com/nvlint/nvlint/baseline"
	"github.com/nvlint/nvlint/rules"
)

// Findings splits the findings of base and head as a baseline matches
// them (rule, file relative to its root, object, message; never the
// line): introduced are the head's that the base does not have, fixed the
// base's that the head does not have. baseRoot and headRoot are the
// directories the two sides' paths are relative to.
func Findings(baseRoot string, base []rules.Finding, headRoot string, head []rules.Finding) (introduced, fixed []rules.Finding) {
	bk, hk := baseline.Keyer{Root: baseRoot}, baseline.Keyer{Root: headRoot}
	introduced = baseline.New(bk, base).Filter(hk, head, nil).New
	fixed = baseline.New(hk, head).Filter(bk, base, nil).New
	return introduced, fixed
}
