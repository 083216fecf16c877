package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/cli"
)

// flagsOf lists the flags a command's -h shows.
func flagsOf(t *testing.T, cmd string) []string {
	t.Helper()
	r := nvlint(t, "", nil, cmd, "-h")
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(r.stderr+r.stdout, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatalf("%s -h lists no flags:\n%s", cmd, r.stderr)
	}
	return out
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := nvlint(t, "", nil, "completion", shell)
		if r.code != cli.ExitOK || r.stdout == "" {
			t.Fatalf("completion %s: code %d\n%s", shell, r.code, r.stderr)
		}
		// Every flag of every command, every rule, every format.
		for _, cmd := range []string{"lint", "doctor", "access", "rules", "version"} {
			for _, f := range flagsOf(t, cmd) {
				want := "--" + f
				if shell == "fish" {
					want = "-l " + f
				}
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%s: %s flag %s is not completed", shell, cmd, f)
				}
			}
		}
		for _, rl := range checks.All() {
			if !regexp.MustCompile(`\b`+rl.Meta().ID+`\b`).MatchString(r.stdout) || !strings.Contains(r.stdout, rl.Meta().Name) {
				t.Errorf("%s: rule %s is not completed", shell, rl.Meta().ID)
			}
		}
		for _, want := range []string{"sarif", "terraform", "explain", "completion"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: %q is not completed", shell, want)
			}
		}
		// The script parses, where the shell is installed.
		if path, err := exec.LookPath(shell); err == nil {
			script := filepath.Join(t.TempDir(), "nvlint."+shell)
			if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
	if r := nvlint(t, "", nil, "completion", "powershell"); r.code != cli.ExitUsage {
		t.Errorf("completion powershell: code %d", r.code)
	}
}

// complete runs the shell's completion for a command line and returns
// what it offers.
func completeIn(t *testing.T, shell, line string) []string {
	t.Helper()
	path, err := exec.LookPath(shell)
	if err != nil {
		t.Skipf("%s is not installed", shell)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "nvlint."+shell)
	if err := os.WriteFile(script, []byte(nvlint(t, "", nil, "completion", shell).stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	words := strings.Split(line, " ")
	var prog string
	switch shell {
	case "bash":
		prog = "source " + script + "\nCOMP_WORDS=(" + quoteWords(words) + ")\nCOMP_CWORD=" + itoa(len(words)-1) + "\n_nvlint\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	case "zsh":
		// compadd and friends stubbed: print what would be offered.
		prog = "compdef() { :; }\ncompadd() { [[ $1 == -- ]] && shift; print -l -- \"$@\"; }\n_describe() { local n=$2; print -l -- ${(P)n%%:*}; }\n_files() { print FILES; }\n" +
			"source " + script + "\nwords=(" + quoteWords(words) + ")\nCURRENT=" + itoa(len(words)) + "\nPREFIX=" + shellQuote(words[len(words)-1]) + "\n_nvlint\n"
	case "fish":
		prog = "source " + script + "\ncomplete -C " + shellQuote(line) + "\n"
	}
	out, err := exec.Command(path, "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		w, _, _ := strings.Cut(l, "\t")
		if w = strings.TrimSpace(w); w != "" && strings.HasPrefix(w, words[len(words)-1]) {
			got = append(got, w)
		}
	}
	return got
}

func quoteWords(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func itoa(n int) string { return strconv.Itoa(n) }

func TestCompletionOffers(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			for _, c := range []struct {
				line string
				want []string
			}{
				{"nvlint expl", []string{"explain"}},
				{"nvlint explain NV11", []string{"NV111", "NV112", "NV113", "NV114", "NV115"}},
				{"nvlint explain token-role-not-r", []string{"token-role-not-renewable"}},
				{"nvlint lint --fail", []string{"--fail-on"}},
				{"nvlint lint --format sa", []string{"sarif"}},
				{"nvlint lint --kind terr", []string{"terraform"}},
				{"nvlint completion fi", []string{"fish"}},
			} {
				got := completeIn(t, shell, c.line)
				if strings.Join(got, " ") != strings.Join(c.want, " ") {
					t.Errorf("%q offers %q, want %q", c.line, got, c.want)
				}
			}
		})
	}
}
