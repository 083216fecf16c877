package impact

import (
	"fmt"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/world"
)

// TaskRead is one Vault call a task makes, decided with its token.
type TaskRead struct {
	// Key identifies the call across base and head: the source and the
	// call as written, so an edit elsewhere in the job does not make it
	// another read.
	Key string
	access.Read
}

// Reads lists every Vault call a workload makes (access.TaskReads: its
// secret blocks' reads, then its templates' calls), each decided by
// access.Token.Read, the evaluation lint and access use. Notes are calls
// that cannot be decided offline (a path built at render time, a
// template that does not parse).
func Reads(w *world.World, wl access.Workload, tok access.Token) (reads []TaskRead, notes []string) {
	for _, tpl := range wl.Task.Templates {
		if !tpl.Data.Known {
			continue
		}
		if _, err := tpl.VaultCalls(); err != nil {
			notes = append(notes, fmt.Sprintf("a template of %s does not parse: %v", wl, err))
		}
	}
	seen := map[string]int{}
	for _, r := range access.TaskReads(wl.Task) {
		call := r.Call
		if call.Dynamic {
			notes = append(notes, fmt.Sprintf("%s of %s reads a path not known offline (prefix %q): not compared", r.Source(), wl, call.Prefix))
			continue
		}
		source := "template"
		if r.Secret != nil {
			source = "secret " + r.Secret.Name.V
		}
		key := source + " " + call.Func + " " + call.Op + " " + call.Path
		// The same call twice is one read.
		if seen[key]++; seen[key] > 1 {
			continue
		}
		reads = append(reads, TaskRead{Key: key, Read: tok.Read(w, call)})
	}
	return reads, notes
}
