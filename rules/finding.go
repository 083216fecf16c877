package rules

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// Finding is one problem a rule found.
type Finding struct {
	// Rule is filled in by the engine, and Severity too unless the rule
	// sets it; a severity override in .nvlint.hcl replaces it.
	Rule     *Meta
	Severity Severity
	// Message names the object and the problem, lower case, no period.
	Message string
	// Range is where the problem is written; zero for live objects.
	Range  hcl.Range
	Object world.ObjectRef
	// Evidence lists the facts the finding rests on, one per line: the
	// value seen, the value needed, the policy rule that decided.
	Evidence []string
	// Related points at other places that take part (the role a job is
	// checked against, the policy that grants too much).
	Related []Related
	Fixes   []Fix
	// Assumes are the objects whose names the finding rests on when
	// those names are not facts: guessed from a file name, or known only
	// to Terraform. Report keeps such a finding below error and drops its
	// edits, since a fix written for a wrong guess breaks a working setup.
	Assumes []world.ObjectRef
	// Trace is the stack of a rule that crashed, without the build
	// machine's paths; reports print it only when asked to be verbose.
	Trace string
	// Setup names the setup whose world the finding is about, when the
	// run lints several (setup blocks of .nvlint.hcl, lint
	// --setup-per-dir); empty otherwise.
	Setup string
	// Cluster is the Vault cluster the finding is about when it is not
	// the default one and the finding's object does not say (an agent
	// config's vault block, a job's): Report names it in the message and
	// sends the fix's vault commands there.
	Cluster string
}

// RestsOnGuess reports whether the finding rests on a name nvlint
// guessed or could not know.
func (f *Finding) RestsOnGuess() bool {
	for _, r := range f.Assumes {
		if r.Guessed() || !r.NameKnown() {
			return true
		}
	}
	return false
}

// Related is a secondary location.
type Related struct {
	Message string
	Range   hcl.Range
}

// Fix is one way to resolve a finding. Fixes are alternatives; at most
// one is applied. Edits change files; Commands are shell commands against
// a live cluster, printed for review and never run by nvlint.
type Fix struct {
	// Description is a verb phrase: "Add nomad-server to disallowed_policies".
	Description string
	Edits       []TextEdit
	Commands    []Command
	// Manual marks a fix that needs a decision first (migrate, then remove
	// the legacy key; supply the token elsewhere, then delete it): it is
	// shown, and nvlint lint --fix leaves it to the user.
	Manual bool
}

// TextEdit replaces the bytes of Range (Start.Byte to End.Byte, in
// Range.Filename) with NewText. An empty range inserts.
type TextEdit struct {
	Range   hcl.Range
	NewText string
}

// HasFile reports whether the finding points into a file.
func (f *Finding) HasFile() bool { return f.Range.Filename != "" }

// Fixable reports whether nvlint lint --fix would change files for the
// finding: its first fix has edits, every one in a file (not standard
// input), and is not Manual.
func (f *Finding) Fixable() bool {
	if len(f.Fixes) == 0 || len(f.Fixes[0].Edits) == 0 || f.Fixes[0].Manual {
		return false
	}
	for _, e := range f.Fixes[0].Edits {
		if e.Range.Filename == "" || e.Range.Filename == "-" {
			return false
		}
	}
	return true
}
