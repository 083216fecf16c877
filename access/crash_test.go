package access_test

import (
	"strings"
	"testing"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/rules"
)

// TestResolvePanicReachesRules: the tokens of a run are worked out on
// worker goroutines, where a panic would end the process. A bug there
// must instead become a finding of each rule that asked, saying where
// it happened, and the other rules must still run.
func TestResolvePanicReachesRules(t *testing.T) {
	w := load(t, "workload-identity", nil)
	defer access.PanicInResolve("resolve failed")()
	res := rules.Run(w, checks.All())
	crashed := 0
	for _, f := range res.Findings {
		if !strings.Contains(f.Message, "crashed") {
			continue
		}
		crashed++
		if !strings.Contains(f.Message, "crashed: resolve failed (this is a bug in nvlint") {
			t.Errorf("message: %s", f.Message)
		}
		if len(f.Evidence) != 1 || !strings.HasPrefix(f.Evidence[0], "at access/export_test.go:") {
			t.Errorf("%s: evidence %q, want where the worker panicked", f.Rule.ID, f.Evidence)
		}
		if !strings.Contains(f.Trace, "access.resolveAll") {
			t.Errorf("%s: trace does not pass through the worker:\n%s", f.Rule.ID, f.Trace)
		}
	}
	if crashed == 0 {
		t.Fatal("no rule reported the crash")
	}
	if len(res.Ran) <= crashed {
		t.Errorf("%d rules ran, %d crashed: the others should run to the end", len(res.Ran), crashed)
	}
}
