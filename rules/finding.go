package rules

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// Finding is one problem a rule found.
type Finding struct {
	// Rule and Severity are filled in by the engine.
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
	Commands    []string
}

// TextEdit replaces the bytes of Range (Start.Byte to End.Byte, in
// Range.Filename) with NewText. An empty range inserts.
type TextEdit struct {
	Range   hcl.Range
	NewText string
}

// HasFile reports whether the finding points into a file.
func (f *Finding) HasFile() bool { return f.Range.Filename != "" }
