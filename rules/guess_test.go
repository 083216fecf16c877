package rules

import (
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// guessRule reports an error with an edit that rests on the name of
// object ref.
type guessRule struct {
	meta *Meta
	ref  world.ObjectRef
}

func (r guessRule) Meta() *Meta { return r.meta }
func (r guessRule) Check(p *Pass) {
	at := hcl.Range{Filename: "f.json", Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 2, Byte: 1}}
	p.Report(Finding{
		Message: "names a role that is not given", Range: at, Assumes: []world.ObjectRef{r.ref},
		Fixes: []Fix{{Description: "rename", Edits: []TextEdit{{Range: at, NewText: "x"}}, Commands: []Command{Template("vault write ...")}}},
	})
}

// Whatever the rule says and however .nvlint.hcl raises it, a finding
// that rests on a guessed or unknown name is at most a warning and edits
// nothing; one that rests on a declared name keeps both.
func TestFindingsOnGuessesAreNotCertain(t *testing.T) {
	doc := Doc{Why: "w", Example: "e", Fix: "f"}
	w := &world.World{Files: []*world.File{{Path: "f.json", Src: []byte("{}")}}}
	for _, c := range []struct {
		source  world.NameSource
		certain bool
	}{
		{world.NameFromFileName, false},
		{world.NameUnknown, false},
		{world.NameFromConfig, true},
		{world.NameFromFlag, true},
		{world.NameFromSetupVault, true},
	} {
		meta := &Meta{ID: "NV224", Name: "x", Title: "t", Severity: Error, Doc: doc}
		rule := guessRule{meta, world.ObjectRef{Kind: world.KindJWTRole, Name: "acl", NameSource: c.source}}
		for _, set := range []Settings{{}, {Severity: map[string]Severity{"NV224": Error}}} {
			res := RunWith(w, []Rule{rule}, set)
			if len(res.Findings) != 1 {
				t.Fatalf("%s: %d findings", c.source, len(res.Findings))
			}
			f := res.Findings[0]
			if got := f.Severity == Error && len(f.Fixes[0].Edits) == 1; got != c.certain {
				t.Errorf("%s: severity %v, edits %d; want certain=%v", c.source, f.Severity, len(f.Fixes[0].Edits), c.certain)
			}
			if len(f.Fixes[0].Commands) != 1 {
				t.Errorf("%s: the command to review was dropped", c.source)
			}
		}
	}
}
