package rules_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/internal/crash"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

type crashing struct{}

var crashingMeta = rules.Meta{ID: "NV999", Name: "crashing", Title: "crashes", Severity: rules.Warning,
	Doc: rules.Doc{Why: "test", Example: "test", Fix: "test"}}

func (crashing) Meta() *rules.Meta { return &crashingMeta }

func (crashing) Check(*rules.Pass) {
	var f *world.File
	_ = f.Src // a nil dereference, as a fix builder given a live object made
}

// TestCrashReport: a rule that panics becomes a finding that says where,
// keeps its stack for --verbose only, and names no directory of the
// machine the binary was built on.
func TestCrashReport(t *testing.T) {
	res := rules.Run(&world.World{}, []rules.Rule{crashing{}})
	if len(res.Findings) != 1 {
		t.Fatalf("findings: %+v", res.Findings)
	}
	f := res.Findings[0]
	if !strings.Contains(f.Message, "rule crashing crashed: runtime error: invalid memory address or nil pointer dereference") {
		t.Errorf("message: %s", f.Message)
	}
	if len(f.Evidence) != 1 || !strings.HasPrefix(f.Evidence[0], "at rules/crash_test.go:") || !strings.Contains(f.Evidence[0], "crashing.Check") {
		t.Errorf("evidence: %q", f.Evidence)
	}
	if !strings.Contains(f.Trace, "rules/crash_test.go:") || strings.Contains(f.Trace, "runtime.gopanic") {
		t.Errorf("trace:\n%s", f.Trace)
	}
	wd, _ := os.Getwd()
	goroot, _ := exec.Command("go", "env", "GOROOT").Output()
	for _, dir := range []string{filepath.Dir(wd), strings.TrimSpace(string(goroot)), filepath.Join(os.Getenv("HOME"), "go")} {
		for _, s := range append([]string{f.Message, f.Trace}, f.Evidence...) {
			if dir != "" && strings.Contains(s, dir) {
				t.Errorf("%q names the build directory %s", s, dir)
			}
		}
	}

	rep := &reports.Report{Findings: res.Findings}
	var quiet, verbose bytes.Buffer
	if err := reports.Write(&quiet, reports.FormatText, rep, reports.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := reports.Write(&verbose, reports.FormatText, rep, reports.Options{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(quiet.String(), "crashing.Check\n") || strings.Contains(quiet.String(), "stack of the crash") {
		t.Errorf("the stack is printed without --verbose:\n%s", quiet.String())
	}
	if !strings.Contains(verbose.String(), "stack of the crash of NV999 crashing") || !strings.Contains(verbose.String(), "rules/crash_test.go:") {
		t.Errorf("--verbose does not print the stack:\n%s", verbose.String())
	}
}

// TestSetupPanicReachesCaller: setups run on goroutines of their own; a
// panic outside the rules (here a setup without a world) reaches the
// caller, which can report it, instead of ending the process.
func TestSetupPanicReachesCaller(t *testing.T) {
	defer func() {
		v := recover()
		if v == nil {
			t.Fatal("no panic reached the caller")
		}
		if _, ok := v.(crash.Relayed); !ok {
			t.Fatalf("panic %v (%T) is not relayed", v, v)
		}
	}()
	rules.RunSetups([]rules.Setup{{Name: "ok", World: &world.World{}}, {Name: "broken"}}, nil, rules.Settings{})
}
