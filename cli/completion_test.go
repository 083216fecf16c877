package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/cli"
)

// flagsOf lists the long flags a command's --help shows.
func flagsOf(t *testing.T, cmd string) []string {
	t.Helper()
	r := nvlint(t, "", nil, cmd, "--help")
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-[a-z], )?--([a-z0-9-]+)`).FindAllStringSubmatch(r.stdout, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatalf("%s --help lists no flags:\n%s", cmd, r.stdout)
	}
	return out
}

// offers runs the completion the shell scripts ask nvlint for, and
// returns the words offered.
func offers(t *testing.T, words ...string) []string {
	t.Helper()
	r := nvlint(t, "", nil, append([]string{"__complete"}, words...)...)
	if r.code != cli.ExitOK {
		t.Fatalf("__complete %q: code %d\n%s", words, r.code, r.stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(l, ":") {
			break
		}
		w, _, _ := strings.Cut(l, "\t")
		if w != "" {
			got = append(got, w)
		}
	}
	return got
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := nvlint(t, "", nil, "completion", shell)
		// The scripts ask nvlint what to complete.
		if r.code != cli.ExitOK || !strings.Contains(r.stdout, "__complete") {
			t.Fatalf("completion %s: code %d\n%s%s", shell, r.code, r.stdout, r.stderr)
		}
		// The script parses, where the shell is installed.
		if path, err := exec.LookPath(shell); err == nil && shell != "powershell" {
			script := filepath.Join(t.TempDir(), "nvlint."+shell)
			if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
	if r := nvlint(t, "", nil, "completion", "tcsh"); r.code != cli.ExitUsage {
		t.Errorf("completion tcsh: code %d", r.code)
	}
}

func TestCompletionOffers(t *testing.T) {
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"expl"}, []string{"explain"}},
		{[]string{"explain", "NV11"}, []string{"NV111", "NV112", "NV113", "NV114", "NV115"}},
		{[]string{"explain", "token-role-not-r"}, []string{"token-role-not-renewable"}},
		{[]string{"help", "li"}, []string{"lint"}},
		{[]string{"lint", "--fail"}, []string{"--fail-on"}},
		{[]string{"lint", "--format", "sa"}, []string{"sarif"}},
		{[]string{"doctor", "--format", "mark"}, []string{"markdown"}},
		{[]string{"rules", "--format", ""}, []string{"text", "json"}},
		{[]string{"access", "--op", "re"}, []string{"read", "recover", "renew", "revoke"}},
		{[]string{"lint", "--kind", "terr"}, []string{"terraform"}},
		{[]string{"lint", "--color", "al"}, []string{"always"}},
		{[]string{"completion", "fi"}, []string{"fish"}},
		{[]string{"completion", "p"}, []string{"powershell"}},
	} {
		if got := offers(t, c.words...); strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%q offers %q, want %q", c.words, got, c.want)
		}
	}
	// Every flag of every command, every rule.
	for _, cmd := range []string{"lint", "doctor", "access", "rules", "explain", "version"} {
		got := strings.Join(offers(t, cmd, "--"), " ")
		for _, f := range flagsOf(t, cmd) {
			if !regexp.MustCompile(`(^| )--` + f + `( |$)`).MatchString(got) {
				t.Errorf("%s: flag --%s is not completed", cmd, f)
			}
		}
	}
	got := strings.Join(offers(t, "explain", ""), " ")
	for _, rl := range checks.All() {
		if !strings.Contains(got, rl.Meta().ID) || !strings.Contains(got, rl.Meta().Name) {
			t.Errorf("rule %s is not completed", rl.Meta().ID)
		}
	}
}

// TestCompletionInBash runs the bash script against the built binary, as
// a shell does.
func TestCompletionInBash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nvlint")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "nvlint"), "../cmd/nvlint")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script := filepath.Join(dir, "nvlint.bash")
	if err := os.WriteFile(script, []byte(nvlint(t, "", nil, "completion", "bash").stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"nvlint expl":             "explain",
		"nvlint explain NV11":     "NV111 NV112 NV113 NV114 NV115",
		"nvlint lint --format sa": "sarif",
		"nvlint lint --fail":      "--fail-on",
	} {
		// _get_comp_words_by_ref comes from the bash-completion package;
		// a minimal one stands in for it.
		prog := `_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
source "$1"
read -r -a COMP_WORDS <<< "$2"
COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}
__start_nvlint 2>/dev/null
printf '%s\n' "${COMPREPLY[*]}"
`
		cmd := exec.Command(bash, "-c", prog, "bash", script, line)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%q offers %q, want %q", line, got, want)
		}
	}
}
