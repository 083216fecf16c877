package rules

import "github.com/nvlint/nvlint/world"

// withQuotedNames widens each edit that starts at a name an agent config
// writes in quotes, HCL 1's way ("token" = "..."), and runs past it, to
// take the opening quote too: removing or replacing the whole argument
// must not leave a stray '"'. An edit of the name alone stays inside the
// quotes, which HCL 1 still reads.
func withQuotedNames(w *world.World, f *Finding) {
	if w == nil {
		return
	}
	quoted := world.Derived(w, quotedNamesKey, filesWithQuotedNames)
	if len(quoted) == 0 {
		return
	}
	for i := range f.Fixes {
		for j := range f.Fixes[i].Edits {
			e := &f.Fixes[i].Edits[j]
			for _, q := range quoted[e.Range.Filename] {
				if e.Range.Start.Byte == q[0]+1 && e.Range.End.Byte > q[1] {
					e.Range.Start.Byte--
					e.Range.Start.Column--
				}
			}
		}
	}
}

var quotedNamesKey = world.NewDerivedKey("agent configs with quoted names")

func filesWithQuotedNames(w *world.World) map[string][][2]int {
	out := map[string][][2]int{}
	for _, f := range w.Files {
		if len(f.QuotedNames) > 0 {
			out[f.Path] = f.QuotedNames
		}
	}
	return out
}
