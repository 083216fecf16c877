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

// Reads lists every Vault call a workload makes, each decided by
// access.Token.Read, the evaluation lint and access use. It is the one
// place impact learns a task's reads: another source of reads (a task's
// secret blocks) is added here. Notes are calls that cannot be decided
// offline (a path built at render time, a template that does not parse).
func Reads(w *world.World, wl access.Workload, tok access.Token) (reads []TaskRead, notes []string) {
	seen := map[string]int{}
	for _, tpl := range wl.Task.Templates {
		if !tpl.Data.Known {
			continue
		}
		calls, err := tpl.VaultCalls()
		if err != nil {
			notes = append(notes, fmt.Sprintf("a template of %s does not parse: %v", wl, err))
			continue
		}
		for _, call := range calls {
			if call.Dynamic {
				notes = append(notes, fmt.Sprintf("%s reads a path built at render time (prefix %q): not compared", wl, call.Prefix))
				continue
			}
			key := "template " + call.Func + " " + call.Op + " " + call.Path
			// The same call twice is one read.
			if seen[key]++; seen[key] > 1 {
				continue
			}
			reads = append(reads, TaskRead{Key: key, Read: tok.Read(w, call)})
		}
	}
	return reads, notes
}
