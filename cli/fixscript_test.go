package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

// stub records the argv it was run with, NUL-separated, in a file of
// its own under $STUB_LOG; it uses shell builtins only.
const stub = `#!/bin/sh
printf '%s\0' "${0##*/}" "$@" > "$STUB_LOG/$$"
`

// hostileNames are policy names (and file names) a shell must not read
// as code or as more than one word.
var hostileNames = []string{
	"my policy $(touch pwned-subst)",
	`it's "quoted"`,
	"`touch pwned-backtick`",
	"line\nbreak $(touch pwned-newline)",
	"-rf; touch pwned-dash",
	"a;b|c&d>e<f*?[x]~{y} #z",
	"tab\there\\back",
}

// TestFixScriptRunsOnlyWhatItSays runs the script of lint --fix
// --fix-script with stub vault and nomad first on PATH (and nothing
// else), over policy files with hostile names in a hostile directory:
// each stub must get exactly the intended argv, and nothing else may run.
func TestFixScriptRunsOnlyWhatItSays(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	seed := "../fixtures/cases/NV101-server-policy-missing-capability/bad-no-revoke-accessor"
	root := filepath.Join(t.TempDir(), "work $(touch pwned-dir) 'd'")
	bin := t.TempDir()
	for _, name := range []string{"vault", "nomad"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range hostileNames {
		t.Run(strings.ReplaceAll(name, "\n", `\n`), func(t *testing.T) {
			dir := filepath.Join(root, string(rune('a'+i)))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for from, to := range map[string]string{
				"nomad-server-policy.hcl": name + ".hcl",
				"nomad-cluster-role.json": "nomad-cluster-role.json",
				"server.hcl":              "server.hcl",
			} {
				write(t, filepath.Join(dir, to), read(t, filepath.Join(seed, from)))
			}
			// --fix adds the missing path to the policy and the server's
			// policy to the role's disallowed_policies; the script pushes
			// both.
			policyArgs := []string{name, filepath.Join(dir, name+".hcl")}
			if strings.HasPrefix(name, "-") {
				policyArgs = append([]string{"--"}, policyArgs...)
			}
			want := [][]string{
				append([]string{"vault", "policy", "write"}, policyArgs...),
				{"vault", "write", "auth/token/roles/nomad-cluster", "@" + filepath.Join(dir, "nomad-cluster-role.json")},
			}
			// The policy's name is declared: nvlint edits nothing on a
			// name it only guessed from a file name.
			got, script := runFixScript(t, sh, bin, dir, "--name", filepath.Join(dir, name+".hcl")+"="+name)
			key := func(argv []string) string { return strings.Join(argv, "\x00") }
			sortArgv := func(a, b []string) int { return strings.Compare(key(a), key(b)) }
			slices.SortFunc(got, sortArgv)
			slices.SortFunc(want, sortArgv)
			if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
				t.Errorf("the stubs were run with\n%q\nwant\n%q\nscript:\n%s", got, want, script)
			}
		})
	}
	_ = filepath.WalkDir(filepath.Dir(root), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), "pwned") {
			t.Errorf("a name ran as code: %s exists", p)
		}
		return nil
	})
}

// runFixScript runs lint --fix --fix-script on dir, then the script with
// only the stubs in bin on PATH, and returns the argv of every stub run.
func runFixScript(t *testing.T, sh, bin, dir string, flags ...string) ([][]string, string) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "fix.sh")
	var out, errb bytes.Buffer
	args := append([]string{"lint", "--fix", "--fix-script", script}, flags...)
	code := cli.Main(append(args, dir), cli.Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" },
	})
	if code != cli.ExitOK {
		t.Fatalf("lint --fix: exit %d\n%s%s", code, out.String(), errb.String())
	}
	text := read(t, script)
	logs, run := t.TempDir(), t.TempDir()
	cmd := exec.Command(sh, script)
	cmd.Dir = run
	cmd.Env = []string{"PATH=" + bin, "STUB_LOG=" + logs, "HOME=" + run}
	var serr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &serr, &serr
	if err := cmd.Run(); err != nil || serr.Len() > 0 {
		t.Fatalf("the script failed (%v): a command other than vault or nomad ran, or a word was split\noutput: %s\nscript:\n%s", err, serr.String(), text)
	}
	if matches, _ := filepath.Glob(filepath.Join(run, "pwned*")); len(matches) > 0 {
		t.Errorf("a name ran as code: %v", matches)
	}
	entries, err := os.ReadDir(logs)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, e := range entries {
		got = append(got, strings.Split(strings.TrimSuffix(read(t, filepath.Join(logs, e.Name())), "\x00"), "\x00"))
	}
	return got, text
}
