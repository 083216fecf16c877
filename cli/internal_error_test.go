package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

// TestInternalErrorReport: a bug that panics outside any rule or reader
// ends the run with exit 3, the panic, where it happened and the stack,
// naming no directory of the machine nvlint was built on.
func TestInternalErrorReport(t *testing.T) {
	var out, errb bytes.Buffer
	code := cli.Main([]string{"lint", "--format", "json", filepath.Join("..", "fixtures", "examples", "workload-identity")}, cli.Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { panic("environment broke") },
	})
	if code != cli.ExitInternal {
		t.Fatalf("exit %d, want %d\n%s", code, cli.ExitInternal, errb.String())
	}
	msg := errb.String()
	if !strings.HasPrefix(msg, "nvlint: internal error: environment broke at cli/internal_error_test.go:") || !strings.Contains(msg, "Please report this.") {
		t.Errorf("report:\n%s", msg)
	}
	wd, _ := os.Getwd()
	if strings.Contains(msg, filepath.Dir(wd)) {
		t.Errorf("report names the build directory %s:\n%s", filepath.Dir(wd), msg)
	}
}
