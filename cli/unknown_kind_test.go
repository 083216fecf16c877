package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Markdown file named on the command line is NV002 and nothing else:
// the suppression syntax its prose quotes is not read as suppressions.
func TestLintMarkdownNoSuppressions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	must(t, os.WriteFile(path, []byte("# Suppressions\n\n- `# nvlint:ignore RULE reason` (or `//`)\n- `# nvlint:ignore-file RULE reason` at the top\n"), 0o644))
	r := nvlint(t, "", nil, "lint", "--color", "never", path)
	if !strings.Contains(r.stdout, "NV002") || strings.Contains(r.stdout, "NV005") {
		t.Errorf("exit %d, want NV002 alone:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
