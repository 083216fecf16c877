package cli_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's set-up is what works: an install that does not need a
// published module, the prerequisites of the test suite, the Go version
// go.mod asks for, and the exit codes of every command.
func TestReadmeSetUp(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	// The module path is not published: an install from it fails.
	if m := regexp.MustCompile("(?m)^[^\n]*go (install|run) github.com/nvlint/nvlint/cmd/nvlint@[^\n]*$").FindString(text); m != "" && !strings.Contains(m, "does not work") {
		t.Errorf("README installs from the unpublished module path: %s", m)
	}
	if !strings.Contains(text, "go install ./cmd/nvlint") {
		t.Error("README does not say how to install from a clone")
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil || !strings.Contains(text, "Go "+string(goVersion[1])+" or later") {
		t.Errorf("README does not name the Go version go.mod needs (%s)", goVersion)
	}
	for _, want := range []string{"C compiler", "without `-race`", "GB of disk", "first run"} {
		if !strings.Contains(text, want) {
			t.Errorf("README does not state the prerequisite %q", want)
		}
	}
	// Every command's exit codes.
	help := nvlint(t, "", nil, "help").stdout
	_, list, _ := strings.Cut(help, "Available Commands:")
	list, _, _ = strings.Cut(list, "\n\n")
	table := regexp.MustCompile("(?m)^\\| `[a-z]+`[^\n]*\\|$").FindAllString(text, -1)
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		cmd := strings.Fields(line)[0]
		found := false
		for _, row := range table {
			found = found || strings.Contains(strings.SplitN(row, "|", 3)[1], "`"+cmd+"`")
		}
		if !found {
			t.Errorf("README's exit codes do not cover %s", cmd)
		}
	}
}
